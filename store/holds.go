package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// The index of conversations under a legal hold (doc.go draws it): PutConversation
// moves its entry with the hold flag, in the same transaction, so coordinators list
// the holds without walking every conversation.
var (
	bucketConversationsHeld = []byte("idx_conversations_held")
	holdBuckets             = [][]byte{bucketConversationsHeld}
)

// heldKey lists a conversation under a legal hold: its ID; nil without a hold.
func heldKey(c hotline.Conversation) []byte {
	if !c.LegalHold {
		return nil
	}
	return bytes.Clone(c.ID[:])
}

// createHoldIndex is the migration that adds the legal hold index, filled from the
// conversations already stored.
func createHoldIndex(btx *bolt.Tx) error {
	for _, name := range holdBuckets {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	idx := btx.Bucket(bucketConversationsHeld)
	return btx.Bucket(bucketConversations).ForEach(func(_, v []byte) error {
		c, err := decodeConversation(v)
		if err != nil {
			return err
		}
		if k := heldKey(c); k != nil {
			return idx.Put(k, emptyValue)
		}
		return nil
	})
}
