package hotline

import (
	"time"
)

// State is where a conversation is in its life.
type State string

// Conversation states.
const (
	StateWaiting  State = "waiting"  // in the queue, nobody assigned
	StateAssigned State = "assigned" // offered to or taken by a responder who has not replied yet
	StateActive   State = "active"   // a responder has replied
	StateClosed   State = "closed"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StateWaiting, StateAssigned, StateActive, StateClosed:
		return true
	}
	return false
}

// Open reports whether a conversation in state s still counts as open.
func (s State) Open() bool { return s != StateClosed && s != "" }

// Priority orders the queue: urgent conversations are answered first.
type Priority string

// Priorities.
const (
	PriorityNormal Priority = "normal"
	PriorityUrgent Priority = "urgent"
)

// Conversation is one exchange between a contact and the hotline, from the first text
// until it is closed.
type Conversation struct {
	ID        ID
	ContactID ID
	Handle    string // the contact's handle, copied so lists need no join
	State     State
	Priority  Priority
	// TriageTerms are the risk terms that raised the priority, shown to responders.
	TriageTerms []string
	Language    string
	AssigneeID  ID // zero when nobody is assigned
	// Responders is everyone who has been assigned, in order; access rules use it.
	Responders []ID

	CreatedAt time.Time
	UpdatedAt time.Time
	// WaitingSince is when the texter started waiting for a responder: set when the
	// conversation enters the queue, and kept while it is offered or taken but not yet
	// answered, so that it goes back to its place in the queue when an offer lapses or
	// its responder leaves it unanswered. Zero once a responder has replied.
	WaitingSince    time.Time
	LastInboundAt   time.Time
	FirstResponseAt time.Time // first human reply
	ClosedAt        time.Time

	// InactiveAt is when the conversation closes for want of a texter message: a
	// durable timer, indexed by the store so it survives restarts.
	InactiveAt time.Time

	// Routing (machine_routing.go). OfferExpiresAt is when the offer to the assignee
	// lapses: set only while the conversation is offered (assigned, not accepted).
	OfferExpiresAt time.Time
	// Passed are the responders who let an offer lapse, declined it, or handed the
	// conversation back unanswered: the router offers it to others first.
	Passed []ID
	// EscalateAt is when the wait next escalates (a page, or an after-hours check);
	// Escalation is the level reached: 0 none, 1 on-call responders paged, 2
	// coordinators paged.
	EscalateAt time.Time
	Escalation int
	// FallbackAt is when the language fallback starts: from then on the router may
	// offer the conversation to a responder who does not speak its language.
	FallbackAt time.Time
	// AfterHoursSent is set once the texter was told that nobody is on call.
	AfterHoursSent bool

	ClosedReason string // "responder", "inactivity", "opted_out"
	Disposition  string
	Tags         []string

	// LegalHold exempts the conversation from retention: it is never purged while
	// set (see Retention). Coordinators set and clear it; both are audited.
	LegalHold bool

	// Chain is the head of the conversation's hash chain (chain.go): the store
	// keeps it as messages and status changes are appended, and fills it on read;
	// PutConversation ignores it.
	Chain ChainHead
}

// NextDeadline returns the earliest timer of the conversation, or the zero time when
// it has none. The store indexes it; the scheduler wakes at the earliest one.
func (c Conversation) NextDeadline() time.Time {
	if !c.State.Open() {
		return time.Time{}
	}
	next := c.InactiveAt
	for _, t := range []time.Time{c.OfferExpiresAt, c.EscalateAt, c.FallbackAt} {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// HasResponder reports whether the responder has ever been assigned the conversation.
func (c Conversation) HasResponder(id ID) bool {
	for _, r := range c.Responders {
		if r == id {
			return true
		}
	}
	return false
}
