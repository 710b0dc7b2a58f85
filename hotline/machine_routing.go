package hotline

import (
	"fmt"
	"slices"
	"time"
)

// The state machine's routing: offers and their timeouts, handing conversations
// back to the queue, escalation pages and after-hours. Like the rest of the machine
// it is pure: whether anyone is on call comes in with the event (AfterHours), and
// pages are effects the service performs.

// Routing events.
type (
	// Offer is the router offering a waiting conversation to a responder: the
	// conversation is assigned to them, and goes back to the queue unless they
	// accept it within the policy's OfferTimeout.
	Offer struct{ To ID }
	// Requeue returns a conversation its responder took but has not answered to the
	// queue, because they stopped being available (away, signed out, session
	// ended). Reason is recorded in the thread. A conversation that is not taken and
	// unanswered is left as it is.
	Requeue struct{ Reason string }
)

func (Offer) isEvent()   {}
func (Requeue) isEvent() {}

// PageAudience says who a page goes to.
type PageAudience string

// Page audiences.
const (
	PageOnCall       PageAudience = "on_call"      // the responders on call now
	PageCoordinators PageAudience = "coordinators" // every coordinator
)

// Page is an effect: text the audience's own phones that texters are waiting. The
// service writes one summary of the whole queue per person, at most one per
// PageInterval, and never anything a texter wrote.
type Page struct {
	Audience PageAudience
	// AfterHours says that nobody is on call.
	AfterHours bool
}

func (Page) isEffect() {}

// routingDeadlines sets the timers of a conversation that is waiting for a
// responder since WaitingSince: the next escalation and, in offer mode, the start of
// the language fallback.
func routingDeadlines(conv Conversation, now time.Time, p RoutingPolicy) Conversation {
	conv.OfferExpiresAt = time.Time{}
	conv.EscalateAt = p.escalateAt(conv, now)
	conv.FallbackAt = time.Time{}
	if p.Mode == RoutingOffer && p.LanguageFallbackAfter > 0 {
		if t := conv.WaitingSince.Add(p.LanguageFallbackAfter); t.After(now) {
			conv.FallbackAt = t
		}
	}
	return conv
}

// clearRouting removes the routing timers of a conversation a responder has taken
// (or that closed).
func clearRouting(conv Conversation) Conversation {
	conv.OfferExpiresAt, conv.EscalateAt, conv.FallbackAt = time.Time{}, time.Time{}, time.Time{}
	return conv
}

// backToQueue returns the conversation to the queue, its assignee noted among those
// who passed it on. One nobody has answered keeps its place (WaitingSince and the
// escalation reached); one a responder answered starts a new wait now.
func backToQueue(conv Conversation, now time.Time, p RoutingPolicy) Conversation {
	if a := conv.AssigneeID; !IsZeroID(a) && !slices.Contains(conv.Passed, a) {
		conv.Passed = append(slices.Clone(conv.Passed), a)
	}
	if conv.State == StateActive || conv.WaitingSince.IsZero() {
		conv.WaitingSince, conv.Escalation = now, 0
	}
	conv.State, conv.AssigneeID = StateWaiting, ID{}
	return routingDeadlines(conv, now, p)
}

func applyOffer(th Thread, e Offer, now time.Time, p Policy) (Thread, []Effect, error) {
	conv := th.Conversation
	switch {
	case IsZeroID(conv.ID):
		return th, nil, Errorf(ENOTFOUND, "Conversation not found.")
	case IsZeroID(e.To):
		return th, nil, Errorf(EINVALID, "An offer needs a responder.")
	case conv.State != StateWaiting:
		return th, nil, Errorf(ECONFLICT, "This conversation is no longer waiting in the queue.")
	}
	conv.State, conv.AssigneeID = StateAssigned, e.To
	conv.OfferExpiresAt = now.Add(p.Routing.offerTimeout())
	conv.FallbackAt = time.Time{}
	conv.UpdatedAt = now
	th.Conversation = conv
	return th, nil, nil
}

func applyRequeue(th Thread, e Requeue, now time.Time, p Policy) (Thread, []Effect, error) {
	conv := th.Conversation
	if IsZeroID(conv.ID) {
		return th, nil, Errorf(ENOTFOUND, "Conversation not found.")
	}
	if conv.State != StateAssigned {
		return th, nil, nil // answered (active) conversations stay with their responder
	}
	conv = backToQueue(conv, now, p.Routing)
	conv.UpdatedAt = now
	th.Conversation = conv
	text := e.Reason
	if text == "" {
		text = "Back in the queue: the responder stopped being available before answering."
	}
	return th, []Effect{RecordEvent{Text: text}}, nil
}

// tellAfterHours sends the after-hours text, once per conversation, to a texter
// waiting while nobody is on call, and pages the coordinators when so configured.
func tellAfterHours(conv Conversation, c *Contact, effects []Effect, now time.Time, p Policy) (Conversation, []Effect) {
	if !conv.State.Open() || !conv.WaitingForResponder() || conv.AfterHoursSent {
		return conv, effects
	}
	conv.AfterHoursSent = true
	effects = append(effects, RecordEvent{Text: "Nobody is on call: the texter was told, and the conversation waits in the queue for the next shift."})
	effects = appendAutoReply(effects, c, PurposeAfterHours, p.TextsFor(conv.Language).AfterHours, now, p, false)
	if p.Routing.PageCoordinatorsAfterHours {
		effects = append(effects, Page{Audience: PageCoordinators, AfterHours: true})
	}
	return conv, effects
}

// tickRouting fires the routing timers that are due: an offer lapses (back to the
// queue in its place, the responder passed over next time), the language fallback
// starts, and a long wait escalates — paging the on-call responders, then the
// coordinators, then, while nobody takes it, the last level reached again every
// PageInterval; while nobody is on call it tells the texter and checks again later
// instead (repeating only the coordinators' pages, and only when they are paged
// after hours). Every timer that fires is cleared or moved past now, so it fires
// once.
func tickRouting(th Thread, e Tick, now time.Time, p Policy) (Thread, []Effect) {
	conv, rp := th.Conversation, p.Routing
	due := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	var effects []Effect
	changed := false
	if due(conv.OfferExpiresAt) {
		changed = true
		if conv.Offered() {
			conv = backToQueue(conv, now, rp)
			effects = append(effects, RecordEvent{Text: fmt.Sprintf("The offer was not accepted within %s: back in the queue for another responder.", rp.offerTimeout())})
		} else {
			conv.OfferExpiresAt = time.Time{}
		}
	}
	if due(conv.FallbackAt) {
		changed = true
		conv.FallbackAt = time.Time{}
	}
	if due(conv.EscalateAt) {
		changed = true
		switch level := rp.nextLevel(conv); {
		case !conv.WaitingForResponder():
			conv.EscalateAt = time.Time{}
		case e.AfterHours:
			told := conv.AfterHoursSent
			conv, effects = tellAfterHours(conv, &th.Contact, effects, now, p)
			repeat := rp.repeatAudiences(conv)
			if len(repeat) == 0 {
				conv.EscalateAt = now.Add(rp.recheck())
				break
			}
			// Nobody on call, so no on-call page; the coordinators' level repeats when
			// they are paged after hours (and were not just paged by tellAfterHours).
			if told && rp.PageCoordinatorsAfterHours && slices.Contains(repeat, PageCoordinators) {
				effects = append(effects, Page{Audience: PageCoordinators, AfterHours: true})
			}
			conv.EscalateAt = rp.escalateAt(conv, now)
		case level == 0:
			// The last level is reached: page it again, every PageInterval while the
			// texter waits (the per-person rate limit still applies).
			for _, audience := range rp.repeatAudiences(conv) {
				effects = append(effects, Page{Audience: audience})
			}
			conv.EscalateAt = rp.escalateAt(conv, now)
		default:
			conv.Escalation = level
			audience := PageOnCall
			if level == 2 {
				audience = PageCoordinators
			}
			effects = append(effects, Page{Audience: audience})
			conv.EscalateAt = rp.escalateAt(conv, now)
			if !conv.EscalateAt.After(now) && !conv.EscalateAt.IsZero() {
				// The next level is due too (a conversation back in the queue after a
				// long wait): it fires at the next tick, a moment later.
				conv.EscalateAt = now.Add(time.Second)
			}
		}
	}
	if changed {
		conv.UpdatedAt = now
	}
	th.Conversation = conv
	return th, effects
}
