package store

import (
	"context"
	"crypto/cipher"
	"fmt"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// The data-key cache keeps at most keyCacheSize keys, at most readyKeyCacheSize of
// them as AES-GCM objects, each of those also as bytes.
func TestKeyCacheIsBounded(t *testing.T) {
	kr := &keyring{raw: map[keyRef][]byte{}, ready: map[keyRef]cipher.AEAD{}}
	key := make([]byte, 32)
	for i := range keyCacheSize + readyKeyCacheSize + 10 {
		var ref keyRef
		ref.kind, ref.id[0], ref.id[1] = keyKindConversation, byte(i), byte(i>>8)
		key[0], key[1] = byte(i), byte(i>>8)
		kr.keep(ref, newDataAEAD(key), 0)
		if len(kr.raw) > keyCacheSize || len(kr.ready) > readyKeyCacheSize {
			t.Fatalf("after %d keys the cache holds %d, %d ready; want at most %d and %d", i+1, len(kr.raw), len(kr.ready), keyCacheSize, readyKeyCacheSize)
		}
	}
	if len(kr.raw) != keyCacheSize || len(kr.ready) != readyKeyCacheSize {
		t.Errorf("a full cache holds %d keys, %d ready; want %d and %d", len(kr.raw), len(kr.ready), keyCacheSize, readyKeyCacheSize)
	}
	for ref := range kr.ready {
		if _, ok := kr.raw[ref]; !ok {
			t.Fatalf("%s is ready but not cached as bytes", ref)
		}
	}
}

// A key read before forget (a shred) is not cached after it.
func TestKeyCacheKeepsNoKeyReadBeforeAForget(t *testing.T) {
	kr := &keyring{raw: map[keyRef][]byte{}, ready: map[keyRef]cipher.AEAD{}}
	ref := conversationKey(hotline.NewID(time.Now()))
	kr.mu.Lock()
	forgotten := kr.forgotten
	kr.mu.Unlock()
	kr.forget([]keyRef{conversationKey(hotline.NewID(time.Now()))})
	kr.keep(ref, newDataAEAD(make([]byte, 32)), forgotten)
	if _, ok := kr.raw[ref]; ok {
		t.Errorf("a key read before a forget was cached after it")
	}
}

// Records open with keys the cache holds only as bytes (evicted from the ready
// objects) as with keys read from the keystore, in a store with more conversations
// than either cache holds keys.
func TestKeyCacheOpensRecordsWithEvictedKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,100 conversations")
	}
	s := openTest(t, Options{MasterKey: testKey(t)})
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var convs []hotline.ID
	const n = keyCacheSize/2 + 50 // two keys each: contact and conversation
	for first := 0; first < n; first += 100 {
		err := s.Update(ctx, func(tx hotline.Tx) error {
			for i := first; i < min(first+100, n); i++ {
				at := t0.Add(time.Duration(i) * time.Minute)
				c := hotline.Contact{ID: hotline.NewID(at), Address: hotline.Address(fmt.Sprintf("+1415555%04d", i)), Handle: fmt.Sprintf("T-%04d", i),
					Language: "en", FirstSeen: at, LastSeen: at}
				conv := hotline.Conversation{ID: hotline.NewID(at), ContactID: c.ID, Handle: c.Handle, State: hotline.StateClosed,
					Priority: hotline.PriorityNormal, Language: "en", CreatedAt: at, UpdatedAt: at, ClosedAt: at}
				m := hotline.Message{ID: hotline.NewID(at), ConversationID: conv.ID, Direction: hotline.DirectionInbound,
					Body: fmt.Sprintf("text %d", i), Status: hotline.StatusReceived, Segments: 1, CreatedAt: at, UpdatedAt: at}
				if err := tx.PutContact(c); err != nil {
					return err
				}
				if err := tx.PutConversation(conv); err != nil {
					return err
				}
				if err := tx.PutMessage(m); err != nil {
					return err
				}
				convs = append(convs, conv.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() {
		t.Helper()
		err := s.View(ctx, func(tx hotline.ReadTx) error {
			for i, id := range convs {
				conv, err := tx.Conversation(id)
				if err != nil {
					return err
				}
				c, err := tx.Contact(conv.ContactID)
				if err != nil {
					return err
				}
				if want := hotline.Address(fmt.Sprintf("+1415555%04d", i)); c.Address != want {
					return fmt.Errorf("contact %d: address %q, want %q", i, c.Address, want)
				}
				var body string
				if err := tx.Messages(id, hotline.ID{}, func(m hotline.Message) error { body = m.Body; return nil }); err != nil {
					return err
				}
				if want := fmt.Sprintf("text %d", i); body != want {
					return fmt.Errorf("conversation %d: body %q, want %q", i, body, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	kr := s.keys
	kr.mu.Lock()
	raw, ready := len(kr.raw), len(kr.ready)
	kr.mu.Unlock()
	if raw > keyCacheSize || ready > readyKeyCacheSize || raw <= readyKeyCacheSize {
		t.Fatalf("after reading %d conversations and their contacts the cache holds %d keys, %d ready", n, raw, ready)
	}
	// Keys the cache holds only as bytes, and keys it no longer holds, open the
	// records as before.
	kr.mu.Lock()
	clear(kr.ready)
	kr.mu.Unlock()
	readAll()
	readAll()
}
