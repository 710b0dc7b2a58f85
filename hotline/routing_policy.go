package hotline

import (
	"slices"
	"time"
)

// RoutingMode is how waiting conversations reach responders.
type RoutingMode string

// Routing modes.
const (
	// RoutingOffer: the router offers the top of the queue to the responder
	// ChooseResponder picks; an offer not accepted within OfferTimeout goes to the
	// next responder.
	RoutingOffer RoutingMode = "offer"
	// RoutingPull: nothing is offered; responders take the top of the queue they are
	// eligible for ("take next").
	RoutingPull RoutingMode = "pull"
)

// Valid reports whether m is a known mode.
func (m RoutingMode) Valid() bool { return m == RoutingOffer || m == RoutingPull }

// RoutingPolicy is the configurable part of routing and escalation. The state
// machine reads the timeouts and thresholds; the service reads the rest.
type RoutingPolicy struct {
	Mode RoutingMode
	// OfferTimeout is how long an offer waits to be accepted before it lapses.
	OfferTimeout time.Duration
	// LanguageFallbackAfter is how long a conversation waits for a speaker of its
	// language before any responder may get it; 0 ignores language from the start.
	LanguageFallbackAfter time.Duration
	// EscalateAfter pages the on-call responders about a conversation that has
	// waited this long; 0 never does.
	EscalateAfter time.Duration
	// EscalateCoordinatorsAfter pages the coordinators about a conversation that has
	// waited this long; 0 never does.
	EscalateCoordinatorsAfter time.Duration
	// PageInterval is the least time between two pages to one person: a page
	// summarises every texter waiting, so one per interval says it all.
	PageInterval time.Duration
	// PageCoordinatorsAfterHours pages the coordinators when a texter writes while
	// nobody is on call.
	PageCoordinatorsAfterHours bool
	// Location is the hotline's time zone, in which shifts are scheduled; nil is UTC.
	Location *time.Location
}

// Default routing settings.
const (
	DefaultOfferTimeout              = time.Minute
	DefaultLanguageFallbackAfter     = 2 * time.Minute
	DefaultEscalateAfter             = 5 * time.Minute
	DefaultEscalateCoordinatorsAfter = 15 * time.Minute
	DefaultPageInterval              = 10 * time.Minute
	// afterHoursRecheck is how often a waiting conversation looks again whether
	// anyone is on call when no escalation threshold is set.
	afterHoursRecheck = 5 * time.Minute
)

// DefaultRoutingPolicy returns the routing used when configuration sets nothing.
func DefaultRoutingPolicy() RoutingPolicy {
	return RoutingPolicy{
		Mode:                       RoutingOffer,
		OfferTimeout:               DefaultOfferTimeout,
		LanguageFallbackAfter:      DefaultLanguageFallbackAfter,
		EscalateAfter:              DefaultEscalateAfter,
		EscalateCoordinatorsAfter:  DefaultEscalateCoordinatorsAfter,
		PageInterval:               DefaultPageInterval,
		PageCoordinatorsAfterHours: true,
		Location:                   time.UTC,
	}
}

// location returns the hotline's time zone.
func (p RoutingPolicy) location() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

func (p RoutingPolicy) offerTimeout() time.Duration {
	if p.OfferTimeout <= 0 {
		return DefaultOfferTimeout
	}
	return p.OfferTimeout
}

// AnyLanguage reports whether c has waited past the language fallback, so that a
// responder who does not speak its language may take it.
func (p RoutingPolicy) AnyLanguage(c Conversation, now time.Time) bool {
	return p.LanguageFallbackAfter <= 0 || c.WaitingSince.IsZero() || !now.Before(c.WaitingSince.Add(p.LanguageFallbackAfter))
}

// threshold returns how long a conversation waits before escalation level n.
func (p RoutingPolicy) threshold(level int) time.Duration {
	switch level {
	case 1:
		return p.EscalateAfter
	case 2:
		return p.EscalateCoordinatorsAfter
	}
	return 0
}

// nextLevel returns the first escalation level after c's that is configured, or 0.
func (p RoutingPolicy) nextLevel(c Conversation) int {
	for level := c.Escalation + 1; level <= 2; level++ {
		if p.threshold(level) > 0 {
			return level
		}
	}
	return 0
}

// escalateAt returns when c's wait next escalates: WaitingSince plus the threshold
// of the next configured level; once the last configured level is reached, the next
// repeat page (see repeatAudiences) after now; zero when there is neither.
func (p RoutingPolicy) escalateAt(c Conversation, now time.Time) time.Time {
	if c.WaitingSince.IsZero() {
		return time.Time{}
	}
	if level := p.nextLevel(c); level != 0 {
		return c.WaitingSince.Add(p.threshold(level))
	}
	if len(p.repeatAudiences(c)) == 0 {
		return time.Time{}
	}
	// Repeats come every PageInterval from the last level's threshold, counted from
	// WaitingSince, so the schedule does not drift and a late tick (after a
	// restart) fires once and resumes it rather than paging for each missed slot.
	var last time.Duration // the threshold of the last level reached
	for level := 1; level <= min(c.Escalation, 2); level++ {
		last = max(last, p.threshold(level))
	}
	base, every := c.WaitingSince.Add(last), p.pageInterval()
	n := int64(1)
	if now.After(base) {
		n = int64(now.Sub(base)/every) + 1
	}
	return base.Add(time.Duration(n) * every)
}

// repeatAudiences returns who a wait that has reached its last configured level
// pages again every PageInterval while nobody takes it: the on-call responders
// when that level is on, and the coordinators once their level was reached (and is
// still on). None before the last level is reached, nor when both are off.
func (p RoutingPolicy) repeatAudiences(c Conversation) []PageAudience {
	if c.Escalation == 0 || p.nextLevel(c) != 0 {
		return nil
	}
	var out []PageAudience
	if p.threshold(1) > 0 {
		out = append(out, PageOnCall)
	}
	if c.Escalation >= 2 && p.threshold(2) > 0 {
		out = append(out, PageCoordinators)
	}
	return out
}

// pageInterval is PageInterval, or its default when unset.
func (p RoutingPolicy) pageInterval() time.Duration {
	if p.PageInterval <= 0 {
		return DefaultPageInterval
	}
	return p.PageInterval
}

// recheck is how long after an after-hours check the next one comes.
func (p RoutingPolicy) recheck() time.Duration {
	for _, d := range []time.Duration{p.EscalateAfter, p.EscalateCoordinatorsAfter} {
		if d > 0 {
			return d
		}
	}
	return afterHoursRecheck
}

// Offered reports whether the conversation is offered to its assignee and not yet
// accepted.
func (c Conversation) Offered() bool { return c.State == StateAssigned && !c.OfferExpiresAt.IsZero() }

// WaitingForResponder reports whether no responder has taken the conversation yet:
// it is in the queue, or offered to someone who has not accepted.
func (c Conversation) WaitingForResponder() bool { return c.State == StateWaiting || c.Offered() }

// Assignment is one offer the router plans: a conversation and who gets it.
type Assignment struct {
	ConversationID ID
	ResponderID    ID
}

// PlanOffers is the offer policy, a pure function: for each waiting conversation in
// queue order (urgent first, then the longest waiting), the responder
// ChooseResponder picks among candidates who have no offer pending, preferring
// those who have not passed it on (a lapsed or declined offer); when every eligible
// responder has passed, it starts over with them. Each planned offer counts against
// the chosen responder's capacity for the conversations after it. Conversations
// nobody is eligible for are skipped, so that one in a language nobody on call
// speaks does not hold up the rest of the queue.
func PlanOffers(queue []Conversation, cands []Candidate, now time.Time, p RoutingPolicy) []Assignment {
	cs := slices.Clone(cands)
	q := slices.Clone(queue)
	slices.SortStableFunc(q, func(a, b Conversation) int {
		if QueueLess(a, b) {
			return -1
		} else if QueueLess(b, a) {
			return 1
		}
		return 0
	})
	var plan []Assignment
	for _, conv := range q {
		if conv.State != StateWaiting {
			continue
		}
		var busy []ID
		free := false
		for _, c := range cs {
			if c.Offered {
				busy = append(busy, c.ID)
			} else if c.OnCall && c.Available && c.Open < c.Capacity {
				free = true
			}
		}
		if !free {
			break // nobody can take anything more
		}
		anyLang := p.AnyLanguage(conv, now)
		id, ok := ChooseResponder(cs, conv.Language, anyLang, append(slices.Clone(busy), conv.Passed...))
		if !ok && len(conv.Passed) > 0 {
			id, ok = ChooseResponder(cs, conv.Language, anyLang, busy)
		}
		if !ok {
			continue
		}
		plan = append(plan, Assignment{ConversationID: conv.ID, ResponderID: id})
		for i := range cs {
			if cs[i].ID == id {
				cs[i].Open++
				cs[i].Offered = true
				cs[i].LastAssignedAt = now
			}
		}
	}
	return plan
}
