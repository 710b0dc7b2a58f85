package store_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// TestRetentionShredsBackups is the property crypto-shredding exists for: take a
// backup, let retention purge a conversation, then open the older backup with the
// master key and the keystore: the purged conversation (and its texter's number)
// cannot be read from it, while a conversation under a legal hold, which retention
// kept, still can.
func TestRetentionShredsBackups(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, store.MasterKeySize)
	rand.Read(key)
	opts := store.Options{NoSync: true, MasterKey: key}
	st, err := store.Open(filepath.Join(dir, "hotline.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fixedClock{t: t0}
	svc := hotline.NewService(st, clock, nil, hotline.DefaultPolicy())
	ctx := context.Background()
	var ids []hotline.ID
	for i, from := range []hotline.Address{"+14155550111", "+14155550122"} {
		res, err := svc.ReceiveInbound(ctx, hotline.InboundMessage{SID: "SM" + strings.Repeat(string(rune('1'+i)), 32), From: from, Body: "please help"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ConversationID)
	}
	purged, held := ids[0], ids[1]
	// Both closed long ago; one under a legal hold.
	mustUpdate(t, st, func(tx hotline.Tx) error {
		for _, id := range ids {
			c, err := tx.Conversation(id)
			if err != nil {
				return err
			}
			c.State, c.ClosedAt, c.InactiveAt, c.WaitingSince, c.LegalHold = hotline.StateClosed, t0, time.Time{}, time.Time{}, id == held
			if err := tx.PutConversation(c); err != nil {
				return err
			}
		}
		return nil
	})
	backup := filepath.Join(dir, "backups", "before-purge.db")
	if err := st.BackupToFile(ctx, backup); err != nil {
		t.Fatal(err)
	}
	clock.t = t0.Add(60 * 24 * time.Hour)
	rep, err := hotline.NewRetention(svc, 30).Purge(ctx, hotline.OperatorCaller(hotline.OperatorCLI), false)
	if err != nil || rep.Conversations != 1 || rep.Held != 1 {
		t.Fatalf("Purge = %+v, %v; want one purged and one held", rep, err)
	}
	if ok, _ := st.HasDataKey(purged); ok {
		t.Error("the purged conversation's data key is still in the keystore")
	}
	if ok, _ := st.HasDataKey(held); !ok {
		t.Error("the held conversation lost its data key")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// The older backup, with the master key and the (live) keystore.
	opts.KeysPath = filepath.Join(dir, "hotline.keys.db")
	old, err := store.Open(backup, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	mustView(t, old, func(tx hotline.ReadTx) error {
		// What is left of it is what the conversation record never sealed: its state,
		// times, handle, disposition and tags (store/doc.go).
		if err := tx.Messages(purged, hotline.ID{}, func(hotline.Message) error { return nil }); err == nil || !strings.Contains(err.Error(), "destroyed") {
			t.Errorf("the purged conversation's messages in the older backup: %v, want their key destroyed", err)
		}
		if _, err := tx.ContactByAddress("+14155550111"); err == nil {
			t.Error("the purged texter's contact reads from the older backup")
		}

		n := 0
		if err := tx.Messages(held, hotline.ID{}, func(m hotline.Message) error { n++; return nil }); err != nil || n == 0 {
			t.Errorf("the held conversation in the backup: %d messages, %v; want it readable", n, err)
		}
		return nil
	})
}

// TestShreddedTexterMayTextAgain: in a store restored from a backup older than a
// purge, a texter whose contact was shredded writes again and is a new contact.
func TestShreddedTexterMayTextAgain(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, store.MasterKeySize)
	rand.Read(key)
	opts := store.Options{NoSync: true, MasterKey: key}
	st, err := store.Open(filepath.Join(dir, "hotline.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	svc := hotline.NewService(st, &fixedClock{t: t0}, nil, hotline.DefaultPolicy())
	ctx := context.Background()
	res, err := svc.ReceiveInbound(ctx, hotline.InboundMessage{SID: "SM" + strings.Repeat("1", 32), From: "+14155550111", Body: "help"})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "old.db")
	if err := st.BackupToFile(ctx, backup); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, st, func(tx hotline.Tx) error {
		c, err := tx.Conversation(res.ConversationID)
		if err != nil {
			return err
		}
		if err := tx.DeleteConversation(c.ID); err != nil {
			return err
		}
		return tx.DeleteContact(c.ContactID)
	})
	st.Close()
	opts.KeysPath = filepath.Join(dir, "hotline.keys.db")
	old, err := store.Open(backup, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	svc = hotline.NewService(old, &fixedClock{t: t0.Add(time.Hour)}, nil, hotline.DefaultPolicy())
	again, err := svc.ReceiveInbound(ctx, hotline.InboundMessage{SID: "SM" + strings.Repeat("2", 32), From: "+14155550111", Body: "it's me again"})
	if err != nil || again.ConversationID == res.ConversationID {
		t.Fatalf("the texter writes again into the restored backup: %+v, %v; want a new conversation", again, err)
	}
}
