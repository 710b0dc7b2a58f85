package store

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMigration1 opens an empty file, which runs every migration: migration 1 creates
// the schema-1 buckets and zeroes the counters, later ones add their buckets (see
// TestMigration2), and the file records the newest schema.
func TestMigration1(t *testing.T) {
	s := openTest(t, Options{})
	var names []string
	var version int
	raw(t, s, func(tx *bolt.Tx) error {
		var err error
		version, err = schemaVersion(tx)
		return errors.Join(err, tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		}))
	})
	var want []string
	for _, b := range allBuckets {
		want = append(want, string(b))
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("buckets = %v, want %v", names, want)
	}
	if version != SchemaVersion() {
		t.Errorf("schema version = %d, want %d", version, SchemaVersion())
	}
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{SizeBytes: st.SizeBytes, SchemaVersion: SchemaVersion()}) {
		t.Errorf("Stats of a new store = %+v, want zero counts", st)
	}
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check = %q, %v; want clean", problems, err)
	}
}

func TestSchemaVersion_IsTheLastMigration(t *testing.T) {
	if got, want := SchemaVersion(), len(migrations); got != want {
		t.Errorf("SchemaVersion() = %d, want %d", got, want)
	}
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	newer := SchemaVersion() + 1
	err = db.Update(func(tx *bolt.Tx) error { return setSchemaVersion(tx, newer) })
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}

	s, err := Open(path, Options{NoSync: true})
	if err == nil {
		s.Close()
		t.Fatalf("Open of a schema %d file succeeded", newer)
	}
	if got, want := hotline.ErrorCode(err), hotline.EUNAVAILABLE; got != want {
		t.Errorf("code = %s, want %s", got, want)
	}
	want := "open " + path + ": the database was written by a newer hotline (schema " + strconv.Itoa(newer) + "; this binary knows up to " +
		strconv.Itoa(SchemaVersion()) + "): upgrade the binary or restore a backup"
	if got := hotline.ErrorMessage(err); got != want {
		t.Errorf("message = %q\nwant %q", got, want)
	}

	// The file is left as it was, and unlocked.
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 100e6})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if v, _ := schemaVersion(tx); v != newer {
			t.Errorf("schema version after the refusal = %d, want %d", v, newer)
		}
		return nil
	})
}

func TestOpen_MalformedSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket(bucketMeta)
		return b.Put(keySchemaVersion, []byte("one"))
	})
	db.Close()
	if s, err := Open(path, Options{NoSync: true}); err == nil {
		s.Close()
		t.Error("Open with a malformed schema version succeeded")
	}
}
