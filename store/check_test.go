package store

import (
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

func TestCheck_Clean(t *testing.T) {
	s := openTest(t, Options{})
	fixture(t, s)
	problems, err := s.Check(t.Context())
	if err != nil || len(problems) != 0 {
		t.Errorf("Check = %q, %v; want no problems", problems, err)
	}
}

// TestCheck_FindsPlantedProblems breaks the file behind the store's back in one way
// at a time and expects Check to name it.
func TestCheck_FindsPlantedProblems(t *testing.T) {
	tests := []struct {
		name  string
		plant func(tx *bolt.Tx, c hotline.Contact, conv hotline.Conversation, m hotline.Message) error
		want  string
	}{
		{"contact deleted behind its indexes", func(tx *bolt.Tx, c hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketContacts).Delete(c.ID[:])
		}, "idx_contact_address \"+1******0100\": contact " + "%CONTACT% does not exist"},
		{"address index missing", func(tx *bolt.Tx, c hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketContactByAddress).Delete([]byte(c.Address))
		}, "contact %CONTACT%: no idx_contact_address entry"},
		{"handle index points elsewhere", func(tx *bolt.Tx, c hotline.Contact, conv hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketContactByHandle).Put([]byte(c.Handle), conv.ID[:])
		}, "contact %CONTACT%: idx_contact_handle entry points to"},
		{"conversation deleted behind its indexes", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketConversations).Delete(conv.ID[:])
		}, "queue"},
		{"conversation missing from the queue", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketQueue).Delete(queueKey(conv))
		}, "conversation %CONV%: no queue entry"},
		{"stale deadline", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketDeadlines).Put(deadlineKey(testTime, conv.ID), nil)
		}, "stale entry for conversation %CONV%"},
		{"closed conversation still queued", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, _ hotline.Message) error {
			conv.State = hotline.StateClosed
			v, _ := encodeConversation(conv)
			return tx.Bucket(bucketConversations).Put(conv.ID[:], v)
		}, "stale entry for conversation %CONV%"},
		{"message of a missing conversation", func(tx *bolt.Tx, _ hotline.Contact, _ hotline.Conversation, m hotline.Message) error {
			m.ConversationID = hotline.NewID(testTime)
			v, _ := encodeMessage(m)
			return tx.Bucket(bucketMessages).Put(pairKey(m.ConversationID, m.ID), v)
		}, "conversation does not exist"},
		{"message deleted behind its SID", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, m hotline.Message) error {
			return tx.Bucket(bucketMessages).Delete(pairKey(conv.ID, m.ID))
		}, "idx_message_sid \"SM1\": message"},
		{"outbox entry without its message", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, _ hotline.Message) error {
			v, _ := encodeOutbox(hotline.OutboxEntry{ConversationID: conv.ID})
			id := hotline.NewID(testTime)
			return tx.Bucket(bucketOutbox).Put(id[:], v)
		}, "does not exist"},
		{"undecodable record", func(tx *bolt.Tx, c hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketContacts).Put(c.ID[:], []byte(`{"v":1,"id":`))
		}, "decode contact record"},
		{"record from the future", func(tx *bolt.Tx, _ hotline.Contact, conv hotline.Conversation, m hotline.Message) error {
			return tx.Bucket(bucketMessages).Put(pairKey(conv.ID, m.ID), []byte(`{"v":9}`))
		}, "version 9, this binary knows 1 to 2"},
		{"wrong counter", func(tx *bolt.Tx, _ hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketMeta).Put(counterKey(bucketMessages), []byte("5"))
		}, "counter count/messages is 5, bucket holds 1"},
		{"malformed checkpoint", func(tx *bolt.Tx, _ hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketCheckpoints).Put([]byte("inbound_recovery"), []byte("yesterday"))
		}, `checkpoint "inbound_recovery": `},
		{"undecodable orphan status", func(tx *bolt.Tx, _ hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.Bucket(bucketOrphanStatuses).Put([]byte("SM9"), []byte(`{"v":2}`))
		}, `orphan status "SM9": decode orphan status record: version 2`},
		{"missing bucket", func(tx *bolt.Tx, _ hotline.Contact, _ hotline.Conversation, _ hotline.Message) error {
			return tx.DeleteBucket(bucketDeadlines)
		}, "bucket deadlines is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			c, conv, m := fixture(t, s)
			raw(t, s, func(tx *bolt.Tx) error { return tt.plant(tx, c, conv, m) })

			problems, err := s.Check(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := strings.NewReplacer("%CONTACT%", c.ID.String(), "%CONV%", conv.ID.String()).Replace(tt.want)
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, want)
				if strings.Contains(p, m.Body) || strings.Contains(p, string(c.Address)) {
					t.Errorf("problem %q shows a message body or a phone number", p)
				}
			}
			if !found {
				t.Errorf("Check = %q, want a problem containing %q", problems, want)
			}
		})
	}
}

func TestCheck_Canceled(t *testing.T) {
	s := openTest(t, Options{})
	fixture(t, s)
	ctx, cancel := contextWithTimeout(t, -time.Second)
	defer cancel()
	if _, err := s.Check(ctx); err == nil {
		t.Error("Check with a canceled context succeeded")
	}
}
