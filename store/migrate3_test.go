package store

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMigration3 takes a schema-2 file holding a conversation to schema 3: the users,
// sessions and audit buckets appear, what was there stays, the new buckets take
// records, and the file passes Check.
func TestMigration3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	s2, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_, conv, m := fixture(t, s2)
	// Take the file back to schema 2, as a binary from before migration 3 left it.
	raw(t, s2, func(btx *bolt.Tx) error {
		for _, name := range schema3Buckets {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return setSchemaVersion(btx, 2)
	})
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, Options{NoSync: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	raw(t, s, func(btx *bolt.Tx) error {
		for _, name := range schema3Buckets {
			if btx.Bucket(name) == nil {
				t.Errorf("bucket %s missing after migration 3", name)
			}
		}
		if v, _ := schemaVersion(btx); v != SchemaVersion() {
			t.Errorf("schema version = %d, want the newest, %d", v, SchemaVersion())
		}
		return nil
	})
	u := hotline.User{ID: hotline.NewID(testTime), Username: "ana", Role: hotline.RoleCoordinator, PasswordHash: "$argon2id$…"}
	h := hotline.HashToken("token")
	err = s.Update(t.Context(), func(tx hotline.Tx) error {
		got, err := tx.MessageBySID(m.TwilioSID)
		if err != nil || got.ConversationID != conv.ID {
			t.Errorf("MessageBySID after migration = %+v, %v; want message of %s", got, err, conv.ID)
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if err := tx.PutSession(hotline.Session{TokenHash: h, UserID: u.ID, CSRFToken: "c", CreatedAt: testTime, LastSeenAt: testTime}); err != nil {
			return err
		}
		return tx.AppendAudit(hotline.AuditEntry{ID: hotline.NewID(testTime), At: testTime, Action: hotline.AuditLogin, ActorID: u.ID})
	})
	if err != nil {
		t.Fatalf("writing to the new buckets: %v", err)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
}
