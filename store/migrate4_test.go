package store

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMigration4 takes a schema-3 file holding a conversation to schema 4: the
// canned_responses bucket appears, what was there stays, canned responses can be
// written, read and deleted, and the file passes Check.
func TestMigration4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	s3, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_, conv, m := fixture(t, s3)
	// Take the file back to schema 3, as a binary from before migration 4 left it.
	raw(t, s3, func(btx *bolt.Tx) error {
		for _, name := range schema4Buckets {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return setSchemaVersion(btx, 3)
	})
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, Options{NoSync: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	raw(t, s, func(btx *bolt.Tx) error {
		for _, name := range schema4Buckets {
			if btx.Bucket(name) == nil {
				t.Errorf("bucket %s missing after migration 4", name)
			}
		}
		if v, _ := schemaVersion(btx); v < 4 {
			t.Errorf("schema version = %d, want at least 4", v)
		}
		return nil
	})
	keep := hotline.CannedResponse{ID: hotline.NewID(testTime), Title: "Safety", Body: "Are you safe, {{handle}}?", Language: "en",
		CreatedAt: testTime, UpdatedAt: testTime}
	gone := hotline.CannedResponse{ID: hotline.NewID(testTime.Add(time.Second)), Title: "Bye", Body: "Take care."}
	err = s.Update(t.Context(), func(tx hotline.Tx) error {
		got, err := tx.MessageBySID(m.TwilioSID)
		if err != nil || got.ConversationID != conv.ID {
			t.Errorf("MessageBySID after migration = %+v, %v; want message of %s", got, err, conv.ID)
		}
		if err := tx.PutCannedResponse(keep); err != nil {
			return err
		}
		if err := tx.PutCannedResponse(gone); err != nil {
			return err
		}
		return tx.DeleteCannedResponse(gone.ID)
	})
	if err != nil {
		t.Fatalf("writing canned responses: %v", err)
	}
	err = s.View(t.Context(), func(tx hotline.ReadTx) error {
		got, err := tx.CannedResponse(keep.ID)
		if err != nil || got.Title != keep.Title || got.Body != keep.Body || !got.CreatedAt.Equal(testTime) {
			t.Errorf("CannedResponse = %+v, %v; want %+v", got, err, keep)
		}
		if _, err := tx.CannedResponse(gone.ID); !hotline.IsNotFound(err) {
			t.Errorf("a deleted canned response: %v, want ENOTFOUND", err)
		}
		n := 0
		err = tx.CannedResponses(func(hotline.CannedResponse) error { n++; return nil })
		if n != 1 {
			t.Errorf("CannedResponses listed %d, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
}
