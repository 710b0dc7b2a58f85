package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMigrationCoordinatorBuckets takes a file from before the API tokens, settings
// and hourly counters to the newest schema: the buckets appear, the counters are
// filled from the messages already stored, and the file checks clean.
func TestMigrationCoordinatorBuckets(t *testing.T) {
	at := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "create api_tokens, settings and stats_hourly" })
	if at < 0 {
		t.Fatal("the migration is not in the list")
	}
	path := filepath.Join(t.TempDir(), "hotline.db")
	s1, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_, conv, _ := fixture(t, s1)
	m := hotline.Message{ID: hotline.NewID(testTime), ConversationID: conv.ID, Direction: hotline.DirectionInbound,
		Body: "hello", Status: hotline.StatusReceived, CreatedAt: testTime}
	if err := s1.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutMessage(m) }); err != nil {
		t.Fatal(err)
	}
	raw(t, s1, func(btx *bolt.Tx) error {
		for _, name := range coordinatorBuckets {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return setSchemaVersion(btx, at)
	})
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{NoSync: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var hours []hotline.HourCount
	err = s.View(t.Context(), func(rt hotline.ReadTx) error {
		return rt.HourlyCounts(m.CreatedAt.Add(-time.Hour), m.CreatedAt.Add(time.Hour), func(h hotline.HourCount) error {
			hours = append(hours, h)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || hours[0].Inbound != 1 || hours[0].Outbound != 0 {
		t.Errorf("hourly counts after the migration = %+v, want the one inbound text with a time", hours)
	}
	problems, err := s.Check(t.Context())
	if err != nil || len(problems) > 0 {
		t.Errorf("Check = %v, %v", problems, err)
	}
}
