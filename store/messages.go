package store

import (
	"bytes"

	"github.com/hotlinehq/hotline/hotline"
)

// Message returns the message of the conversation with the ID, or ENOTFOUND.
func (t *tx) Message(conversationID, id hotline.ID) (hotline.Message, error) {
	key := pairKey(conversationID, id)
	v, err := t.get(bucketMessages, key)
	if err != nil {
		return hotline.Message{}, err
	} else if v == nil {
		return hotline.Message{}, notFound("Message %s not found.", id)
	}
	return t.decodeMessage(key, v)
}

// MessageBySID returns the message Twilio knows by the SID, or ENOTFOUND.
func (t *tx) MessageBySID(sid string) (hotline.Message, error) {
	key, err := t.messageKeyBySID(sid)
	if err != nil {
		return hotline.Message{}, err
	}
	return t.Message(idFrom(key, 0), idFrom(key, idLen))
}

// MessageIDBySID returns the conversation and the ID of the message Twilio knows by
// the SID, or ENOTFOUND, from the SID index and without decoding the message: only
// its key is looked up, so that a dangling index entry is not taken for a message.
func (t *tx) MessageIDBySID(sid string) (conversationID, id hotline.ID, err error) {
	key, err := t.messageKeyBySID(sid)
	if err != nil {
		return hotline.ID{}, hotline.ID{}, err
	}
	b, err := t.bucket(bucketMessages)
	if err != nil {
		return hotline.ID{}, hotline.ID{}, err
	}
	conversationID, id = idFrom(key, 0), idFrom(key, idLen)
	if b.Get(key) == nil {
		return hotline.ID{}, hotline.ID{}, notFound("Message %s not found.", id)
	}
	return conversationID, id, nil
}

// messageKeyBySID returns the key (conversationID ‖ messageID) the SID index holds
// for the SID, or ENOTFOUND.
func (t *tx) messageKeyBySID(sid string) ([]byte, error) {
	if sid == "" {
		return nil, notFound("No message with an empty SID.")
	}
	key, err := t.get(bucketMessageBySID, []byte(sid))
	if err != nil {
		return nil, err
	} else if len(key) != 2*idLen {
		return nil, notFound("No message with SID %s.", sid)
	}
	return key, nil
}

// Messages calls fn for each message of the conversation after the message with ID
// after (from the first when after is zero), oldest first.
func (t *tx) Messages(conversationID, after hotline.ID, fn func(hotline.Message) error) error {
	return t.scan(bucketMessages, conversationID[:], after, func(k, v []byte) error {
		m, err := t.decodeMessage(k, v)
		if err != nil {
			return err
		}
		return fn(m)
	})
}

// PutMessage writes the message and moves its SID index entry. A SID that belongs to
// another message is ECONFLICT.
//
// A new message is appended to its conversation's hash chain (chain.go): it gets a
// nonce and its link, whatever m.Chain held. A stored message may change only its
// delivery (status, SID, error, Twilio's done date; else EINTERNAL), and each such
// change is appended to the chain as a status entry.
func (t *tx) PutMessage(m hotline.Message) error {
	switch {
	case hotline.IsZeroID(m.ID):
		return hotline.Errorf(hotline.EINVALID, "A message needs an ID.")
	case hotline.IsZeroID(m.ConversationID):
		return hotline.Errorf(hotline.EINVALID, "A message needs a conversation.")
	}
	key := pairKey(m.ConversationID, m.ID)
	b, err := t.bucket(bucketMessages)
	if err != nil {
		return err
	}
	// Only an update needs the stored message; a new one is just looked up.
	var old hotline.Message
	prev := b.Get(key)
	isNew := prev == nil
	if !isNew {
		if old, err = t.decodeMessage(key, bytes.Clone(prev)); err != nil {
			return err
		}
	}
	if _, err := t.claimKey(bucketMessageBySID, nonEmpty(m.TwilioSID), key, func() string {
		return "Twilio message " + m.TwilioSID + " is already stored."
	}); err != nil {
		return err
	}
	if isNew {
		err = t.chainNew(&m)
	} else {
		err = t.chainUpdate(old, &m)
	}
	if err != nil {
		return err
	}
	v, err := t.encodeMessage(key, m)
	if err != nil {
		return err
	}
	if err := b.Put(key, v); err != nil {
		return err
	}
	var oldSID []byte
	if isNew {
		if err := t.count(bucketMessages, 1); err != nil {
			return err
		}
		if err := t.countHourly(m); err != nil {
			return err
		}
	} else {
		oldSID = nonEmpty(old.TwilioSID)
	}
	return t.updateIndex(bucketMessageBySID, oldSID, nonEmpty(m.TwilioSID), key)
}
