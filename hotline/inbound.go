package hotline

import (
	"context"
	"time"
	"unicode/utf8"
)

// InboundMessage is a text a texter sent, as the webhook (or the simulator) received it.
type InboundMessage struct {
	SID        string // Twilio's MessageSid: the idempotency key
	AccountSID string
	From       Address
	To         Address
	Body       string
	Media      []Media
	Segments   int
	// Extra holds webhook parameters kept by configuration (location fields).
	Extra map[string]string
	// Webhook is the request as Twilio sent it (every parameter and the
	// signature), kept with the message as evidence; nil when no webhook brought it.
	Webhook *Webhook
}

// InboundResult tells the caller what ReceiveInbound stored.
type InboundResult struct {
	ConversationID ID
	MessageID      ID
	// Duplicate is set when the MessageSid was already stored: nothing changed.
	Duplicate bool
}

// Validate checks the message before anything is stored.
func (m InboundMessage) Validate() error {
	switch {
	case m.SID == "":
		return Errorf(EINVALID, "MessageSid is required.")
	case len(m.SID) > 64 || !printableASCII(m.SID):
		return Errorf(EINVALID, "MessageSid is not a Twilio message SID.")
	case m.From == "":
		return Errorf(EINVALID, "From is required.")
	case !utf8.ValidString(m.Body):
		return Errorf(EINVALID, "Body is not valid UTF-8.")
	case utf8.RuneCountInString(m.Body) > MaxBodyRunes:
		return Errorf(ETOOLARGE, "Body is longer than %d characters.", MaxBodyRunes)
	}
	return nil
}

// ReceiveInbound stores a texter's message and everything it causes (a new
// conversation, a welcome text in the outbox, an opt-out) in one transaction. It
// returns only after that transaction has committed, so a caller may acknowledge the
// message once it returns nil. A MessageSid seen before changes nothing.
func (s *Service) ReceiveInbound(ctx context.Context, in InboundMessage) (InboundResult, error) {
	if err := in.Validate(); err != nil {
		return InboundResult{}, err
	}
	if in.Webhook != nil {
		// Its digest, part of the message's chained content, depends on the request
		// alone: hash it here rather than under the store's write lock.
		wh := *in.Webhook
		wh.digest = WebhookDigest(wh)
		in.Webhook = &wh
	}
	policy := s.Policy()
	var res InboundResult
	var out changes
	err := s.store.Update(ctx, func(tx Tx) error {
		res, out = InboundResult{}, nil
		now := s.clock.Now()
		if convID, msgID, err := tx.MessageIDBySID(in.SID); err == nil {
			res = InboundResult{ConversationID: convID, MessageID: msgID, Duplicate: true}
			return nil
		} else if !IsNotFound(err) {
			return err
		}
		contact, err := findOrNewContact(tx, in.From, now)
		if err != nil {
			return err
		}
		conv, err := tx.LatestConversation(contact.ID)
		if err != nil && !IsNotFound(err) {
			return err
		}
		afterHours, err := s.afterHours(tx, conv, now, policy)
		if err != nil {
			return err
		}
		th, effects, err := Apply(Thread{Contact: contact, Conversation: conv}, InboundText{Body: in.Body, Media: in.Media, AfterHours: afterHours}, now, policy)
		if err != nil {
			return err
		}
		if IsZeroID(th.Conversation.ID) {
			th.Conversation.ID = NewID(now)
		}
		msg := Message{ID: NewID(now), ConversationID: th.Conversation.ID, Direction: DirectionInbound, Body: in.Body,
			Media: in.Media, TwilioSID: in.SID, Segments: in.Segments, Status: StatusReceived, Extra: in.Extra, Webhook: in.Webhook}
		if err := s.appendMessage(tx, msg, now, &out); err != nil {
			return err
		}
		if _, err := s.saveThread(tx, th, effects, now, &out); err != nil {
			return err
		}
		res = InboundResult{ConversationID: th.Conversation.ID, MessageID: msg.ID}
		return nil
	})
	if err != nil {
		return InboundResult{}, err
	}
	s.notifier.Publish(out...)
	return res, nil
}

// findOrNewContact returns the contact at the address, or a new one with a free handle.
func findOrNewContact(tx Tx, addr Address, now time.Time) (Contact, error) {
	c, err := tx.ContactByAddress(addr)
	if err == nil || !IsNotFound(err) {
		return c, err
	}
	c = Contact{ID: NewID(now), Address: addr, FirstSeen: now, LastSeen: now}
	for attempt := 0; ; attempt++ {
		c.Handle = NewHandle(attempt)
		if _, err := tx.ContactByHandle(c.Handle); IsNotFound(err) {
			return c, nil
		} else if err != nil {
			return Contact{}, err
		}
		if attempt > 20 {
			return Contact{}, Errorf(EINTERNAL, "no free texter handle after %d attempts", attempt)
		}
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
