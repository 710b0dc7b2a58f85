package hotline

import (
	"context"
	"time"
)

// The service's side of routing: the inputs the machine needs (is anyone on call?),
// what an assignment changes beyond the conversation, and the timer that fires
// offers, fallbacks and escalations.

// afterHours reports whether nobody is on call now, read only when it can matter to
// the text about to be applied to conv: a new or reopened conversation, or one still
// waiting whose texter has not been told yet.
func (s *Service) afterHours(tx ReadTx, conv Conversation, now time.Time, p Policy) (bool, error) {
	if conv.State.Open() && (!conv.WaitingForResponder() || conv.AfterHoursSent) {
		return false, nil
	}
	staffed, err := staffedAt(tx, now, p.Routing.location())
	return !staffed, err
}

// noteAssignment returns the change to publish for conversation c about to be
// written, and records when its new assignee was given it (fairness: the one idle
// longest gets the next).
func (s *Service) noteAssignment(tx Tx, c Conversation, now time.Time) (Change, error) {
	ch := Change{Kind: ChangeConversation, ConversationID: c.ID, AssigneeID: c.AssigneeID}
	if IsZeroID(c.ID) {
		return ch, nil
	}
	prev, err := tx.Conversation(c.ID)
	if IsNotFound(err) {
		return ch, nil
	} else if err != nil {
		return ch, err
	}
	if prev.AssigneeID == c.AssigneeID {
		return ch, nil
	}
	ch.FormerAssigneeID = prev.AssigneeID
	if IsZeroID(c.AssigneeID) {
		return ch, nil
	}
	u, err := tx.User(c.AssigneeID)
	if IsNotFound(err) {
		return ch, nil // tests and old data may assign IDs that are not users
	} else if err != nil {
		return ch, err
	}
	u.LastAssignedAt = now
	return ch, tx.PutUser(u)
}

// tick fires the due timers of one conversation in one transaction, which reads the
// deadline again: a timer another pass fired already is not due any more, so each
// fires once. It reports whether anything fired.
func (s *Service) tick(ctx context.Context, id ID) (bool, error) {
	var out changes
	fired := false
	err := s.store.Update(ctx, func(tx Tx) error {
		out, fired = nil, false
		now := s.clock.Now()
		th, err := loadThread(tx, id)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if d := th.Conversation.NextDeadline(); d.IsZero() || d.After(now) {
			return nil
		}
		p := s.Policy()
		ev := Tick{}
		if c := th.Conversation; !c.EscalateAt.IsZero() && !now.Before(c.EscalateAt) && c.WaitingForResponder() {
			staffed, err := staffedAt(tx, now, p.Routing.location())
			if err != nil {
				return err
			}
			ev.AfterHours = !staffed
		}
		th, effects, err := Apply(th, ev, now, p)
		if err != nil {
			return err
		}
		if _, err := s.saveThread(tx, th, effects, now, &out); err != nil {
			return err
		}
		fired = true
		return nil
	})
	if err != nil {
		return false, err
	}
	s.notifier.Publish(out...)
	return fired, nil
}

// wakeTimers wakes RunTimers after a conversation changed: its next deadline may be
// sooner than the one RunTimers sleeps until (a new offer, say).
func (s *Service) wakeTimers(changes []Change) {
	for _, c := range changes {
		if c.Kind == ChangeConversation {
			select {
			case s.timerWake <- struct{}{}:
			default:
			}
			return
		}
	}
}
