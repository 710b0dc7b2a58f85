package store

import (
	"context"

	"github.com/hotlinehq/hotline/hotline"
)

// Stats are counts for readiness checks and metrics.
type Stats struct {
	Contacts      int64
	Conversations int64
	Messages      int64
	Outbox        int64 // pending outbox entries
	Queue         int64 // waiting conversations
	SizeBytes     int64 // the database file's size
	SchemaVersion int
}

// Stats returns the store's counts. It is cheap: the large buckets keep counters in
// meta (written in the same transaction as the records and verified by Check), and
// the queue and outbox are small enough to count.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.View(ctx, func(rt hotline.ReadTx) error {
		t := rt.(*tx)
		counters := []*int64{&st.Contacts, &st.Conversations, &st.Messages}
		meta, err := t.bucket(bucketMeta)
		if err != nil {
			return err
		}
		for i, name := range countedBuckets {
			if *counters[i], err = parseCounter(meta.Get(counterKey(name))); err != nil {
				return err
			}
		}
		if st.Outbox, err = t.keyCount(bucketOutbox); err != nil {
			return err
		}
		if st.Queue, err = t.keyCount(bucketQueue); err != nil {
			return err
		}
		st.SizeBytes = t.tx.Size()
		st.SchemaVersion, err = schemaVersion(t.tx)
		return err
	})
	return st, err
}

// keyCount counts the keys of a bucket by walking its pages: for small buckets.
func (t *tx) keyCount(name []byte) (int64, error) {
	b, err := t.bucket(name)
	if err != nil {
		return 0, err
	}
	return int64(b.Stats().KeyN), nil
}
