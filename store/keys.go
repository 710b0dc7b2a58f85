package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// Bucket names. doc.go draws the tree; keep both in step.
var (
	bucketMeta                        = []byte("meta")
	bucketContacts                    = []byte("contacts")
	bucketContactByAddress            = []byte("idx_contact_address")
	bucketContactByHandle             = []byte("idx_contact_handle")
	bucketConversations               = []byte("conversations")
	bucketConversationsByContact      = []byte("idx_conversations_by_contact")
	bucketConversationsByState        = []byte("idx_conversations_by_state")
	bucketQueue                       = []byte("queue")
	bucketDeadlines                   = []byte("deadlines")
	bucketMessages                    = []byte("messages")
	bucketMessageBySID                = []byte("idx_message_sid")
	bucketOutbox                      = []byte("outbox")
	bucketCheckpoints                 = []byte("checkpoints")
	bucketOrphanStatuses              = []byte("orphan_statuses")
	bucketUsers                       = []byte("users")
	bucketUserByUsername              = []byte("idx_user_username")
	bucketSessions                    = []byte("sessions")
	bucketSessionsByUser              = []byte("idx_sessions_by_user")
	bucketAudit                       = []byte("audit")
	bucketCanned                      = []byte("canned_responses")
	keySchemaVersion                  = []byte("schema_version")
	keyCountPrefix                    = "count/"
	idLen                             = len(hotline.ID{})
	timeLen                           = 8
	emptyValue                        = []byte{}
	maxID                             = hotline.ID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	stateCodes                        = map[hotline.State]byte{hotline.StateWaiting: 1, hotline.StateAssigned: 2, hotline.StateActive: 3, hotline.StateClosed: 4}
	priorityRanks                     = map[hotline.Priority]byte{hotline.PriorityUrgent: 0, hotline.PriorityNormal: 1}
	unknownPriorityRank          byte = 2
)

// join concatenates key parts into a new slice.
func join(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// timeKey encodes t as 8 big-endian bytes of Unix nanoseconds with the sign bit
// flipped, so that byte order is time order. Times outside what an int64 of
// nanoseconds holds (before 1678, after 2262, and the zero time) are clamped.
func timeKey(t time.Time) []byte {
	var n int64
	switch {
	case t.Before(minKeyTime):
		n = math.MinInt64
	case t.After(maxKeyTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	b := make([]byte, timeLen)
	binary.BigEndian.PutUint64(b, uint64(n)^(1<<63))
	return b
}

// keyTime decodes a timeKey.
func keyTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// queueKey orders waiting conversations: priority rank (urgent is 0), then when they
// started waiting, then ID.
func queueKey(c hotline.Conversation) []byte {
	rank, ok := priorityRanks[c.Priority]
	if !ok {
		rank = unknownPriorityRank
	}
	return join([]byte{rank}, timeKey(c.WaitingSince), c.ID[:])
}

// deadlineKey orders conversations by their next timer.
func deadlineKey(deadline time.Time, id hotline.ID) []byte {
	return join(timeKey(deadline), id[:])
}

// stateKey lists conversations by state, oldest first within a state.
func stateKey(s hotline.State, id hotline.ID) []byte {
	return join([]byte{stateCodes[s]}, id[:])
}

// pairKey is parent ID ‖ child ID: a message under its conversation, a conversation
// under its contact.
func pairKey(parent, child hotline.ID) []byte {
	return join(parent[:], child[:])
}

// idFrom returns the 16 bytes at b[off:] as an ID (a copy).
func idFrom(b []byte, off int) hotline.ID {
	var id hotline.ID
	copy(id[:], b[off:off+idLen])
	return id
}

// hasPrefix reports whether k starts with prefix; a nil k (end of a cursor) never does.
func hasPrefix(k, prefix []byte) bool { return k != nil && bytes.HasPrefix(k, prefix) }

// seekAfter positions c at the first key with the prefix that comes after
// prefix‖after, or at the first key with the prefix when after is zero.
func seekAfter(c *bolt.Cursor, prefix []byte, after hotline.ID) ([]byte, []byte) {
	if hotline.IsZeroID(after) {
		if len(prefix) == 0 {
			return c.First()
		}
		return c.Seek(prefix)
	}
	start := join(prefix, after[:])
	k, v := c.Seek(start)
	if k != nil && bytes.Equal(k, start) {
		k, v = c.Next()
	}
	return k, v
}
