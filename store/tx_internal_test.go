package store

import (
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMessageIDBySID_WithoutDecoding: the duplicate check reads the SID index and
// looks the message's key up, and decodes nothing, so a record that would not
// decode still counts as stored; a SID index entry whose message is gone does not.
func TestMessageIDBySID_WithoutDecoding(t *testing.T) {
	s := openTest(t, Options{})
	_, conv, m := fixture(t, s)
	key := pairKey(conv.ID, m.ID)
	raw(t, s, func(btx *bolt.Tx) error { return btx.Bucket(bucketMessages).Put(key, []byte("{not json")) })
	err := s.View(t.Context(), func(rt hotline.ReadTx) error {
		if _, err := rt.MessageBySID("SM1"); err == nil || hotline.IsNotFound(err) {
			t.Errorf("MessageBySID of an undecodable record: %v, want a decoding error", err)
		}
		convID, id, err := rt.MessageIDBySID("SM1")
		if err != nil || convID != conv.ID || id != m.ID {
			t.Errorf("MessageIDBySID = %s %s, %v; want %s %s", convID, id, err, conv.ID, m.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	raw(t, s, func(btx *bolt.Tx) error { return btx.Bucket(bucketMessages).Delete(key) })
	err = s.View(t.Context(), func(rt hotline.ReadTx) error {
		_, _, err := rt.MessageIDBySID("SM1")
		if !hotline.IsNotFound(err) {
			t.Errorf("MessageIDBySID of a dangling index entry: %v, want ENOTFOUND", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
