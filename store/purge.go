package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hotlinehq/hotline/hotline"
)

// DeleteConversation deletes a conversation and everything that hangs off it: its
// messages and their SID index entries, the outbox entries of those messages, its
// chain (head and status entries), and the conversation's own index entries,
// keeping the counters right; and in an encrypted store it destroys the
// conversation's data key once the transaction commits (crypto-shredding), so that
// copies of its records in backups cannot be read either. The contact stays (see
// DeleteContact). It fails with ENOTFOUND when there is no such conversation.
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
		sid, err := messageSID(v)
		if err != nil {
			return err
		}
		keys = append(keys, bytes.Clone(k))
		if sid != "" {
			if owner := sids.Get([]byte(sid)); bytes.Equal(owner, k) {
				sidKeys = append(sidKeys, []byte(sid))
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
	if err := t.deleteChain(id); err != nil {
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
	if err := t.count(bucketConversations, -1); err != nil {
		return err
	}
	return t.shredKey(conversationKey(id))
}

// messageSID reads a message record's Twilio SID, which is never sealed, without
// opening the rest.
func messageSID(v []byte) (string, error) {
	var r struct {
		V   int    `json:"v"`
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return "", fmt.Errorf("decode message record (%d bytes): %w", len(v), jsonErrorWithoutContent(err))
	}
	return r.SID, nil
}

// deleteChain deletes a conversation's chain head and status entries.
func (t *tx) deleteChain(id hotline.ID) error {
	events, err := t.bucket(bucketStatusEvents)
	if err != nil {
		return err
	}
	var keys [][]byte
	c := events.Cursor()
	for k, _ := c.Seek(id[:]); hasPrefix(k, id[:]); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := events.Delete(k); err != nil {
			return err
		}
	}
	heads, err := t.bucket(bucketChainHeads)
	if err != nil {
		return err
	}
	return heads.Delete(id[:])
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
	}{{bucketContactByAddress, t.addressKey(ct.Address)}, {bucketContactByHandle, nonEmpty(ct.Handle)}} {
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
	if err := t.count(bucketContacts, -1); err != nil {
		return err
	}
	return t.shredKey(contactKey(id))
}

// DeletePage deletes a page record and its entry in the per-user index. It fails
// with ENOTFOUND when there is no such page. (Its outbox entry went when the page
// was sent.)
func (t *tx) DeletePage(id hotline.ID) error {
	p, err := t.page(id)
	if err != nil {
		return err
	}
	if err := t.updateIndex(bucketPagesByUser, pairKey(p.UserID, p.ID), nil, nil); err != nil {
		return err
	}
	pages, err := t.bucket(bucketPages)
	if err != nil {
		return err
	}
	return pages.Delete(id[:])
}
