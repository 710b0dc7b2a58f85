package store

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMigration2 opens a schema-1 file holding a message: migration 2 adds the
// checkpoints and orphan_statuses buckets, keeps what was there, and the file ends at
// the newest schema and passes Check.
func TestMigration2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(btx *bolt.Tx) error {
		if err := migrations[0].run(btx); err != nil {
			return err
		}
		return setSchemaVersion(btx, 1)
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fixture(t, s) // records written after the migration, through the new schema

	raw(t, s, func(btx *bolt.Tx) error {
		for _, name := range schema2Buckets {
			if btx.Bucket(name) == nil {
				t.Errorf("bucket %s missing after migration 2", name)
			}
		}
		if v, _ := schemaVersion(btx); v != SchemaVersion() {
			t.Errorf("schema version = %d, want the newest, %d", v, SchemaVersion())
		}
		return nil
	})
	err = s.Update(t.Context(), func(tx hotline.Tx) error {
		if err := tx.PutCheckpoint("inbound_recovery", testTime); err != nil {
			return err
		}
		return tx.PutOrphanStatus(hotline.OrphanStatus{Update: hotline.StatusUpdate{SID: "SM9", Status: hotline.StatusDelivered}, ReceivedAt: testTime})
	})
	if err != nil {
		t.Fatalf("writing to the new buckets: %v", err)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
}

// TestMigration2_KeepsSchema1Data migrates a schema-1 file that already holds a
// conversation's records: they are all still there afterwards.
func TestMigration2_KeepsSchema1Data(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	s1, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_, conv, m := fixture(t, s1)
	// Take the file back to schema 1, as a binary from before migration 2 left it.
	raw(t, s1, func(btx *bolt.Tx) error {
		for _, name := range schema2Buckets {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return setSchemaVersion(btx, 1)
	})
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, Options{NoSync: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.View(t.Context(), func(tx hotline.ReadTx) error {
		got, err := tx.MessageBySID(m.TwilioSID)
		if err != nil || got.ID != m.ID || got.ConversationID != conv.ID {
			t.Errorf("MessageBySID after migration = %+v, %v; want message %s", got, err, m.ID)
		}
		if _, ok, err := tx.Checkpoint("inbound_recovery"); ok || err != nil {
			t.Errorf("Checkpoint after migration = %v, %v; want none", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
}
