package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// The hash chain of each conversation (hotline/chain.go) and the data keys waiting
// to be destroyed (doc.go draws the buckets).
var (
	bucketChainHeads   = []byte("chain_heads")
	bucketStatusEvents = []byte("status_events")
	bucketShredPending = []byte("shred_pending")
	bucketDataKeys     = []byte("data_keys")
	evidenceBuckets    = [][]byte{bucketChainHeads, bucketStatusEvents, bucketShredPending, bucketDataKeys}
)

const (
	headRecordVersion   = 1
	statusRecordVersion = 1
	nonceLen            = 16
)

// A chain head is stored under its conversation's ID as 41 bytes: a version byte
// (headRecordVersion), seq (8 bytes, big-endian), the last entry's hash (32 bytes).
// Not JSON like the other records: every read of a conversation reads its head.
const headRecordLen = 1 + 8 + len(hotline.Digest{})

// statusRecord is a delivery status entry, stored under conversationID ‖ eventID.
// It holds no content: a status, Twilio's SID and error.
type statusRecord struct {
	V            int            `json:"v"`
	Message      hotline.ID     `json:"msg"`
	At           int64          `json:"at"`
	Status       hotline.Status `json:"status,omitempty"`
	SID          string         `json:"sid,omitempty"`
	ErrorCode    int            `json:"error_code,omitempty"`
	ErrorMessage string         `json:"error_message,omitempty"`
	DoneAt       string         `json:"done_at,omitempty"`
	Seq          uint64         `json:"seq"`
	Prev         string         `json:"prev,omitempty"`
	Hash         string         `json:"hash"`
}

func (r *statusRecord) version() int { return r.V }

func encodeStatus(e hotline.StatusEvent) ([]byte, error) {
	r := statusRecord{V: statusRecordVersion, Message: e.MessageID, At: nanos(e.At), Status: e.Status, SID: e.SID,
		ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, DoneAt: e.DoneAt, Seq: e.Chain.Seq, Hash: e.Chain.Hash.String()}
	if e.Chain.Seq > 1 {
		r.Prev = e.Chain.Prev.String()
	}
	return json.Marshal(r)
}

// decodeStatus decodes the status entry stored under key (conversationID ‖ eventID).
func decodeStatus(key, b []byte) (hotline.StatusEvent, error) {
	var r statusRecord
	if err := unmarshal("status entry", b, &r, statusRecordVersion); err != nil {
		return hotline.StatusEvent{}, err
	}
	e := hotline.StatusEvent{ID: idFrom(key, idLen), ConversationID: idFrom(key, 0), MessageID: r.Message, At: fromNanos(r.At),
		Status: r.Status, SID: r.SID, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, DoneAt: r.DoneAt,
		Chain: hotline.ChainLink{Seq: r.Seq}}
	var err error
	if e.Chain.Hash, err = hotline.ParseDigest(r.Hash); err != nil {
		return e, fmt.Errorf("decode status entry record: hash: malformed hash")
	}
	if r.Seq > 1 {
		if e.Chain.Prev, err = hotline.ParseDigest(r.Prev); err != nil {
			return e, fmt.Errorf("decode status entry record: prev: malformed hash")
		}
	}
	return e, nil
}

// chainHead returns a conversation's chain head; the zero head when it has no
// chained record yet.
func (t *tx) chainHead(id hotline.ID) (hotline.ChainHead, error) {
	b, err := t.bucket(bucketChainHeads)
	if err != nil {
		return hotline.ChainHead{}, err
	}
	v := b.Get(id[:])
	switch {
	case v == nil:
		return hotline.ChainHead{}, nil
	case len(v) != headRecordLen || v[0] != headRecordVersion:
		return hotline.ChainHead{}, fmt.Errorf("decode chain head record: %d bytes, this binary knows %d bytes of version %d", len(v), headRecordLen, headRecordVersion)
	}
	h := hotline.ChainHead{Seq: binary.BigEndian.Uint64(v[1:9])}
	copy(h.Hash[:], v[9:])
	return h, nil
}

func putChainHead(b *bolt.Bucket, id hotline.ID, h hotline.ChainHead) error {
	v := make([]byte, 0, headRecordLen)
	v = append(binary.BigEndian.AppendUint64(append(v, headRecordVersion), h.Seq), h.Hash[:]...)
	return b.Put(bytes.Clone(id[:]), v)
}

// link appends an entry with the content to the conversation's chain: it returns
// the entry's link and moves the head.
func (t *tx) link(conversationID hotline.ID, content []byte) (hotline.ChainLink, error) {
	head, err := t.chainHead(conversationID)
	if err != nil {
		return hotline.ChainLink{}, err
	}
	l := hotline.Link(conversationID, head, hotline.ContentHash(content))
	b, err := t.bucket(bucketChainHeads)
	if err != nil {
		return l, err
	}
	return l, putChainHead(b, conversationID, hotline.ChainHead{Seq: l.Seq, Hash: l.Hash})
}

// chainNew gives a new message its nonce (unless it has one) and its link.
func (t *tx) chainNew(m *hotline.Message) error {
	if len(m.Chain.Nonce) == 0 {
		m.Chain.Nonce = make([]byte, nonceLen)
		rand.Read(m.Chain.Nonce)
	}
	m.Chain.Written = nil
	l, err := t.link(m.ConversationID, hotline.MessageContent(*m))
	if err != nil {
		return err
	}
	m.Chain.Seq, m.Chain.Prev, m.Chain.Hash = l.Seq, l.Prev, l.Hash
	return nil
}

// chainUpdate checks that an update of a stored message changes only its delivery
// (status, SID, error, Twilio's done date) and appends a status entry when it
// does: a message's content is append-only.
func (t *tx) chainUpdate(old hotline.Message, m *hotline.Message) error {
	written := hotline.WrittenDelivery(old)
	m.Chain = old.Chain
	m.Chain.Written = &written
	if old.Chain.Seq > 0 && !bytes.Equal(hotline.MessageContent(old), hotline.MessageContent(*m)) {
		return hotline.Errorf(hotline.EINTERNAL, "message %s: only the delivery status of a stored message may change; its content is append-only", m.ID)
	}
	if hotline.DeliveryOf(*m) == written {
		m.Chain.Written = nil // nothing differs from how it was written
	}
	if hotline.DeliveryOf(*m) == hotline.DeliveryOf(old) && m.Extra[hotline.ExtraDoneDate] == old.Extra[hotline.ExtraDoneDate] {
		return nil
	}
	e := hotline.StatusEvent{ID: eventID(m.UpdatedAt), ConversationID: m.ConversationID, MessageID: m.ID, At: m.UpdatedAt,
		Status: m.Status, SID: m.TwilioSID, ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage, DoneAt: m.Extra[hotline.ExtraDoneDate]}
	l, err := t.link(m.ConversationID, hotline.StatusContent(e))
	if err != nil {
		return err
	}
	e.Chain = l
	v, err := encodeStatus(e)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketStatusEvents)
	if err != nil {
		return err
	}
	return b.Put(pairKey(e.ConversationID, e.ID), v)
}

// eventID is the ID of a status entry made at t: stamped with t, or with the
// clock when t is not a time an ID can hold.
func eventID(t time.Time) hotline.ID {
	if t.UnixMilli() <= 0 || t.Year() > 10000 {
		t = time.Now()
	}
	return hotline.NewID(t)
}

// StatusEvents calls fn for each delivery status entry of the conversation,
// oldest first.
func (t *tx) StatusEvents(conversationID hotline.ID, fn func(hotline.StatusEvent) error) error {
	return t.scan(bucketStatusEvents, conversationID[:], hotline.ID{}, func(k, v []byte) error {
		e, err := decodeStatus(k, v)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// chainEntries returns every entry of a conversation's chain, as the records say.
func (t *tx) chainEntries(id hotline.ID) ([]hotline.ChainEntry, error) {
	var entries []hotline.ChainEntry
	err := t.Messages(id, hotline.ID{}, func(m hotline.Message) error {
		entries = append(entries, hotline.MessageEntry(m))
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = t.StatusEvents(id, func(e hotline.StatusEvent) error {
		entries = append(entries, hotline.StatusEntry(e))
		return nil
	})
	return entries, err
}

// verifyConversation checks one conversation's chain against its head.
func (t *tx) verifyConversation(id hotline.ID) (*hotline.ChainBreak, error) {
	head, err := t.chainHead(id)
	if err != nil {
		return nil, err
	}
	entries, err := t.chainEntries(id)
	if err != nil {
		return nil, err
	}
	if brk := hotline.VerifyChain(id, entries, head); brk != nil {
		return brk, nil
	}
	return nil, nil
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Conversations int // chains checked
	Entries       int // entries checked (messages and status changes)
	// Breaks are the chains that do not verify, each with its first bad entry.
	Breaks []*hotline.ChainBreak
}

// Verify checks the hash chain of one conversation (id), or of every conversation
// when id is zero, in short read transactions: that each entry hashes to what it
// says, follows the one before it, and that the last one is the conversation's
// head. It reports the first entry of each chain that does not match. The error is
// for failing to check at all (a record that does not decode is a break).
func (s *Store) Verify(ctx context.Context, id hotline.ID) (VerifyReport, error) {
	var rep VerifyReport
	check := func(tx *tx, cid hotline.ID) error {
		head, err := tx.chainHead(cid)
		if err != nil {
			rep.Breaks = append(rep.Breaks, &hotline.ChainBreak{ConversationID: cid, Reason: err.Error()})
			return nil
		}
		entries, err := tx.chainEntries(cid)
		if err != nil {
			rep.Breaks = append(rep.Breaks, &hotline.ChainBreak{ConversationID: cid, Reason: "a record does not decode: " + err.Error()})
			return nil
		}
		rep.Conversations++
		rep.Entries += len(entries)
		if brk := hotline.VerifyChain(cid, entries, head); brk != nil {
			rep.Breaks = append(rep.Breaks, brk)
		}
		return nil
	}
	if !hotline.IsZeroID(id) {
		err := s.View(ctx, func(rt hotline.ReadTx) error {
			t := rt.(*tx)
			if v, err := t.get(bucketConversations, id[:]); err != nil {
				return err
			} else if v == nil {
				if h, _ := t.get(bucketChainHeads, id[:]); h == nil {
					return notFound("Conversation %s not found.", id)
				}
			}
			return check(t, id)
		})
		return rep, err
	}
	// Every conversation with a head or a record: a conversation record deleted
	// behind its messages' back is a break too.
	var after hotline.ID
	for {
		var batch []hotline.ID
		err := s.View(ctx, func(rt hotline.ReadTx) error {
			batch = batch[:0]
			t := rt.(*tx)
			seen := map[hotline.ID]bool{}
			for _, name := range [][]byte{bucketConversations, bucketChainHeads} {
				b, err := t.bucket(name)
				if err != nil {
					return err
				}
				c := b.Cursor()
				k, _ := seekAfter(c, nil, after)
				for n := 0; k != nil && n < pageSize; k, _ = c.Next() {
					if len(k) != idLen {
						continue
					}
					cid := idFrom(k, 0)
					if !seen[cid] {
						seen[cid] = true
						batch = append(batch, cid)
					}
					n++
				}
			}
			sortIDs(batch)
			if len(batch) > pageSize {
				batch = batch[:pageSize]
			}
			for _, cid := range batch {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := check(t, cid); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || len(batch) < pageSize {
			return rep, err
		}
		after = batch[len(batch)-1]
	}
}

// pageSize bounds the conversations one read transaction of Verify checks.
const pageSize = 256

func sortIDs(ids []hotline.ID) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && bytes.Compare(ids[j][:], ids[j-1][:]) < 0; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// createEvidenceBuckets is the migration to tamper-evident history: the chain heads,
// the status entries and the data keys waiting to be destroyed; and it chains the
// messages already stored, each conversation's in key order (the order they were
// written), so that from now on any change shows. Their statuses are taken as they
// are: what happened to them before the migration is not in the chain.
func createEvidenceBuckets(btx *bolt.Tx) error {
	for _, name := range evidenceBuckets {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	msgs := btx.Bucket(bucketMessages)
	heads := btx.Bucket(bucketChainHeads)
	type update struct{ k, v []byte }
	var updates []update
	var conv hotline.ID
	var head hotline.ChainHead
	flush := func() error {
		if head.Seq > 0 {
			return putChainHead(heads, conv, head)
		}
		return nil
	}
	err := msgs.ForEach(func(k, v []byte) error {
		if len(k) != 2*idLen {
			return nil // Check reports it
		}
		m, err := decodeMessage(k, v)
		if err != nil {
			return err
		}
		if m.ConversationID != conv {
			if err := flush(); err != nil {
				return err
			}
			conv, head = m.ConversationID, hotline.ChainHead{}
		}
		m.Chain = hotline.ChainLink{Nonce: make([]byte, nonceLen)}
		rand.Read(m.Chain.Nonce)
		l := hotline.Link(conv, head, hotline.ContentHash(hotline.MessageContent(m)))
		m.Chain.Seq, m.Chain.Prev, m.Chain.Hash = l.Seq, l.Prev, l.Hash
		head = hotline.ChainHead{Seq: l.Seq, Hash: l.Hash}
		nv, err := encodeMessage(m)
		if err != nil {
			return err
		}
		updates = append(updates, update{bytes.Clone(k), nv})
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	for _, u := range updates {
		if err := msgs.Put(u.k, u.v); err != nil {
			return err
		}
	}
	return nil
}
