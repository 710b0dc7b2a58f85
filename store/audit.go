package store

import (
	"bytes"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

const auditRecordVersion = 1

// auditRecord is stored under the entry's ID.
type auditRecord struct {
	V             int                 `json:"v"`
	At            int64               `json:"at"`
	ActorID       hotline.ID          `json:"actor,omitzero"`
	ActorUsername string              `json:"actor_username,omitempty"`
	Action        hotline.AuditAction `json:"action"`
	TargetType    string              `json:"target_type,omitempty"`
	TargetID      string              `json:"target_id,omitempty"`
	Detail        map[string]string   `json:"detail,omitempty"`
	RemoteAddr    string              `json:"remote,omitempty"`
}

func (r *auditRecord) version() int { return r.V }

func encodeAudit(e hotline.AuditEntry) ([]byte, error) {
	return json.Marshal(auditRecord{
		V: auditRecordVersion, At: nanos(e.At), ActorID: e.ActorID, ActorUsername: e.ActorUsername,
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Detail: e.Detail,
		RemoteAddr: e.RemoteAddr,
	})
}

// decodeAudit decodes the entry stored under key (its ID).
func decodeAudit(key, b []byte) (hotline.AuditEntry, error) {
	var r auditRecord
	if err := unmarshal("audit entry", b, &r, auditRecordVersion); err != nil {
		return hotline.AuditEntry{}, err
	}
	return hotline.AuditEntry{
		ID: idFrom(key, 0), At: fromNanos(r.At), ActorID: r.ActorID, ActorUsername: r.ActorUsername,
		Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID, Detail: r.Detail,
		RemoteAddr: r.RemoteAddr,
	}, nil
}

// AppendAudit adds the entry to the audit log. The log is append-only: an ID that
// is taken is ECONFLICT, and this package has no method that changes or deletes an
// entry.
func (t *tx) AppendAudit(e hotline.AuditEntry) error {
	switch {
	case hotline.IsZeroID(e.ID):
		return hotline.Errorf(hotline.EINVALID, "An audit entry needs an ID.")
	case e.Action == "":
		return hotline.Errorf(hotline.EINVALID, "An audit entry needs an action.")
	}
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return err
	}
	if b.Get(e.ID[:]) != nil {
		return hotline.Errorf(hotline.ECONFLICT, "Audit entry %s already exists.", e.ID)
	}
	v, err := encodeAudit(e)
	if err != nil {
		return err
	}
	return b.Put(e.ID[:], v)
}

// AuditEntries calls fn for each entry older than before (from the newest when
// before is zero), newest first.
func (t *tx) AuditEntries(before hotline.ID, fn func(hotline.AuditEntry) error) error {
	b, err := t.bucket(bucketAudit)
	if err != nil {
		return err
	}
	k, v := seekBefore(b.Cursor(), before)
	for k != nil {
		e, err := decodeAudit(k, v)
		if err != nil {
			return err
		}
		last := bytes.Clone(k)
		if err := fn(e); err != nil {
			return stopOK(err)
		}
		// Seek afresh: fn may have appended an entry in a write transaction.
		k, v = seekBefore(b.Cursor(), idFrom(last, 0))
	}
	return nil
}

// seekBefore positions c at the last key before the ID, or at the last key when the
// ID is zero.
func seekBefore(c *bolt.Cursor, before hotline.ID) ([]byte, []byte) {
	if hotline.IsZeroID(before) {
		return c.Last()
	}
	k, _ := c.Seek(before[:])
	if k == nil {
		return c.Last()
	}
	return c.Prev()
}

// audit checks that every audit entry decodes under a well-formed key.
func (c *checker) audit() error {
	return c.each(bucketAudit, func(k, v []byte) {
		if len(k) != idLen {
			c.report("audit %x: malformed key", k)
			return
		}
		if _, err := decodeAudit(k, v); err != nil {
			c.report("audit entry %s: %v", idFrom(k, 0), err)
		}
	})
}
