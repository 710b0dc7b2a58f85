package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// Routing's buckets (doc.go draws them): the schedule, the pages sent, and the index
// of open conversations per assignee that makes capacity cheap to check.
var (
	bucketRotations               = []byte("rotations")
	bucketOverrides               = []byte("overrides")
	bucketClosures                = []byte("closures")
	bucketPages                   = []byte("pages")
	bucketPagesByUser             = []byte("idx_pages_by_user")
	bucketConversationsByAssignee = []byte("idx_conversations_by_assignee")
	routingBuckets                = [][]byte{bucketRotations, bucketOverrides, bucketClosures, bucketPages, bucketPagesByUser, bucketConversationsByAssignee}
	rotationRecordVersion         = 1
	overrideRecordVersion         = 1
	closureRecordVersion          = 1
	pageRecordVersion             = 1
)

// assigneeKey lists an open conversation under its assignee: assigneeID ‖
// conversationID; nil when it has none or is closed.
func assigneeKey(c hotline.Conversation) []byte {
	if hotline.IsZeroID(c.AssigneeID) || !c.State.Open() {
		return nil
	}
	return pairKey(c.AssigneeID, c.ID)
}

// createRoutingBuckets is the routing migration: schedules (rotations, overrides,
// closures), pages and their per-user index, and the index of open conversations by
// assignee, filled from the conversations already stored.
func createRoutingBuckets(btx *bolt.Tx) error {
	for _, name := range routingBuckets {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	idx := btx.Bucket(bucketConversationsByAssignee)
	return btx.Bucket(bucketConversations).ForEach(func(_, v []byte) error {
		c, err := decodeConversation(v)
		if err != nil {
			return err
		}
		if k := assigneeKey(c); k != nil {
			return idx.Put(k, emptyValue)
		}
		return nil
	})
}

type rotationRecord struct {
	V         int        `json:"v"`
	Responder hotline.ID `json:"responder"`
	Weekdays  []int      `json:"weekdays"`
	Start     int        `json:"start"` // minutes after midnight
	End       int        `json:"end"`
	From      int64      `json:"from,omitempty"`
	Until     int64      `json:"until,omitempty"`
}

type overrideRecord struct {
	V         int        `json:"v"`
	Responder hotline.ID `json:"responder"`
	Kind      string     `json:"kind"`
	Start     int64      `json:"start"`
	End       int64      `json:"end"`
	Note      string     `json:"note,omitempty"`
}

type closureRecord struct {
	V      int    `json:"v"`
	Start  int64  `json:"start"`
	End    int64  `json:"end"`
	Reason string `json:"reason,omitempty"`
}

type pageRecord struct {
	V            int        `json:"v"`
	User         hotline.ID `json:"user"`
	Conversation hotline.ID `json:"conversation,omitzero"`
	Audience     string     `json:"audience"`
	AfterHours   bool       `json:"after_hours,omitempty"`
	Waiting      int        `json:"waiting,omitempty"`
	Urgent       int        `json:"urgent,omitempty"`
	Body         string     `json:"body,omitempty"`
	CreatedAt    int64      `json:"created,omitempty"`
}

func (r *rotationRecord) version() int { return r.V }
func (r *overrideRecord) version() int { return r.V }
func (r *closureRecord) version() int  { return r.V }
func (r *pageRecord) version() int     { return r.V }

func encodeRotation(r hotline.Rotation) ([]byte, error) {
	days := make([]int, len(r.Weekdays))
	for i, d := range r.Weekdays {
		days[i] = int(d)
	}
	return json.Marshal(rotationRecord{V: rotationRecordVersion, Responder: r.ResponderID, Weekdays: days,
		Start: int(r.Start), End: int(r.End), From: nanos(r.From), Until: nanos(r.Until)})
}

func decodeRotation(key, b []byte) (hotline.Rotation, error) {
	var r rotationRecord
	if err := unmarshal("rotation", b, &r, rotationRecordVersion); err != nil {
		return hotline.Rotation{}, err
	}
	days := make([]time.Weekday, len(r.Weekdays))
	for i, d := range r.Weekdays {
		days[i] = time.Weekday(d)
	}
	return hotline.Rotation{ID: idFrom(key, 0), ResponderID: r.Responder, Weekdays: days,
		Start: hotline.ClockTime(r.Start), End: hotline.ClockTime(r.End), From: fromNanos(r.From), Until: fromNanos(r.Until)}, nil
}

func encodeOverride(o hotline.Override) ([]byte, error) {
	return json.Marshal(overrideRecord{V: overrideRecordVersion, Responder: o.ResponderID, Kind: string(o.Kind),
		Start: nanos(o.Start), End: nanos(o.End), Note: o.Note})
}

func decodeOverride(key, b []byte) (hotline.Override, error) {
	var r overrideRecord
	if err := unmarshal("override", b, &r, overrideRecordVersion); err != nil {
		return hotline.Override{}, err
	}
	return hotline.Override{ID: idFrom(key, 0), ResponderID: r.Responder, Kind: hotline.OverrideKind(r.Kind),
		Start: fromNanos(r.Start), End: fromNanos(r.End), Note: r.Note}, nil
}

func encodeClosure(c hotline.Closure) ([]byte, error) {
	return json.Marshal(closureRecord{V: closureRecordVersion, Start: nanos(c.Start), End: nanos(c.End), Reason: c.Reason})
}

func decodeClosure(key, b []byte) (hotline.Closure, error) {
	var r closureRecord
	if err := unmarshal("closure", b, &r, closureRecordVersion); err != nil {
		return hotline.Closure{}, err
	}
	return hotline.Closure{ID: idFrom(key, 0), Start: fromNanos(r.Start), End: fromNanos(r.End), Reason: r.Reason}, nil
}

func encodePage(p hotline.PageRecord) ([]byte, error) {
	return json.Marshal(pageRecord{V: pageRecordVersion, User: p.UserID, Conversation: p.ConversationID,
		Audience: string(p.Audience), AfterHours: p.AfterHours, Waiting: p.Waiting, Urgent: p.Urgent, Body: p.Body,
		CreatedAt: nanos(p.CreatedAt)})
}

func decodePage(key, b []byte) (hotline.PageRecord, error) {
	var r pageRecord
	if err := unmarshal("page", b, &r, pageRecordVersion); err != nil {
		return hotline.PageRecord{}, err
	}
	return hotline.PageRecord{ID: idFrom(key, 0), UserID: r.User, ConversationID: r.Conversation,
		Audience: hotline.PageAudience(r.Audience), AfterHours: r.AfterHours, Waiting: r.Waiting, Urgent: r.Urgent,
		Body: r.Body, CreatedAt: fromNanos(r.CreatedAt)}, nil
}

// each decodes every record of a bucket keyed by ID, oldest first.
func each[T any](t *tx, bucket []byte, decode func(k, v []byte) (T, error), fn func(T) error) error {
	return t.scan(bucket, nil, hotline.ID{}, func(k, v []byte) error {
		r, err := decode(k, v)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// one decodes the record with the ID, or returns ENOTFOUND naming what.
func one[T any](t *tx, bucket []byte, id hotline.ID, what string, decode func(k, v []byte) (T, error)) (T, error) {
	var zero T
	v, err := t.get(bucket, id[:])
	if err != nil {
		return zero, err
	} else if v == nil || hotline.IsZeroID(id) {
		return zero, notFound("%s %s not found.", what, id)
	}
	return decode(id[:], v)
}

// put writes an encoded record under its ID.
func (t *tx) put(bucket []byte, id hotline.ID, what string, v []byte, err error) error {
	if err != nil {
		return err
	}
	if hotline.IsZeroID(id) {
		return hotline.Errorf(hotline.EINVALID, "A %s needs an ID.", what)
	}
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	return b.Put(id[:], v)
}

// remove deletes the record under the ID, or fails with ENOTFOUND.
func (t *tx) remove(bucket []byte, id hotline.ID, what string) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	if hotline.IsZeroID(id) || b.Get(id[:]) == nil {
		return notFound("%s %s not found.", what, id)
	}
	return b.Delete(id[:])
}

// Rotations calls fn for each weekly rotation, oldest first.
func (t *tx) Rotations(fn func(hotline.Rotation) error) error {
	return each(t, bucketRotations, decodeRotation, fn)
}

// Overrides calls fn for each override, oldest first.
func (t *tx) Overrides(fn func(hotline.Override) error) error {
	return each(t, bucketOverrides, decodeOverride, fn)
}

// Closures calls fn for each closure, oldest first.
func (t *tx) Closures(fn func(hotline.Closure) error) error {
	return each(t, bucketClosures, decodeClosure, fn)
}

// Rotation returns the rotation with the ID, or ENOTFOUND.
func (t *tx) Rotation(id hotline.ID) (hotline.Rotation, error) {
	return one(t, bucketRotations, id, "Rotation", decodeRotation)
}

// Override returns the override with the ID, or ENOTFOUND.
func (t *tx) Override(id hotline.ID) (hotline.Override, error) {
	return one(t, bucketOverrides, id, "Override", decodeOverride)
}

// Closure returns the closure with the ID, or ENOTFOUND.
func (t *tx) Closure(id hotline.ID) (hotline.Closure, error) {
	return one(t, bucketClosures, id, "Closure", decodeClosure)
}

// PutRotation writes the rotation under its ID.
func (t *tx) PutRotation(r hotline.Rotation) error {
	v, err := encodeRotation(r)
	return t.put(bucketRotations, r.ID, "rotation", v, err)
}

// PutOverride writes the override under its ID.
func (t *tx) PutOverride(o hotline.Override) error {
	v, err := encodeOverride(o)
	return t.put(bucketOverrides, o.ID, "override", v, err)
}

// PutClosure writes the closure under its ID.
func (t *tx) PutClosure(c hotline.Closure) error {
	v, err := encodeClosure(c)
	return t.put(bucketClosures, c.ID, "closure", v, err)
}

// DeleteRotation deletes the rotation, or fails with ENOTFOUND.
func (t *tx) DeleteRotation(id hotline.ID) error { return t.remove(bucketRotations, id, "Rotation") }

// DeleteOverride deletes the override, or fails with ENOTFOUND.
func (t *tx) DeleteOverride(id hotline.ID) error { return t.remove(bucketOverrides, id, "Override") }

// DeleteClosure deletes the closure, or fails with ENOTFOUND.
func (t *tx) DeleteClosure(id hotline.ID) error { return t.remove(bucketClosures, id, "Closure") }

// AssignedTo calls fn with each open conversation assigned to the user, oldest first.
func (t *tx) AssignedTo(userID hotline.ID, fn func(hotline.ID) error) error {
	if hotline.IsZeroID(userID) {
		return nil
	}
	var ids []hotline.ID
	err := t.scan(bucketConversationsByAssignee, bytes.Clone(userID[:]), hotline.ID{}, func(k, _ []byte) error {
		ids = append(ids, idFrom(k, idLen))
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := fn(id); err != nil {
			return stopOK(err)
		}
	}
	return nil
}

// OpenCounts returns how many open conversations each user is assigned.
func (t *tx) OpenCounts() (map[hotline.ID]int, error) {
	b, err := t.bucket(bucketConversationsByAssignee)
	if err != nil {
		return nil, err
	}
	counts := map[hotline.ID]int{}
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) == 2*idLen {
			counts[idFrom(k, 0)]++
		}
	}
	return counts, nil
}

// PutPage records a page under its ID and indexes it under its user.
func (t *tx) PutPage(p hotline.PageRecord) error {
	if hotline.IsZeroID(p.UserID) {
		return hotline.Errorf(hotline.EINVALID, "A page needs a user.")
	}
	if old, err := t.page(p.ID); err == nil && old.UserID != p.UserID {
		if err := t.updateIndex(bucketPagesByUser, pairKey(old.UserID, old.ID), nil, nil); err != nil {
			return err
		}
	}
	v, err := encodePage(p)
	if err := t.put(bucketPages, p.ID, "page", v, err); err != nil {
		return err
	}
	return t.updateIndex(bucketPagesByUser, nil, pairKey(p.UserID, p.ID), emptyValue)
}

func (t *tx) page(id hotline.ID) (hotline.PageRecord, error) {
	return one(t, bucketPages, id, "Page", decodePage)
}

// LastPage returns the newest page sent to the user, and false when none was.
func (t *tx) LastPage(userID hotline.ID) (hotline.PageRecord, bool, error) {
	b, err := t.bucket(bucketPagesByUser)
	if err != nil {
		return hotline.PageRecord{}, false, err
	}
	c := b.Cursor()
	end := pairKey(userID, maxID)
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else if !bytes.Equal(k, end) {
		k, _ = c.Prev()
	}
	if !hasPrefix(k, userID[:]) || len(k) != 2*idLen {
		return hotline.PageRecord{}, false, nil
	}
	p, err := t.page(idFrom(k, idLen))
	if err != nil {
		return hotline.PageRecord{}, false, err
	}
	return p, true, nil
}

// Pages calls fn for each page older than before, newest first.
func (t *tx) Pages(before hotline.ID, fn func(hotline.PageRecord) error) error {
	b, err := t.bucket(bucketPages)
	if err != nil {
		return err
	}
	c := b.Cursor()
	var k, v []byte
	if hotline.IsZeroID(before) {
		k, v = c.Last()
	} else {
		k, _ = c.Seek(before[:])
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	for ; k != nil; k, v = c.Prev() {
		p, err := decodePage(k, v)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return stopOK(err)
		}
	}
	return nil
}

// routing checks that schedule records and pages decode and name existing users, and
// that the pages index and the pages match both ways. (The assignee index is checked
// with the other conversation indexes.)
func (c *checker) routing() error {
	userExists := func(id hotline.ID) bool { return c.t.tx.Bucket(bucketUsers).Get(id[:]) != nil }
	err := c.each(bucketRotations, func(k, v []byte) {
		r, err := decodeRotation(k, v)
		switch {
		case len(k) != idLen:
			c.report("rotations %x: malformed key", k)
		case err != nil:
			c.report("rotation %s: %v", idFrom(k, 0), err)
		case !userExists(r.ResponderID):
			c.report("rotation %s: user %s does not exist", r.ID, r.ResponderID)
		}
	})
	if err != nil {
		return err
	}
	err = c.each(bucketOverrides, func(k, v []byte) {
		o, err := decodeOverride(k, v)
		switch {
		case len(k) != idLen:
			c.report("overrides %x: malformed key", k)
		case err != nil:
			c.report("override %s: %v", idFrom(k, 0), err)
		case !userExists(o.ResponderID):
			c.report("override %s: user %s does not exist", o.ID, o.ResponderID)
		}
	})
	if err != nil {
		return err
	}
	err = c.each(bucketClosures, func(k, v []byte) {
		if _, err := decodeClosure(k, v); len(k) != idLen || err != nil {
			c.report("closure %x: malformed (%v)", k, err)
		}
	})
	if err != nil {
		return err
	}
	err = c.each(bucketPages, func(k, v []byte) {
		p, err := decodePage(k, v)
		switch {
		case len(k) != idLen:
			c.report("pages %x: malformed key", k)
		case err != nil:
			c.report("page %s: %v", idFrom(k, 0), err)
		default:
			c.wantEntry(bucketPagesByUser, pairKey(p.UserID, p.ID), nil, "page "+p.ID.String())
		}
	})
	if err != nil {
		return err
	}
	return c.each(bucketPagesByUser, func(k, _ []byte) {
		if len(k) != 2*idLen {
			c.report("%s %x: malformed key", bucketPagesByUser, k)
			return
		}
		p, err := c.t.page(idFrom(k, idLen))
		switch {
		case hotline.IsNotFound(err):
			c.report("%s %x: page %s does not exist", bucketPagesByUser, k, idFrom(k, idLen))
		case err != nil:
			c.report("%s %x: %v", bucketPagesByUser, k, err)
		case p.UserID != idFrom(k, 0):
			c.report("%s %x: page %s belongs to user %s", bucketPagesByUser, k, p.ID, p.UserID)
		}
	})
}
