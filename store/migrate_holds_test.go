package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMigrationHoldIndex takes a file from before the legal hold index, holding a
// held and an unheld conversation, to the newest schema: the index appears, filled
// with the held one only; holds placed and released afterwards move their entry;
// and the file passes Check.
func TestMigrationHoldIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	s0, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_, conv, _ := fixture(t, s0)
	held := conv
	held.ID, held.State, held.ClosedAt, held.InactiveAt, held.LegalHold = hotline.NewID(testTime), hotline.StateClosed, testTime, time.Time{}, true
	err = s0.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutConversation(held) })
	if err != nil {
		t.Fatal(err)
	}
	from := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "create the legal hold index" })
	if from < 0 {
		t.Fatal("the legal hold index migration is not in the list")
	}
	// Take the file back to the schema before the migration, as an older binary left it.
	raw(t, s0, func(btx *bolt.Tx) error {
		for _, name := range holdBuckets {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return setSchemaVersion(btx, from)
	})
	if err := s0.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, Options{NoSync: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	raw(t, s, func(btx *bolt.Tx) error {
		if btx.Bucket(bucketConversationsHeld) == nil {
			t.Errorf("bucket %s missing after the migration", bucketConversationsHeld)
		}
		if v, _ := schemaVersion(btx); v < from+1 {
			t.Errorf("schema version = %d, want at least %d", v, from+1)
		}
		return nil
	})
	if got := heldIDs(t, s); !slices.Equal(got, []hotline.ID{held.ID}) {
		t.Errorf("held after the migration = %v, want only %v", got, held.ID)
	}
	// Placing a hold adds the entry and releasing it removes it, in the same Put.
	err = s.Update(t.Context(), func(tx hotline.Tx) error {
		conv.LegalHold = true
		held.LegalHold = false
		if err := tx.PutConversation(conv); err != nil {
			return err
		}
		return tx.PutConversation(held)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := heldIDs(t, s); !slices.Equal(got, []hotline.ID{conv.ID}) {
		t.Errorf("held after swapping the holds = %v, want only %v", got, conv.ID)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
	// A stale entry is a problem Check names.
	raw(t, s, func(btx *bolt.Tx) error { return btx.Bucket(bucketConversationsHeld).Put(held.ID[:], emptyValue) })
	if problems, _ := s.Check(t.Context()); len(problems) == 0 {
		t.Error("Check found nothing wrong with a hold entry for a conversation without a hold")
	}
}

// heldIDs lists the conversations under a legal hold through the store's filter.
func heldIDs(t *testing.T, s *Store) []hotline.ID {
	t.Helper()
	var out []hotline.ID
	err := s.View(t.Context(), func(tx hotline.ReadTx) error {
		return tx.Conversations(hotline.ConversationFilter{Held: true}, func(c hotline.Conversation) error {
			if !c.LegalHold {
				t.Errorf("conversation %s listed as held without a hold", c.ID)
			}
			out = append(out, c.ID)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
