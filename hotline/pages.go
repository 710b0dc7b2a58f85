package hotline

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Pages: texts to responders' and coordinators' own phones saying that texters are
// waiting. They go through the durable outbox like any text (entries with no
// conversation), and each is recorded (PageRecord) for the audit and to rate-limit:
// at most one page per person per PageInterval. A page summarises the whole queue,
// so the one that goes says everything, and it never holds anything a texter wrote.

// PageBody is the text of a page: how many texters wait and how many of them are
// urgent, such as "hotline: 2 texters waiting, 1 urgent".
func PageBody(waiting, urgent int, afterHours bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hotline: %d texter", waiting)
	if waiting != 1 {
		b.WriteString("s")
	}
	b.WriteString(" waiting")
	if urgent > 0 {
		fmt.Fprintf(&b, ", %d urgent", urgent)
	}
	if afterHours {
		b.WriteString(", nobody on call")
	}
	return b.String()
}

// queueSummary counts the texters waiting for a responder (in the queue, or offered
// and not accepted) and the urgent ones among them.
func queueSummary(tx ReadTx) (waiting, urgent int, err error) {
	err = tx.Conversations(ConversationFilter{States: []State{StateWaiting, StateAssigned}}, func(c Conversation) error {
		if c.WaitingForResponder() {
			waiting++
			if c.Priority == PriorityUrgent {
				urgent++
			}
		}
		return nil
	})
	return waiting, urgent, err
}

// page performs a Page effect of conversation conv: it pages each person of the
// audience who has a phone and was not paged within PageInterval, and notes in the
// thread who was paged (by count, never by number).
func (s *Service) page(tx Tx, conv Conversation, e Page, now time.Time, out *changes) error {
	rp := s.Policy().Routing
	r, err := readRoster(tx, now, rp.location())
	if err != nil {
		return err
	}
	var audience []User
	switch e.Audience {
	case PageOnCall:
		for _, id := range r.onCallIDs() {
			audience = append(audience, r.users[id])
		}
	case PageCoordinators:
		for _, id := range r.order {
			if u := r.users[id]; u.IsCoordinator() {
				audience = append(audience, u)
			}
		}
	}
	waiting, urgent, err := queueSummary(tx)
	if err != nil {
		return err
	}
	waiting = max(waiting, 1) // the conversation paging waits, even if it is being offered
	body := PageBody(waiting, urgent, e.AfterHours)
	sent, recent, noPhone := 0, 0, 0
	for _, u := range audience {
		if u.Phone == "" {
			noPhone++
			continue
		}
		last, ok, err := tx.LastPage(u.ID)
		if err != nil {
			return err
		}
		if ok && now.Sub(last.CreatedAt) < rp.PageInterval {
			recent++
			continue
		}
		id := NewID(now)
		if err := tx.PutOutbox(OutboxEntry{ID: id, To: u.Phone, Body: body, Status: StatusQueued, NextAttemptAt: now, CreatedAt: now}); err != nil {
			return err
		}
		err = tx.PutPage(PageRecord{ID: id, UserID: u.ID, ConversationID: conv.ID, Audience: e.Audience, AfterHours: e.AfterHours,
			Waiting: waiting, Urgent: urgent, Body: body, CreatedAt: now})
		if err != nil {
			return err
		}
		out.add(Change{Kind: ChangeOutbox, UserID: u.ID})
		sent++
	}
	why := fmt.Sprintf("The texter has waited %s", waitedFor(conv, now))
	if e.AfterHours {
		why = "Nobody is on call"
	}
	one, many := "on-call responder", "on-call responders"
	if e.Audience == PageCoordinators {
		one, many = "coordinator", "coordinators"
	}
	var text string
	switch {
	case len(audience) == 0:
		text = fmt.Sprintf("%s: there are no %s to page.", why, many)
	case sent == 0 && recent > 0:
		text = fmt.Sprintf("%s: the %s were paged less than %s ago.", why, many, rp.PageInterval)
	case sent == 0:
		text = fmt.Sprintf("%s: none of the %s has a phone to page.", why, many)
	default:
		text = fmt.Sprintf("%s: paged %d %s by SMS.", why, sent, plural(sent, one, many))
	}
	return s.appendMessage(tx, Message{ConversationID: conv.ID, Direction: DirectionSystem, Body: text}, now, out)
}

func waitedFor(c Conversation, now time.Time) time.Duration {
	if c.WaitingSince.IsZero() {
		return 0
	}
	return now.Sub(c.WaitingSince).Round(time.Second)
}

// Pages returns up to limit pages sent before the one with ID before (the newest
// when before is zero), newest first. Only coordinators and the operator may.
func (r *Roster) Pages(ctx context.Context, c Caller, before ID, limit int) ([]PageRecord, error) {
	if err := c.requireCoordinator("read the pages sent"); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []PageRecord
	err := r.svc.store.View(ctx, func(tx ReadTx) error {
		out = nil
		return tx.Pages(before, func(p PageRecord) error {
			out = append(out, p)
			if len(out) >= limit {
				return ErrStop
			}
			return nil
		})
	})
	return out, err
}
