package hotline

import (
	"sync"
	"time"
	"unicode/utf8"
)

// MaxBodyRunes is the longest text Twilio delivers or accepts: 1,600 characters.
const MaxBodyRunes = 1600

// Service is the hotline's use cases. It is safe for concurrent use.
type Service struct {
	store    Store
	clock    Clock
	notifier Notifier

	mu       sync.RWMutex
	policy   Policy
	recovery RecoveryOptions // see SetRecoveryOptions

	// timerWake wakes RunTimers when a conversation changed, since its deadline may
	// now be earlier than the one RunTimers sleeps until (timers_run.go).
	timerWake chan struct{}
}

// NewService returns a Service over store. A nil clock is the system clock; a nil
// notifier drops changes.
func NewService(store Store, clock Clock, notifier Notifier, policy Policy) *Service {
	if clock == nil {
		clock = SystemClock{}
	}
	if notifier == nil {
		notifier = NotifierFunc(func(...Change) {})
	}
	s := &Service{store: store, clock: clock, policy: policy, timerWake: make(chan struct{}, 1)}
	s.notifier = NotifierFunc(func(changes ...Change) {
		notifier.Publish(changes...)
		s.wakeTimers(changes)
	})
	return s
}

// Policy returns the policy in force.
func (s *Service) Policy() Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.policy
}

// SetPolicy replaces the policy; the next event uses it.
func (s *Service) SetPolicy(p Policy) {
	s.mu.Lock()
	s.policy = p
	s.mu.Unlock()
}

// UpdatePolicy changes part of the policy in place, atomically: two settings
// changed at once (texts, close lists) cannot undo each other.
func (s *Service) UpdatePolicy(fn func(*Policy)) {
	s.mu.Lock()
	fn(&s.policy)
	s.mu.Unlock()
}

// Store returns the store the service runs on, for read-only adapters (exports).
func (s *Service) Store() Store { return s.store }

// Clock returns the service's clock.
func (s *Service) Clock() Clock { return s.clock }

// changes collects what a transaction changed, to publish once it commits. It is
// reset at the start of each run of the transaction function, which may run twice.
type changes []Change

func (c *changes) add(ch Change) { *c = append(*c, ch) }

// saveThread writes the thread a machine returned, giving a new conversation its ID,
// and performs the effects in the same transaction.
func (s *Service) saveThread(tx Tx, th Thread, effects []Effect, now time.Time, out *changes) (Thread, error) {
	if IsZeroID(th.Conversation.ID) {
		th.Conversation.ID = NewID(now)
		th.Conversation.ContactID = th.Contact.ID
		th.Conversation.Handle = th.Contact.Handle
	}
	if err := tx.PutContact(th.Contact); err != nil {
		return th, err
	}
	change, err := s.noteAssignment(tx, th.Conversation, now)
	if err != nil {
		return th, err
	}
	if err := tx.PutConversation(th.Conversation); err != nil {
		return th, err
	}
	out.add(change)
	for _, eff := range effects {
		var err error
		switch e := eff.(type) {
		case SendText:
			_, err = s.queueText(tx, th, e.Purpose, e.Body, ID{}, now, out)
		case RecordEvent:
			err = s.appendMessage(tx, Message{ConversationID: th.Conversation.ID, Direction: DirectionSystem, Body: e.Text, AuthorID: e.By, TargetID: e.Target}, now, out)
		case Page:
			err = s.page(tx, th.Conversation, e, now, out)
		}
		if err != nil {
			return th, err
		}
	}
	return th, nil
}

// appendMessage stores a new message in a thread.
func (s *Service) appendMessage(tx Tx, m Message, now time.Time, out *changes) error {
	if IsZeroID(m.ID) {
		m.ID = NewID(now)
	}
	m.CreatedAt, m.UpdatedAt = now, now
	if err := tx.PutMessage(m); err != nil {
		return err
	}
	out.add(Change{Kind: ChangeMessage, ConversationID: m.ConversationID, MessageID: m.ID})
	return nil
}

// queueText stores an outbound message and its outbox entry in the same transaction.
// It is the one place that enforces the promise that nothing is sent to a texter who
// opted out (but the STOP confirmation) or into a closed conversation.
func (s *Service) queueText(tx Tx, th Thread, purpose Purpose, body string, author ID, now time.Time, out *changes) (Message, error) {
	if th.Contact.OptedOut && purpose != PurposeOptOut {
		return Message{}, Errorf(EOPTEDOUT, "The texter has opted out: nothing can be sent until they text START.")
	}
	if !th.Conversation.State.Open() && purpose != PurposeOptOut && purpose != PurposeClosing {
		return Message{}, Errorf(ECONFLICT, "This conversation is closed: nobody can text this person until they text again.")
	}
	m := Message{ID: NewID(now), ConversationID: th.Conversation.ID, Direction: DirectionOutbound, Body: body,
		Purpose: purpose, AuthorID: author, Status: StatusQueued, Segments: Segments(body)}
	if err := s.appendMessage(tx, m, now, out); err != nil {
		return Message{}, err
	}
	e := OutboxEntry{ID: m.ID, ConversationID: th.Conversation.ID, To: th.Contact.Address, Body: body,
		Status: StatusQueued, NextAttemptAt: now, CreatedAt: now}
	if err := tx.PutOutbox(e); err != nil {
		return Message{}, err
	}
	out.add(Change{Kind: ChangeOutbox, ConversationID: th.Conversation.ID, MessageID: m.ID})
	m.CreatedAt, m.UpdatedAt = now, now
	return m, nil
}

// loadThread reads a conversation and its contact.
func loadThread(tx ReadTx, conversationID ID) (Thread, error) {
	conv, err := tx.Conversation(conversationID)
	if err != nil {
		return Thread{}, err
	}
	contact, err := tx.Contact(conv.ContactID)
	if err != nil {
		return Thread{}, err
	}
	return Thread{Contact: contact, Conversation: conv}, nil
}

// validateBody checks a text a responder wrote.
func validateBody(body string) error {
	switch {
	case !utf8.ValidString(body):
		return Errorf(EINVALID, "The text is not valid UTF-8.")
	case trimmedEmpty(body):
		return Errorf(EINVALID, "Write something before sending.")
	case utf8.RuneCountInString(body) > MaxBodyRunes:
		return Errorf(ETOOLARGE, "The text is longer than %d characters.", MaxBodyRunes)
	}
	return nil
}

func trimmedEmpty(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}
