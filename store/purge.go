package store

import (
	"bytes"

	"github.com/hotlinehq/hotline/hotline"
)

// DeleteConversation deletes a conversation and everything that hangs off it: its
// messages and their SID index entries, the outbox entries of those messages, and
// the conversation's own index entries, keeping the counters right. The contact
// stays (see DeleteContact). It fails with ENOTFOUND when there is no such
// conversation.
func (t *tx) DeleteConversation(id hotline.ID) error {
	conv, err := t.Conversation(id)
	if err != nil {
		return err
	}
	msgs, err := t.bucket(bucketMessages)
	if err != nil {
		return err
	}
	sids, err := t.bucket(bucketMessageBySID)
	if err != nil {
		return err
	}
	outbox, err := t.bucket(bucketOutbox)
	if err != nil {
		return err
	}
	// Collect the thread's keys first: deleting while a cursor walks is unsafe.
	var keys, sidKeys [][]byte
	c := msgs.Cursor()
	for k, v := c.Seek(id[:]); hasPrefix(k, id[:]); k, v = c.Next() {
		m, err := decodeMessage(k, v)
		if err != nil {
			return err
		}
		keys = append(keys, bytes.Clone(k))
		if m.TwilioSID != "" {
			if owner := sids.Get([]byte(m.TwilioSID)); bytes.Equal(owner, k) {
				sidKeys = append(sidKeys, []byte(m.TwilioSID))
			}
		}
	}
	for _, k := range sidKeys {
		if err := sids.Delete(k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := msgs.Delete(k); err != nil {
			return err
		}
		msgID := k[idLen:]
		if v := outbox.Get(msgID); v != nil {
			if e, err := decodeOutbox(msgID, v); err == nil && e.ConversationID == id {
				if err := outbox.Delete(bytes.Clone(msgID)); err != nil {
					return err
				}
			}
		}
	}
	if err := t.count(bucketMessages, -int64(len(keys))); err != nil {
		return err
	}
	for i, key := range indexKeys(conv) {
		if key == nil {
			continue
		}
		b, err := t.bucket(conversationIndexes[i])
		if err != nil {
			return err
		}
		if err := b.Delete(key); err != nil {
			return err
		}
	}
	convs, err := t.bucket(bucketConversations)
	if err != nil {
		return err
	}
	if err := convs.Delete(id[:]); err != nil {
		return err
	}
	return t.count(bucketConversations, -1)
}

// DeleteContact deletes a contact and its address and handle index entries. It
// fails with ENOTFOUND when there is none, and with ECONFLICT while one of its
// conversations is left.
func (t *tx) DeleteContact(id hotline.ID) error {
	ct, err := t.Contact(id)
	if err != nil {
		return err
	}
	byContact, err := t.bucket(bucketConversationsByContact)
	if err != nil {
		return err
	}
	if k, _ := byContact.Cursor().Seek(id[:]); hasPrefix(k, id[:]) {
		return hotline.Errorf(hotline.ECONFLICT, "Contact %s still has conversations.", id)
	}
	for _, ix := range []struct {
		bucket []byte
		key    []byte
	}{{bucketContactByAddress, []byte(ct.Address)}, {bucketContactByHandle, nonEmpty(ct.Handle)}} {
		if ix.key == nil {
			continue
		}
		b, err := t.bucket(ix.bucket)
		if err != nil {
			return err
		}
		if owner := b.Get(ix.key); bytes.Equal(owner, id[:]) {
			if err := b.Delete(ix.key); err != nil {
				return err
			}
		}
	}
	contacts, err := t.bucket(bucketContacts)
	if err != nil {
		return err
	}
	if err := contacts.Delete(id[:]); err != nil {
		return err
	}
	return t.count(bucketContacts, -1)
}
