package store

import (
	"encoding/json"
	"fmt"

	"github.com/hotlinehq/hotline/hotline"
)

// The sealed parts of records (records.go): what a texter wrote and where they
// write from, encrypted under the conversation's or the contact's data key, with
// the bucket and record key as associated data (crypto.go). A transaction of a
// store without a master key writes the plain form; every transaction reads both,
// so that a store being encrypted (encrypt.go) works throughout.

type sealedContact struct {
	Address hotline.Address `json:"addr"`
}

type sealedConversation struct {
	TriageTerms []string `json:"triage,omitempty"`
}

type sealedMessage struct {
	Body    string            `json:"body,omitempty"`
	Media   []mediaRecord     `json:"media,omitempty"`
	Extra   map[string]string `json:"extra,omitempty"`
	Webhook *webhookRecord    `json:"webhook,omitempty"`
	Nonce   []byte            `json:"nonce,omitempty"`
}

type sealedOutbox struct {
	To   hotline.Address `json:"to"`
	Body string          `json:"body,omitempty"`
}

// sealJSON seals v, JSON-encoded, for the record at bucket/key under ref's data key.
func (t *tx) sealJSON(ref keyRef, bucket, key []byte, v jsonAppender) ([]byte, error) {
	return withRecordJSON(v, func(plain []byte) ([]byte, error) { return t.seal(ref, bucket, key, plain) })
}

// openJSON opens a sealed value into v.
func (t *tx) openJSON(ref keyRef, bucket, key, sealed []byte, kind string, v any) error {
	plain, err := t.open(ref, bucket, key, sealed)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("decode %s record: sealed part: %w", kind, jsonErrorWithoutContent(err))
	}
	return nil
}

func (t *tx) encodeContact(c hotline.Contact) ([]byte, error) {
	r := contactToRecord(c)
	if t.keys != nil {
		sealed, err := t.sealJSON(contactKey(c.ID), bucketContacts, c.ID[:], &sealedContact{Address: r.Address})
		if err != nil {
			return nil, err
		}
		r.Address, r.Sealed = "", sealed
	}
	return marshalRecord(&r), nil
}

// decodeContact decodes the contact stored under key (its ID).
func (t *tx) decodeContact(key, b []byte) (hotline.Contact, error) {
	var r contactRecord
	if err := unmarshal("contact", b, &r, contactRecordVersion); err != nil {
		return hotline.Contact{}, err
	}
	if r.Sealed != nil {
		var sc sealedContact
		if err := t.openJSON(contactKey(idFrom(key, 0)), bucketContacts, key, r.Sealed, "contact", &sc); err != nil {
			return hotline.Contact{}, err
		}
		r.Address = sc.Address
	}
	return contactFromRecord(r), nil
}

func (t *tx) encodeConversation(c hotline.Conversation) ([]byte, error) {
	r := conversationToRecord(c)
	if t.keys != nil && len(r.TriageTerms) > 0 {
		sealed, err := t.sealJSON(conversationKey(c.ID), bucketConversations, c.ID[:], &sealedConversation{TriageTerms: r.TriageTerms})
		if err != nil {
			return nil, err
		}
		r.TriageTerms, r.Sealed = nil, sealed
	}
	return marshalRecord(&r), nil
}

// decodeConversation decodes the conversation stored under key (its ID), with its
// chain head.
func (t *tx) decodeConversation(key, b []byte) (hotline.Conversation, error) {
	var r conversationRecord
	if err := unmarshal("conversation", b, &r, conversationRecordVersion); err != nil {
		return hotline.Conversation{}, err
	}
	if r.Sealed != nil {
		var sc sealedConversation
		if err := t.openJSON(conversationKey(idFrom(key, 0)), bucketConversations, key, r.Sealed, "conversation", &sc); err != nil {
			return hotline.Conversation{}, err
		}
		r.TriageTerms = sc.TriageTerms
	}
	c := conversationFromRecord(r)
	head, err := t.chainHead(c.ID)
	if err != nil {
		return c, err
	}
	c.Chain = head
	return c, nil
}

// encodeMessage writes the message stored under key (conversationID ‖ messageID).
func (t *tx) encodeMessage(key []byte, m hotline.Message) ([]byte, error) {
	r := messageToRecord(m)
	if t.keys != nil {
		sm := &sealedMessage{Body: r.Body, Media: r.Media, Extra: r.Extra, Webhook: r.Webhook, Nonce: r.Nonce}
		sealed, err := t.sealJSON(conversationKey(m.ConversationID), bucketMessages, key, sm)
		if err != nil {
			return nil, err
		}
		r.Body, r.Media, r.Extra, r.Webhook, r.Nonce, r.Sealed = "", nil, nil, nil, nil, sealed
	}
	return marshalRecord(&r), nil
}

// decodeMessage decodes the message stored under key (conversationID ‖ messageID).
func (t *tx) decodeMessage(key, b []byte) (hotline.Message, error) {
	var r messageRecord
	if err := unmarshal("message", b, &r, messageRecordVersion); err != nil {
		return hotline.Message{}, err
	}
	if r.Sealed != nil {
		var sm sealedMessage
		if err := t.openJSON(conversationKey(idFrom(key, 0)), bucketMessages, key, r.Sealed, "message", &sm); err != nil {
			return hotline.Message{}, err
		}
		r.Body, r.Media, r.Extra, r.Webhook, r.Nonce = sm.Body, sm.Media, sm.Extra, sm.Webhook, sm.Nonce
	}
	return messageFromRecord(key, r)
}

// encodeOutbox writes an outbox entry. Entries of a conversation (texts to a
// texter) are sealed under its key; pages to responders' own phones hold no
// texter's number or words and stay plain.
func (t *tx) encodeOutbox(e hotline.OutboxEntry) ([]byte, error) {
	r := outboxToRecord(e)
	if t.keys != nil && !hotline.IsZeroID(e.ConversationID) {
		sealed, err := t.sealJSON(conversationKey(e.ConversationID), bucketOutbox, e.ID[:], &sealedOutbox{To: r.To, Body: r.Body})
		if err != nil {
			return nil, err
		}
		r.To, r.Body, r.Sealed = "", "", sealed
	}
	return marshalRecord(&r), nil
}

// decodeOutbox decodes the outbox entry stored under key (its ID).
func (t *tx) decodeOutbox(key, b []byte) (hotline.OutboxEntry, error) {
	var r outboxRecord
	if err := unmarshal("outbox entry", b, &r, outboxRecordVersion); err != nil {
		return hotline.OutboxEntry{}, err
	}
	if r.Sealed != nil {
		var so sealedOutbox
		if err := t.openJSON(conversationKey(r.ConversationID), bucketOutbox, key, r.Sealed, "outbox entry", &so); err != nil {
			return hotline.OutboxEntry{}, err
		}
		r.To, r.Body = so.To, so.Body
	}
	return outboxFromRecord(key, r), nil
}

// isSealed reports whether a record value has a sealed part, without decoding
// the rest.
func isSealed(v []byte) bool {
	var r struct {
		Sealed json.RawMessage `json:"sealed"`
	}
	return json.Unmarshal(v, &r) == nil && len(r.Sealed) > 0
}
