package store

import (
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// A migration brings the file from one schema version to the next. Each runs in one
// transaction together with the new version number, so a crash leaves the file at
// either version, never between. Migrations are never edited once released: a change
// is a new migration at the end of the list, with its own test in migrate_test.go.
type migration struct {
	name string
	run  func(tx *bolt.Tx) error
}

// migrations, in order: migrations[i] takes schema i to schema i+1.
var migrations = []migration{
	{name: "create buckets", run: createBuckets},
	{name: "create checkpoints and orphan_statuses", run: createRecoveryBuckets},
	{name: "create users, sessions and audit", run: createAccountBuckets},
	{name: "create canned_responses", run: createCannedBucket},
	{name: "create schedules, pages and the assignee index", run: createRoutingBuckets},
	{name: "create api_tokens, settings and stats_hourly", run: createCoordinatorBuckets},
	{name: "create the legal hold index", run: createHoldIndex},
	{name: "chain the messages (tamper-evident history)", run: createEvidenceBuckets},
}

// SchemaVersion returns the newest schema this binary knows: the one Open leaves
// the file at.
func SchemaVersion() int { return len(migrations) }

// migrate runs the migrations the file lacks, refusing a file from a newer binary.
func (s *Store) migrate() error {
	for {
		done := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			v, err := schemaVersion(tx)
			if err != nil {
				return err
			}
			if v > len(migrations) {
				return hotline.Errorf(hotline.EUNAVAILABLE,
					"open %s: the database was written by a newer hotline (schema %d; this binary knows up to %d): upgrade the binary or restore a backup",
					s.path, v, len(migrations))
			}
			if v == len(migrations) {
				done = true
				return nil
			}
			if err := migrations[v].run(tx); err != nil {
				return fmt.Errorf("migrate %s to schema %d (%s): %w", s.path, v+1, migrations[v].name, err)
			}
			return setSchemaVersion(tx, v+1)
		})
		if err != nil {
			return storeError("migrate", err)
		} else if done {
			return nil
		}
	}
}

// schemaVersion reads the schema version; a file without a meta bucket is new (0).
func schemaVersion(tx *bolt.Tx) (int, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0, nil
	}
	v := b.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 0 {
		return 0, hotline.Errorf(hotline.EINTERNAL, "store: malformed schema version %q", v)
	}
	return n, nil
}

func setSchemaVersion(tx *bolt.Tx, v int) error {
	b, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	return b.Put(keySchemaVersion, []byte(strconv.Itoa(v)))
}

// schema1Buckets are the top-level buckets migration 1 creates.
var schema1Buckets = [][]byte{
	bucketMeta, bucketContacts, bucketContactByAddress, bucketContactByHandle,
	bucketConversations, bucketConversationsByContact, bucketConversationsByState,
	bucketQueue, bucketDeadlines, bucketMessages, bucketMessageBySID, bucketOutbox,
}

// schema2Buckets are the top-level buckets migration 2 adds.
var schema2Buckets = [][]byte{bucketCheckpoints, bucketOrphanStatuses}

// schema3Buckets are the top-level buckets migration 3 adds.
var schema3Buckets = [][]byte{bucketUsers, bucketUserByUsername, bucketSessions, bucketSessionsByUser, bucketAudit}

// schema4Buckets are the top-level buckets migration 4 adds.
var schema4Buckets = [][]byte{bucketCanned}

// allBuckets are the top-level buckets of the current schema.
var allBuckets = slices.Concat(schema1Buckets, schema2Buckets, schema3Buckets, schema4Buckets, routingBuckets, coordinatorBuckets, holdBuckets, evidenceBuckets)

// countedBuckets keep their record count in meta (see Stats).
var countedBuckets = [][]byte{bucketContacts, bucketConversations, bucketMessages}

// createBuckets is migration 1: every bucket, and zeroed counters.
func createBuckets(tx *bolt.Tx) error {
	for _, name := range schema1Buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	for _, name := range countedBuckets {
		n := tx.Bucket(name).Stats().KeyN
		if err := meta.Put(counterKey(name), []byte(strconv.Itoa(n))); err != nil {
			return err
		}
	}
	return nil
}

// createRecoveryBuckets is migration 2: the checkpoints of periodic jobs (such as
// missed-webhook recovery) and the status callbacks that arrived before their SID.
func createRecoveryBuckets(tx *bolt.Tx) error {
	for _, name := range schema2Buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// createAccountBuckets is migration 3: console users and their username index,
// sessions and their per-user index, and the append-only audit log.
func createAccountBuckets(tx *bolt.Tx) error {
	for _, name := range schema3Buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// createCannedBucket is migration 4: the canned responses of the console's composer.
func createCannedBucket(tx *bolt.Tx) error {
	for _, name := range schema4Buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}
