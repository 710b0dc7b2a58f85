package hotline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// offered returns a conversation offered to alice at t0, its offer lapsing a minute later.
func offered(mods ...func(*hotline.Conversation)) hotline.Conversation {
	return conv(hotline.StateWaiting, append([]func(*hotline.Conversation){func(c *hotline.Conversation) {
		c.State, c.AssigneeID, c.OfferExpiresAt = hotline.StateAssigned, alice.ID, t0.Add(time.Minute)
		c.EscalateAt = t0.Add(5 * time.Minute)
	}}, mods...)...)
}

// pages lists the Page effects.
func pages(effects []hotline.Effect) []hotline.Page {
	var ps []hotline.Page
	for _, e := range effects {
		if p, ok := e.(hotline.Page); ok {
			ps = append(ps, p)
		}
	}
	return ps
}

func TestApplyRoutingEvents(t *testing.T) {
	p := hotline.DefaultPolicy()
	now := t0.Add(30 * time.Second)
	tests := []struct {
		name         string
		conv         hotline.Conversation
		event        hotline.Event
		wantErr      string
		wantState    hotline.State
		wantAssignee hotline.ID
		check        func(t *testing.T, c hotline.Conversation, effects []hotline.Effect)
	}{
		{name: "offer a waiting conversation", conv: conv(hotline.StateWaiting), event: hotline.Offer{To: alice.ID},
			wantState: hotline.StateAssigned, wantAssignee: alice.ID,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if got, want := c.OfferExpiresAt, now.Add(p.Routing.OfferTimeout); !got.Equal(want) {
					t.Errorf("OfferExpiresAt = %v, want %v", got, want)
				}
				if !c.Offered() || c.HasResponder(alice.ID) {
					t.Errorf("Offered = %v, Responders = %v: an offer is not an assignment until accepted", c.Offered(), c.Responders)
				}
				if !c.WaitingSince.Equal(t0) {
					t.Errorf("WaitingSince = %v, want the original %v (an offer is not an answer)", c.WaitingSince, t0)
				}
				if got := c.NextDeadline(); !got.Equal(c.OfferExpiresAt) {
					t.Errorf("NextDeadline = %v, want the offer's timeout %v", got, c.OfferExpiresAt)
				}
			}},
		{name: "offer one that is no longer waiting", conv: conv(hotline.StateAssigned), event: hotline.Offer{To: bob.ID}, wantErr: hotline.ECONFLICT},
		{name: "offer to nobody", conv: conv(hotline.StateWaiting), event: hotline.Offer{}, wantErr: hotline.EINVALID},
		{name: "the offered responder accepts", conv: offered(), event: hotline.Accept{By: alice},
			wantState: hotline.StateAssigned, wantAssignee: alice.ID,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if c.Offered() || !c.EscalateAt.IsZero() || !c.HasResponder(alice.ID) {
					t.Errorf("after accepting: offered %v, EscalateAt %v, Responders %v", c.Offered(), c.EscalateAt, c.Responders)
				}
			}},
		{name: "someone else accepts an offered conversation", conv: offered(), event: hotline.Accept{By: bob}, wantErr: hotline.ECONFLICT},
		{name: "replying to an offer accepts it", conv: offered(), event: hotline.Reply{By: alice},
			wantState: hotline.StateActive, wantAssignee: alice.ID,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if !c.HasResponder(alice.ID) || !c.WaitingSince.IsZero() || !c.NextDeadline().Equal(c.InactiveAt) {
					t.Errorf("Responders %v, WaitingSince %v, NextDeadline %v", c.Responders, c.WaitingSince, c.NextDeadline())
				}
			}},
		{name: "declining an offer keeps the place in the queue", conv: offered(), event: hotline.Release{By: alice},
			wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation, effects []hotline.Effect) {
				if !c.WaitingSince.Equal(t0) || !slices.Equal(c.Passed, []hotline.ID{alice.ID}) || events(effects) != 1 {
					t.Errorf("WaitingSince %v, Passed %v, events %d", c.WaitingSince, c.Passed, events(effects))
				}
			}},
		{name: "releasing a taken, unanswered conversation keeps its place", conv: conv(hotline.StateAssigned, func(c *hotline.Conversation) { c.WaitingSince = t0 }),
			event: hotline.Release{By: alice}, wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if !c.WaitingSince.Equal(t0) {
					t.Errorf("WaitingSince = %v, want the original %v", c.WaitingSince, t0)
				}
			}},
		{name: "releasing an answered conversation starts a new wait", conv: conv(hotline.StateActive), event: hotline.Release{By: alice},
			wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if !c.WaitingSince.Equal(now) || !c.EscalateAt.Equal(now.Add(p.Routing.EscalateAfter)) {
					t.Errorf("WaitingSince %v, EscalateAt %v; want a new wait from %v", c.WaitingSince, c.EscalateAt, now)
				}
			}},
		{name: "a transfer to the queue passes the responder over next time", conv: conv(hotline.StateActive),
			event: hotline.Transfer{By: alice}, wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if !slices.Equal(c.Passed, []hotline.ID{alice.ID}) {
					t.Errorf("Passed = %v, want alice", c.Passed)
				}
			}},
		{name: "a transfer of an offer to a colleague assigns it to them", conv: offered(), event: hotline.Transfer{By: alice, To: bob.ID},
			wantState: hotline.StateAssigned, wantAssignee: bob.ID,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if c.Offered() {
					t.Errorf("a transferred conversation is still an offer")
				}
			}},
		{name: "requeue returns a taken, unanswered conversation", conv: conv(hotline.StateAssigned, func(c *hotline.Conversation) { c.WaitingSince = t0 }),
			event: hotline.Requeue{Reason: "Ana went away."}, wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation, effects []hotline.Effect) {
				if !c.WaitingSince.Equal(t0) || events(effects) != 1 || !slices.Equal(c.Passed, []hotline.ID{alice.ID}) {
					t.Errorf("WaitingSince %v, events %d, Passed %v", c.WaitingSince, events(effects), c.Passed)
				}
			}},
		{name: "requeue leaves an answered conversation with its responder", conv: conv(hotline.StateActive),
			event: hotline.Requeue{}, wantState: hotline.StateActive, wantAssignee: alice.ID},
		{name: "closing clears every routing timer", conv: offered(), event: hotline.Close{By: alice},
			wantState: hotline.StateClosed, wantAssignee: alice.ID,
			check: func(t *testing.T, c hotline.Conversation, _ []hotline.Effect) {
				if !c.NextDeadline().IsZero() || !c.OfferExpiresAt.IsZero() || !c.EscalateAt.IsZero() {
					t.Errorf("a closed conversation kept timers: %v %v", c.OfferExpiresAt, c.EscalateAt)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, effects, err := hotline.Apply(hotline.Thread{Contact: contact(), Conversation: tt.conv}, tt.event, now, p)
			if got := hotline.ErrorCode(err); got != tt.wantErr {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			if got, want := th.Conversation.State, tt.wantState; got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			if got, want := th.Conversation.AssigneeID, tt.wantAssignee; got != want {
				t.Errorf("assignee = %v, want %v", got, want)
			}
			if tt.check != nil {
				tt.check(t, th.Conversation, effects)
			}
		})
	}
}

func TestApplyTickRouting(t *testing.T) {
	p := hotline.DefaultPolicy()
	rp := p.Routing
	tests := []struct {
		name       string
		conv       hotline.Conversation
		now        time.Time
		afterHours bool
		wantState  hotline.State
		wantPages  []hotline.Page
		wantSends  []hotline.Purpose
		check      func(t *testing.T, c hotline.Conversation)
	}{
		{name: "an offer not accepted in time goes back to the queue in its place", conv: offered(), now: t0.Add(time.Minute),
			wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation) {
				if !hotline.IsZeroID(c.AssigneeID) || !c.WaitingSince.Equal(t0) || !slices.Equal(c.Passed, []hotline.ID{alice.ID}) {
					t.Errorf("assignee %v, WaitingSince %v, Passed %v; want nobody, %v, [alice]", c.AssigneeID, c.WaitingSince, c.Passed, t0)
				}
				if !c.OfferExpiresAt.IsZero() {
					t.Errorf("the lapsed offer's timer is still set")
				}
			}},
		{name: "before the timeout the offer stands", conv: offered(), now: t0.Add(59 * time.Second), wantState: hotline.StateAssigned},
		{name: "the language fallback timer fires once and changes nothing else", now: t0.Add(rp.LanguageFallbackAfter),
			conv: conv(hotline.StateWaiting, func(c *hotline.Conversation) {
				c.FallbackAt, c.EscalateAt = t0.Add(rp.LanguageFallbackAfter), t0.Add(rp.EscalateAfter)
			}),
			wantState: hotline.StateWaiting,
			check: func(t *testing.T, c hotline.Conversation) {
				if !c.FallbackAt.IsZero() || !c.NextDeadline().Equal(t0.Add(rp.EscalateAfter)) {
					t.Errorf("FallbackAt %v, NextDeadline %v", c.FallbackAt, c.NextDeadline())
				}
			}},
		{name: "a long wait pages the on-call responders", now: t0.Add(rp.EscalateAfter),
			conv:      conv(hotline.StateWaiting, func(c *hotline.Conversation) { c.EscalateAt = t0.Add(rp.EscalateAfter) }),
			wantState: hotline.StateWaiting, wantPages: []hotline.Page{{Audience: hotline.PageOnCall}},
			check: func(t *testing.T, c hotline.Conversation) {
				if c.Escalation != 1 || !c.EscalateAt.Equal(t0.Add(rp.EscalateCoordinatorsAfter)) {
					t.Errorf("Escalation %d, EscalateAt %v; want 1 and the coordinators' threshold", c.Escalation, c.EscalateAt)
				}
			}},
		{name: "a longer wait pages the coordinators, then nothing more", now: t0.Add(rp.EscalateCoordinatorsAfter),
			conv: conv(hotline.StateWaiting, func(c *hotline.Conversation) {
				c.Escalation, c.EscalateAt = 1, t0.Add(rp.EscalateCoordinatorsAfter)
			}),
			wantState: hotline.StateWaiting, wantPages: []hotline.Page{{Audience: hotline.PageCoordinators}},
			check: func(t *testing.T, c hotline.Conversation) {
				if c.Escalation != 2 || !c.EscalateAt.IsZero() {
					t.Errorf("Escalation %d, EscalateAt %v; want 2 and none", c.Escalation, c.EscalateAt)
				}
			}},
		{name: "an offered conversation still escalates", now: t0.Add(rp.EscalateAfter), conv: offered(func(c *hotline.Conversation) {
			c.OfferExpiresAt = t0.Add(10 * time.Minute)
		}), wantState: hotline.StateAssigned, wantPages: []hotline.Page{{Audience: hotline.PageOnCall}}},
		{name: "a taken conversation does not escalate", now: t0.Add(rp.EscalateAfter),
			conv:      conv(hotline.StateAssigned, func(c *hotline.Conversation) { c.EscalateAt = t0.Add(rp.EscalateAfter) }),
			wantState: hotline.StateAssigned,
			check: func(t *testing.T, c hotline.Conversation) {
				if !c.EscalateAt.IsZero() {
					t.Errorf("EscalateAt = %v, want cleared", c.EscalateAt)
				}
			}},
		{name: "after hours: the texter is told once, coordinators paged, and it checks again later", now: t0.Add(rp.EscalateAfter), afterHours: true,
			conv:      conv(hotline.StateWaiting, func(c *hotline.Conversation) { c.EscalateAt = t0.Add(rp.EscalateAfter) }),
			wantState: hotline.StateWaiting, wantSends: []hotline.Purpose{hotline.PurposeAfterHours},
			wantPages: []hotline.Page{{Audience: hotline.PageCoordinators, AfterHours: true}},
			check: func(t *testing.T, c hotline.Conversation) {
				if !c.AfterHoursSent || c.Escalation != 0 || !c.EscalateAt.Equal(t0.Add(2*rp.EscalateAfter)) {
					t.Errorf("AfterHoursSent %v, Escalation %d, EscalateAt %v", c.AfterHoursSent, c.Escalation, c.EscalateAt)
				}
			}},
		{name: "after hours, already told: nothing is sent again", now: t0.Add(rp.EscalateAfter), afterHours: true,
			conv: conv(hotline.StateWaiting, func(c *hotline.Conversation) {
				c.EscalateAt, c.AfterHoursSent = t0.Add(rp.EscalateAfter), true
			}),
			wantState: hotline.StateWaiting},
		{name: "inactivity still closes an offered conversation", now: t0.Add(24 * time.Hour), conv: offered(),
			wantState: hotline.StateClosed, wantSends: []hotline.Purpose{hotline.PurposeClosing},
			check: func(t *testing.T, c hotline.Conversation) {
				if !c.NextDeadline().IsZero() {
					t.Errorf("a closed conversation kept deadline %v", c.NextDeadline())
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.conv.NextDeadline()
			th, effects, err := hotline.Apply(hotline.Thread{Contact: contact(), Conversation: tt.conv}, hotline.Tick{AfterHours: tt.afterHours}, tt.now, p)
			if err != nil {
				t.Fatal(err)
			}
			c := th.Conversation
			if got, want := c.State, tt.wantState; got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			if got := pages(effects); !slices.Equal(got, tt.wantPages) {
				t.Errorf("pages = %+v, want %+v", got, tt.wantPages)
			}
			if got := sends(effects); !slices.Equal(got, tt.wantSends) {
				t.Errorf("automatic texts = %q, want %q", got, tt.wantSends)
			}
			// A timer that fired is cleared or moved past now: it never fires twice.
			if d := c.NextDeadline(); !before.After(tt.now) && !d.IsZero() && !d.After(tt.now) {
				t.Errorf("NextDeadline after the tick = %v, not after now %v: the timer would fire again", d, tt.now)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestApplyInboundRouting(t *testing.T) {
	p := hotline.DefaultPolicy()
	rp := p.Routing
	later := t0.Add(time.Minute)
	tests := []struct {
		name       string
		contact    hotline.Contact
		conv       hotline.Conversation
		body       string
		afterHours bool
		wantSends  []hotline.Purpose
		wantPages  []hotline.Page
		check      func(t *testing.T, c hotline.Conversation)
	}{
		{name: "a new conversation gets its routing timers", contact: contact(), body: "hello",
			wantSends: []hotline.Purpose{hotline.PurposeWelcome},
			check: func(t *testing.T, c hotline.Conversation) {
				if !c.EscalateAt.Equal(later.Add(rp.EscalateAfter)) || !c.FallbackAt.Equal(later.Add(rp.LanguageFallbackAfter)) {
					t.Errorf("EscalateAt %v, FallbackAt %v", c.EscalateAt, c.FallbackAt)
				}
				if got, want := c.NextDeadline(), later.Add(rp.LanguageFallbackAfter); !got.Equal(want) {
					t.Errorf("NextDeadline = %v, want the fallback %v", got, want)
				}
			}},
		{name: "after hours: welcome, then the after-hours text, and coordinators paged", contact: contact(), body: "hello", afterHours: true,
			wantSends: []hotline.Purpose{hotline.PurposeWelcome, hotline.PurposeAfterHours},
			wantPages: []hotline.Page{{Audience: hotline.PageCoordinators, AfterHours: true}},
			check: func(t *testing.T, c hotline.Conversation) {
				if !c.AfterHoursSent || c.State != hotline.StateWaiting {
					t.Errorf("AfterHoursSent %v, state %s; want told and still in the queue", c.AfterHoursSent, c.State)
				}
			}},
		{name: "after hours, a second text is not answered again", contact: contact(), body: "anyone?", afterHours: true,
			conv: conv(hotline.StateWaiting, func(c *hotline.Conversation) { c.AfterHoursSent = true })},
		{name: "after hours, a waiting texter not yet told is told", contact: contact(), body: "anyone?", afterHours: true,
			conv:      conv(hotline.StateWaiting),
			wantSends: []hotline.Purpose{hotline.PurposeAfterHours},
			wantPages: []hotline.Page{{Audience: hotline.PageCoordinators, AfterHours: true}}},
		{name: "after hours, a texter who is talking to a responder is not told", contact: contact(), body: "ok", afterHours: true,
			conv: conv(hotline.StateActive)},
		{name: "after hours, STOP sends only the opt-out confirmation", contact: contact(), body: "STOP", afterHours: true,
			wantSends: []hotline.Purpose{hotline.PurposeOptOut}},
		{name: "a language keyword routes to speakers of it", contact: contact(), body: "AYUDA",
			wantSends: []hotline.Purpose{hotline.PurposeWelcome},
			check: func(t *testing.T, c hotline.Conversation) {
				if c.Language != "es" {
					t.Errorf("Language = %q, want es", c.Language)
				}
			}},
		{name: "a risk term makes a waiting conversation urgent, ahead in the queue", contact: contact(), body: "he has a gun",
			conv: conv(hotline.StateWaiting),
			check: func(t *testing.T, c hotline.Conversation) {
				if c.Priority != hotline.PriorityUrgent {
					t.Errorf("Priority = %q, want urgent", c.Priority)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, effects, err := hotline.Apply(hotline.Thread{Contact: tt.contact, Conversation: tt.conv},
				hotline.InboundText{Body: tt.body, AfterHours: tt.afterHours}, later, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := sends(effects); !slices.Equal(got, tt.wantSends) {
				t.Errorf("automatic texts = %q, want %q", got, tt.wantSends)
			}
			if got := pages(effects); !slices.Equal(got, tt.wantPages) {
				t.Errorf("pages = %+v, want %+v", got, tt.wantPages)
			}
			if tt.check != nil {
				tt.check(t, th.Conversation)
			}
		})
	}
}

func TestApplyCoordinatorsNotPagedAfterHoursUnlessConfigured(t *testing.T) {
	p := hotline.DefaultPolicy()
	p.Routing.PageCoordinatorsAfterHours = false
	_, effects, err := hotline.Apply(hotline.Thread{Contact: contact()}, hotline.InboundText{Body: "hello", AfterHours: true}, t0, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := pages(effects); len(got) != 0 {
		t.Errorf("pages = %+v, want none with PageCoordinatorsAfterHours off", got)
	}
	if got, want := sends(effects), []hotline.Purpose{hotline.PurposeWelcome, hotline.PurposeAfterHours}; !slices.Equal(got, want) {
		t.Errorf("texts = %q, want %q", got, want)
	}
}
