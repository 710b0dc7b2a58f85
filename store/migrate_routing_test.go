package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// routingMigration returns the position of the routing migration: the schema it
// starts from.
func routingMigration(t *testing.T) int {
	t.Helper()
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "create schedules, pages and the assignee index" })
	if i < 0 {
		t.Fatal("the routing migration is not in the list")
	}
	return i
}

// TestMigrationRouting takes a file from before the routing migration, holding an
// assigned and a closed conversation, to the newest schema: the schedule, pages and
// assignee-index buckets appear, the index is filled from the conversations already
// there (the open one only), the new buckets take records, and the file passes Check.
func TestMigrationRouting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	s0, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c, conv, _ := fixture(t, s0)
	ana := hotline.User{ID: hotline.NewID(testTime), Username: "ana", Role: hotline.RoleResponder}
	open := conv
	open.ID, open.State, open.AssigneeID, open.Responders = hotline.NewID(testTime), hotline.StateAssigned, ana.ID, []hotline.ID{ana.ID}
	closed := open
	closed.ID, closed.State, closed.ClosedAt, closed.InactiveAt = hotline.NewID(testTime), hotline.StateClosed, testTime, time.Time{}
	err = s0.Update(t.Context(), func(tx hotline.Tx) error {
		for _, err := range []error{tx.PutUser(ana), tx.PutContact(c), tx.PutConversation(open), tx.PutConversation(closed)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	from := routingMigration(t)
	// Take the file back to the schema before the migration, as an older binary left it.
	raw(t, s0, func(btx *bolt.Tx) error {
		for _, name := range routingBuckets {
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
		for _, name := range routingBuckets {
			if btx.Bucket(name) == nil {
				t.Errorf("bucket %s missing after the routing migration", name)
			}
		}
		if v, _ := schemaVersion(btx); v != SchemaVersion() {
			t.Errorf("schema version = %d, want the newest, %d", v, SchemaVersion())
		}
		return nil
	})
	err = s.Update(t.Context(), func(tx hotline.Tx) error {
		var got []hotline.ID
		if err := tx.AssignedTo(ana.ID, func(id hotline.ID) error { got = append(got, id); return nil }); err != nil {
			return err
		}
		if !slices.Equal(got, []hotline.ID{open.ID}) {
			t.Errorf("AssignedTo(ana) after the migration = %v, want only the open conversation %v", got, open.ID)
		}
		rot := hotline.Rotation{ID: hotline.NewID(testTime), ResponderID: ana.ID, Weekdays: []time.Weekday{time.Monday}, Start: 18 * 60, End: 2 * 60}
		if err := tx.PutRotation(rot); err != nil {
			return err
		}
		if err := tx.PutOverride(hotline.Override{ID: hotline.NewID(testTime), ResponderID: ana.ID, Kind: hotline.OverrideCover,
			Start: testTime, End: testTime.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.PutClosure(hotline.Closure{ID: hotline.NewID(testTime), Start: testTime, End: testTime.Add(time.Hour)}); err != nil {
			return err
		}
		return tx.PutPage(hotline.PageRecord{ID: hotline.NewID(testTime), UserID: ana.ID, Audience: hotline.PageOnCall, Body: "hotline: 1 texter waiting", CreatedAt: testTime})
	})
	if err != nil {
		t.Fatalf("writing to the new buckets: %v", err)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
}
