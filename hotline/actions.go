package hotline

import (
	"context"
	"time"
)

// act runs a responder event on a conversation in one transaction. extra, when not
// nil, stores what the event adds to the thread (the reply or the note) after the
// machine has allowed the event.
func (s *Service) act(ctx context.Context, conversationID ID, ev Event, extra func(tx Tx, th Thread, now time.Time, out *changes) error) error {
	var out changes
	err := s.store.Update(ctx, func(tx Tx) error {
		out = nil
		now := s.clock.Now()
		th, err := loadThread(tx, conversationID)
		if err != nil {
			return err
		}
		th, effects, err := Apply(th, ev, now, s.Policy())
		if err != nil {
			return err
		}
		effects = recordedBy(effects, ev)
		if th, err = s.saveThread(tx, th, effects, now, &out); err != nil {
			return err
		}
		if extra != nil {
			return extra(tx, th, now, &out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.notifier.Publish(out...)
	return nil
}

// Accept assigns a waiting conversation to the actor. Exactly one of two responders
// accepting at once wins; the other gets ECONFLICT.
func (s *Service) Accept(ctx context.Context, by Actor, conversationID ID) error {
	return s.act(ctx, conversationID, Accept{By: by}, nil)
}

// Release returns the actor's conversation to the queue.
func (s *Service) Release(ctx context.Context, by Actor, conversationID ID) error {
	return s.act(ctx, conversationID, Release{By: by}, nil)
}

// Transfer hands the conversation to another responder (or the queue when to is
// zero), with an optional note for whoever takes it next.
func (s *Service) Transfer(ctx context.Context, by Actor, conversationID, to ID, note string) error {
	if note != "" {
		if err := validateBody(note); err != nil {
			return err
		}
	}
	return s.act(ctx, conversationID, Transfer{By: by, To: to}, func(tx Tx, th Thread, now time.Time, out *changes) error {
		if note == "" {
			return nil
		}
		return s.appendMessage(tx, Message{ConversationID: conversationID, Direction: DirectionNote, Body: note, AuthorID: by.ID}, now, out)
	})
}

// Close ends the conversation with a disposition and tags.
func (s *Service) Close(ctx context.Context, by Actor, conversationID ID, disposition string, tags []string) error {
	return s.act(ctx, conversationID, Close{By: by, Disposition: disposition, Tags: tags}, nil)
}

// Reply queues a responder's text to the texter. It fails with EOPTEDOUT when the
// texter opted out and ECONFLICT when the conversation is closed or not the actor's.
func (s *Service) Reply(ctx context.Context, by Actor, conversationID ID, body string) (Message, error) {
	if err := validateBody(body); err != nil {
		return Message{}, err
	}
	var msg Message
	err := s.act(ctx, conversationID, Reply{By: by}, func(tx Tx, th Thread, now time.Time, out *changes) error {
		var err error
		msg, err = s.queueText(tx, th, PurposeReply, body, by.ID, now, out)
		return err
	})
	return msg, err
}

// AddNote adds an internal note, which is never sent to anyone.
func (s *Service) AddNote(ctx context.Context, by Actor, conversationID ID, body string) (Message, error) {
	if err := validateBody(body); err != nil {
		return Message{}, err
	}
	var msg Message
	err := s.act(ctx, conversationID, Note{By: by}, func(tx Tx, th Thread, now time.Time, out *changes) error {
		msg = Message{ID: NewID(now), ConversationID: conversationID, Direction: DirectionNote, Body: body, AuthorID: by.ID}
		if err := s.appendMessage(tx, msg, now, out); err != nil {
			return err
		}
		msg.CreatedAt, msg.UpdatedAt = now, now
		return nil
	})
	return msg, err
}

// recordedBy names the responder behind ev on the thread events it records, so that
// the thread says who transferred, released or closed it.
func recordedBy(effects []Effect, ev Event) []Effect {
	var by ID
	switch e := ev.(type) {
	case Accept:
		by = e.By.ID
	case Reply:
		by = e.By.ID
	case Note:
		by = e.By.ID
	case Release:
		by = e.By.ID
	case Transfer:
		by = e.By.ID
	case Close:
		by = e.By.ID
	}
	if IsZeroID(by) {
		return effects
	}
	for i, eff := range effects {
		if r, ok := eff.(RecordEvent); ok && IsZeroID(r.By) {
			r.By = by
			effects[i] = r
		}
	}
	return effects
}
