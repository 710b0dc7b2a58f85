package hotline

import (
	"fmt"
	"slices"
	"time"
)

// Thread is what the state machine decides over: a contact and its latest
// conversation. A zero Conversation.ID means the contact has none yet, or that the
// machine has started a new one which the caller must give an ID.
type Thread struct {
	Contact      Contact
	Conversation Conversation
}

// Event is something that happens to a thread. The concrete types below are the
// only events.
type Event interface{ isEvent() }

// Actor is the person behind a responder event. Coordinators may act on any
// conversation; responders only on the ones assigned to them.
type Actor struct {
	ID          ID
	Coordinator bool
}

// Events.
type (
	// InboundText is a text from the contact.
	InboundText struct {
		Body  string
		Media []Media
		// AfterHours is set when nobody is on call now (Schedule.Staffed is false):
		// the service decides it from the schedule, so that the machine stays pure.
		AfterHours bool
	}
	// Tick fires the thread's timers that are due. AfterHours is as for InboundText.
	Tick struct{ AfterHours bool }
	// Accept is a responder taking the conversation.
	Accept struct{ By Actor }
	// Reply is a responder's text to the contact.
	Reply struct{ By Actor }
	// Note is a responder's internal note.
	Note struct{ By Actor }
	// Release returns the conversation to the queue.
	Release struct{ By Actor }
	// Transfer hands the conversation to another responder, or to the queue when To is zero.
	Transfer struct {
		By Actor
		To ID
	}
	// Close ends the conversation with a disposition.
	Close struct {
		By          Actor
		Disposition string
		Tags        []string
	}
	// CarrierOptOut is Twilio refusing a send because the texter opted out at the
	// carrier (error 21610).
	CarrierOptOut struct{}
)

func (InboundText) isEvent()   {}
func (Tick) isEvent()          {}
func (Accept) isEvent()        {}
func (Reply) isEvent()         {}
func (Note) isEvent()          {}
func (Release) isEvent()       {}
func (Transfer) isEvent()      {}
func (Close) isEvent()         {}
func (CarrierOptOut) isEvent() {}

// Effect is something the machine decided should happen; the service performs it in
// the same transaction.
type Effect interface{ isEffect() }

// Effects.
type (
	// SendText queues an automatic text to the contact.
	SendText struct {
		Purpose Purpose
		Body    string
	}
	// RecordEvent adds a system line to the thread, such as "texter opted out".
	RecordEvent struct {
		Text string
		// By is the responder whose action it records ("Transferred …" by whom);
		// zero for the texter's and the hotline's. Service.act fills it in.
		By ID
		// Target is the responder the event is about, such as whom a transfer went
		// to; zero when it names nobody. The console shows their name.
		Target ID
	}
)

func (SendText) isEffect()    {}
func (RecordEvent) isEffect() {}

// Apply is the conversation state machine: a pure function of the thread, the event,
// the time and the policy. It returns the new thread and the effects to perform, or
// an *Error when the event is not allowed; then nothing may change.
func Apply(th Thread, ev Event, now time.Time, p Policy) (Thread, []Effect, error) {
	switch e := ev.(type) {
	case InboundText:
		th, effects := applyInbound(th, e, now, p)
		return th, effects, nil
	case Tick:
		th, effects := applyTick(th, e, now, p)
		return th, effects, nil
	case Offer:
		return applyOffer(th, e, now, p)
	case Requeue:
		return applyRequeue(th, e, now, p)
	case CarrierOptOut:
		return applyCarrierOptOut(th, now)
	case Note:
		if IsZeroID(th.Conversation.ID) {
			return th, nil, Errorf(ENOTFOUND, "Conversation not found.")
		}
		th.Conversation.UpdatedAt = now
		return th, nil, nil
	case Accept, Reply, Release, Transfer, Close:
		return applyResponder(th, ev, now, p)
	}
	return th, nil, Errorf(EINTERNAL, "unknown event %T", ev)
}

func applyInbound(th Thread, e InboundText, now time.Time, p Policy) (Thread, []Effect) {
	c, conv := th.Contact, th.Conversation
	kw := DetectKeyword(e.Body, p.Keywords)
	if kw.Kind == KeywordStart && !c.OptedOut {
		kw = Keyword{} // "yes" from a subscribed texter is just a message
	}
	if c.FirstSeen.IsZero() {
		c.FirstSeen = now
	}
	c.LastSeen = now
	if kw.Language != "" {
		c.Language = kw.Language
	}

	var effects []Effect
	started, reopened := false, false
	switch {
	case conv.State.Open():
	case kw.Kind == KeywordStop && !IsZeroID(conv.ID):
		// A STOP after the conversation ended is kept in it; it does not queue anything.
	case !IsZeroID(conv.ID) && p.ReopenWindow > 0 && now.Sub(conv.ClosedAt) < p.ReopenWindow:
		conv = reopen(conv, now)
		reopened = true
		effects = append(effects, RecordEvent{Text: "The texter wrote again: conversation reopened and back in the queue."})
	default:
		conv = Conversation{ContactID: c.ID, Handle: c.Handle, State: StateWaiting, Priority: PriorityNormal,
			Language: c.Language, CreatedAt: now, WaitingSince: now}
		if conv.Language == "" {
			conv.Language = p.DefaultLanguage
		}
		started = true
	}
	if (started || reopened) && conv.State == StateWaiting {
		conv = routingDeadlines(conv, now, p.Routing)
	}
	if kw.Language != "" {
		conv.Language = kw.Language
	}
	if kw.Kind == KeywordStop && started {
		conv.State, conv.ClosedAt, conv.ClosedReason, conv.WaitingSince = StateClosed, now, "opted_out", time.Time{}
	}
	conv.UpdatedAt = now
	if conv.State.Open() {
		conv.LastInboundAt = now
		if p.InactivityTimeout > 0 {
			conv.InactiveAt = now.Add(p.InactivityTimeout)
		}
		if terms := riskIndexFor(p.RiskTerms).match(e.Body); len(terms) > 0 {
			conv.Priority = PriorityUrgent
			for _, t := range terms {
				if !slices.Contains(conv.TriageTerms, t) {
					conv.TriageTerms = append(conv.TriageTerms, t)
				}
			}
		}
	}

	texts := p.TextsFor(conv.Language)
	switch kw.Kind {
	case KeywordStop:
		if !c.OptedOut {
			c.OptedOut, c.OptedOutAt = true, now
			effects = append(effects, RecordEvent{Text: fmt.Sprintf("The texter opted out (%s): nothing more will be sent until they text START.", kw.Word)})
			effects = appendAutoReply(effects, &c, PurposeOptOut, texts.OptOut, now, p, true)
		}
	case KeywordStart:
		c.OptedOut, c.OptedOutAt = false, time.Time{}
		effects = append(effects, RecordEvent{Text: fmt.Sprintf("The texter opted back in (%s).", kw.Word)})
		effects = appendAutoReply(effects, &c, PurposeOptIn, texts.OptIn, now, p, false)
	case KeywordHelp:
		effects = appendAutoReply(effects, &c, PurposeHelp, texts.Help, now, p, false)
	default:
		if started {
			effects = appendAutoReply(effects, &c, PurposeWelcome, texts.Welcome, now, p, false)
		}
	}
	if e.AfterHours && kw.Kind != KeywordStop {
		conv, effects = tellAfterHours(conv, &c, effects, now, p)
	}
	th.Contact, th.Conversation = c, conv
	return th, effects
}

func reopen(conv Conversation, now time.Time) Conversation {
	conv.State, conv.WaitingSince, conv.AssigneeID = StateWaiting, now, ID{}
	conv.ClosedAt, conv.ClosedReason, conv.Disposition, conv.Tags = time.Time{}, "", "", nil
	conv.Passed, conv.Escalation, conv.AfterHoursSent = nil, 0, false
	return conv
}

// appendAutoReply queues an automatic text unless the contact opted out (only the
// opt-out confirmation itself may go then) or the hourly cap is reached.
func appendAutoReply(effects []Effect, c *Contact, purpose Purpose, body string, now time.Time, p Policy, evenIfOptedOut bool) []Effect {
	if body == "" || (c.OptedOut && !evenIfOptedOut) {
		return effects
	}
	if c.AutoReplyWindow.IsZero() || now.Sub(c.AutoReplyWindow) >= time.Hour || now.Before(c.AutoReplyWindow) {
		c.AutoReplyWindow, c.AutoReplies = now, 0
	}
	if p.AutoReplyCap > 0 && c.AutoReplies >= p.AutoReplyCap {
		return append(effects, RecordEvent{Text: fmt.Sprintf("Automatic %s text not sent: %d automatic texts already went to this texter within an hour.", purpose, p.AutoReplyCap)})
	}
	c.AutoReplies++
	return append(effects, SendText{Purpose: purpose, Body: body})
}

func applyTick(th Thread, e Tick, now time.Time, p Policy) (Thread, []Effect) {
	conv := th.Conversation
	if !conv.State.Open() {
		return th, nil
	}
	if conv.InactiveAt.IsZero() || now.Before(conv.InactiveAt) {
		return tickRouting(th, e, now, p)
	}
	conv.State, conv.ClosedAt, conv.ClosedReason = StateClosed, now, "inactivity"
	conv.InactiveAt, conv.WaitingSince, conv.UpdatedAt = time.Time{}, time.Time{}, now
	conv = clearRouting(conv)
	effects := []Effect{RecordEvent{Text: fmt.Sprintf("Closed: no message from the texter for %s.", p.InactivityTimeout)}}
	effects = appendAutoReply(effects, &th.Contact, PurposeClosing, p.TextsFor(conv.Language).Closing, now, p, false)
	th.Conversation = conv
	return th, effects
}

func applyCarrierOptOut(th Thread, now time.Time) (Thread, []Effect, error) {
	if th.Contact.OptedOut {
		return th, nil, nil
	}
	th.Contact.OptedOut, th.Contact.OptedOutAt = true, now
	return th, []Effect{RecordEvent{Text: "The carrier reports that the texter has opted out (Twilio error 21610): nothing more can be sent until they text START."}}, nil
}

func applyResponder(th Thread, ev Event, now time.Time, p Policy) (Thread, []Effect, error) {
	conv := th.Conversation
	if IsZeroID(conv.ID) {
		return th, nil, Errorf(ENOTFOUND, "Conversation not found.")
	}
	if !conv.State.Open() {
		return th, nil, Errorf(ECONFLICT, "This conversation is closed: nobody can text this person until they text again.")
	}
	var effects []Effect
	switch e := ev.(type) {
	case Accept:
		if conv.AssigneeID == e.By.ID && !IsZeroID(e.By.ID) {
			if !conv.Offered() {
				return th, nil, nil // accepting twice is a no-op, so a retried click is harmless
			}
			conv = assign(conv, e.By.ID) // the offer is accepted
			break
		}
		if conv.Offered() {
			return th, nil, Errorf(ECONFLICT, "This conversation is being offered to another responder.")
		}
		if !IsZeroID(conv.AssigneeID) {
			return th, nil, Errorf(ECONFLICT, "Another responder has already taken this conversation.")
		}
		conv = assign(conv, e.By.ID)
	case Reply:
		if th.Contact.OptedOut {
			return th, nil, Errorf(EOPTEDOUT, "The texter has opted out: nothing can be sent until they text START.")
		}
		if err := mustBeAssignee(conv, e.By, "reply"); err != nil {
			return th, nil, err
		}
		if conv.Offered() {
			conv = assign(conv, conv.AssigneeID) // replying accepts the offer
		}
		conv.State, conv.WaitingSince, conv.Passed = StateActive, time.Time{}, nil
		conv = clearRouting(conv)
		if conv.FirstResponseAt.IsZero() {
			conv.FirstResponseAt = now
		}
	case Release:
		if err := mustBeAssignee(conv, e.By, "release"); err != nil {
			return th, nil, err
		}
		text := "Returned to the queue."
		if conv.Offered() {
			text = "The offer was declined: back in the queue."
		}
		conv = backToQueue(conv, now, p.Routing)
		effects = append(effects, RecordEvent{Text: text})
	case Transfer:
		if err := mustBeAssignee(conv, e.By, "transfer"); err != nil {
			return th, nil, err
		}
		if IsZeroID(e.To) {
			conv = backToQueue(conv, now, p.Routing)
			effects = append(effects, RecordEvent{Text: "Transferred back to the queue."})
		} else {
			conv = assign(conv, e.To)
			effects = append(effects, RecordEvent{Text: "Transferred to another responder.", Target: e.To})
		}
	case Close:
		if err := mustBeAssignee(conv, e.By, "close"); err != nil {
			return th, nil, err
		}
		if !p.CloseLists.AllowsDisposition(e.Disposition) {
			return th, nil, Errorf(EINVALID, "disposition: %q is not one of the hotline's dispositions; GET /api/v1/settings lists them.", truncate(e.Disposition, 40))
		}
		conv.State, conv.ClosedAt, conv.ClosedReason = StateClosed, now, "responder"
		conv.InactiveAt, conv.WaitingSince = time.Time{}, time.Time{}
		conv = clearRouting(conv)
		conv.Disposition, conv.Tags = e.Disposition, slices.Clone(e.Tags)
	}
	conv.UpdatedAt = now
	th.Conversation = conv
	return th, effects, nil
}

// assign gives the conversation to a responder who has taken it (not an offer). A
// conversation nobody has answered yet keeps its WaitingSince, so that it returns to
// its place in the queue if the responder leaves it unanswered.
func assign(conv Conversation, to ID) Conversation {
	conv.State, conv.AssigneeID = StateAssigned, to
	conv = clearRouting(conv)
	if !conv.HasResponder(to) {
		conv.Responders = append(slices.Clone(conv.Responders), to)
	}
	return conv
}

func mustBeAssignee(conv Conversation, by Actor, action string) error {
	if by.Coordinator || (!IsZeroID(by.ID) && conv.AssigneeID == by.ID) {
		return nil
	}
	if IsZeroID(conv.AssigneeID) {
		return Errorf(ECONFLICT, "Accept this conversation before you %s it.", action)
	}
	return Errorf(ECONFLICT, "This conversation is assigned to another responder.")
}
