package store

import (
	"github.com/hotlinehq/hotline/hotline"
)

// OutboxEntry returns the pending outbox entry with the ID, or ENOTFOUND.
func (t *tx) OutboxEntry(id hotline.ID) (hotline.OutboxEntry, error) {
	v, err := t.get(bucketOutbox, id[:])
	if err != nil {
		return hotline.OutboxEntry{}, err
	} else if v == nil {
		return hotline.OutboxEntry{}, notFound("Outbox entry %s not found.", id)
	}
	return t.decodeOutbox(id[:], v)
}

// Outbox calls fn for each pending outbox entry, oldest first.
func (t *tx) Outbox(fn func(hotline.OutboxEntry) error) error {
	return t.scan(bucketOutbox, nil, hotline.ID{}, func(k, v []byte) error {
		e, err := t.decodeOutbox(k, v)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// PutOutbox writes the outbox entry.
func (t *tx) PutOutbox(e hotline.OutboxEntry) error {
	if hotline.IsZeroID(e.ID) {
		return hotline.Errorf(hotline.EINVALID, "An outbox entry needs an ID.")
	}
	v, err := t.encodeOutbox(e)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return err
	}
	return b.Put(e.ID[:], v)
}

// DeleteOutbox removes the outbox entry, or fails with ENOTFOUND.
func (t *tx) DeleteOutbox(id hotline.ID) error {
	b, err := t.bucket(bucketOutbox)
	if err != nil {
		return err
	}
	if b.Get(id[:]) == nil {
		return notFound("Outbox entry %s not found.", id)
	}
	return b.Delete(id[:])
}
