package hotline_test

import (
	"fmt"
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
		{name: "a longer wait pages the coordinators, then repeats a page interval later", now: t0.Add(rp.EscalateCoordinatorsAfter),
			conv: conv(hotline.StateWaiting, func(c *hotline.Conversation) {
				c.Escalation, c.EscalateAt = 1, t0.Add(rp.EscalateCoordinatorsAfter)
			}),
			wantState: hotline.StateWaiting, wantPages: []hotline.Page{{Audience: hotline.PageCoordinators}},
			check: func(t *testing.T, c hotline.Conversation) {
				if want := t0.Add(rp.EscalateCoordinatorsAfter + rp.PageInterval); c.Escalation != 2 || !c.EscalateAt.Equal(want) {
					t.Errorf("Escalation %d, EscalateAt %v; want 2 and %v", c.Escalation, c.EscalateAt, want)
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

// waitPages runs the routing timers of a conversation that starts waiting at t0
// until end, ticking at each escalation deadline (the event applied instead at the tick at or
// after eventAt, when one is given), and returns the pages by minute of the wait.
func waitPages(t *testing.T, p hotline.Policy, afterHours bool, end time.Duration, event hotline.Event, eventAt time.Duration) (map[int][]hotline.PageAudience, hotline.Conversation) {
	t.Helper()
	// A texter writes at t0: the conversation enters the queue with its timers.
	th, effects, err := hotline.Apply(hotline.Thread{Contact: contact()}, hotline.InboundText{Body: "hello", AfterHours: afterHours}, t0, p)
	if err != nil {
		t.Fatal(err)
	}
	th.Conversation.ID = convID // the service gives a new conversation its ID
	got := map[int][]hotline.PageAudience{}
	for _, pg := range pages(effects) {
		got[0] = append(got[0], pg.Audience)
	}
	for i := 0; i < 100; i++ {
		at := th.Conversation.EscalateAt
		if event != nil && (at.IsZero() || !at.Before(t0.Add(eventAt))) {
			if th, _, err = hotline.Apply(th, event, t0.Add(eventAt), p); err != nil {
				t.Fatal(err)
			}
			event = nil
			continue
		}
		if at.IsZero() || at.After(t0.Add(end)) {
			return got, th.Conversation
		}
		if th, effects, err = hotline.Apply(th, hotline.Tick{AfterHours: afterHours}, at, p); err != nil {
			t.Fatal(err)
		}
		if !th.Conversation.EscalateAt.IsZero() && !th.Conversation.EscalateAt.After(at) {
			t.Fatalf("at %v the escalation timer did not move past now: %v", at, th.Conversation.EscalateAt)
		}
		for _, pg := range pages(effects) {
			m := int(at.Sub(t0) / time.Minute)
			got[m] = append(got[m], pg.Audience)
		}
	}
	t.Fatal("the escalation timer never stopped")
	return nil, hotline.Conversation{}
}

func TestEscalationRepeatsWhileWaiting(t *testing.T) {
	on, co := hotline.PageOnCall, hotline.PageCoordinators
	both := []hotline.PageAudience{on, co}
	tests := []struct {
		name       string
		mod        func(*hotline.RoutingPolicy)
		afterHours bool
		event      hotline.Event
		eventAt    time.Duration
		want       map[int][]hotline.PageAudience
	}{
		{name: "a 45-minute wait: on call at 5, coordinators at 15, then both every 10 minutes",
			want: map[int][]hotline.PageAudience{5: {on}, 15: {co}, 25: both, 35: both, 45: both}},
		{name: "accepted at 20 minutes: no page after", event: hotline.Accept{By: alice}, eventAt: 20 * time.Minute,
			want: map[int][]hotline.PageAudience{5: {on}, 15: {co}}},
		{name: "coordinators off: the on-call level repeats", mod: func(rp *hotline.RoutingPolicy) { rp.EscalateCoordinatorsAfter = 0 },
			want: map[int][]hotline.PageAudience{5: {on}, 15: {on}, 25: {on}, 35: {on}, 45: {on}}},
		{name: "on call off: the coordinators' level repeats", mod: func(rp *hotline.RoutingPolicy) { rp.EscalateAfter = 0 },
			want: map[int][]hotline.PageAudience{15: {co}, 25: {co}, 35: {co}, 45: {co}}},
		{name: "a shorter page interval repeats sooner", mod: func(rp *hotline.RoutingPolicy) { rp.PageInterval = 5 * time.Minute },
			want: map[int][]hotline.PageAudience{5: {on}, 15: {co}, 20: both, 25: both, 30: both, 35: both, 40: both, 45: both}},
		{name: "both levels off: no page at all", mod: func(rp *hotline.RoutingPolicy) { rp.EscalateAfter, rp.EscalateCoordinatorsAfter = 0, 0 },
			want: map[int][]hotline.PageAudience{}},
		{name: "nobody on call: no on-call page, only the after-hours page of the coordinators", afterHours: true,
			want: map[int][]hotline.PageAudience{0: {co}}},
		{name: "nobody on call, coordinators not paged after hours: nothing", afterHours: true,
			mod:  func(rp *hotline.RoutingPolicy) { rp.PageCoordinatorsAfterHours = false },
			want: map[int][]hotline.PageAudience{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := hotline.DefaultPolicy()
			if tt.mod != nil {
				tt.mod(&p.Routing)
			}
			got, c := waitPages(t, p, tt.afterHours, 45*time.Minute, tt.event, tt.eventAt)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("pages by minute = %v, want %v", got, tt.want)
			}
			if tt.event != nil && !c.EscalateAt.IsZero() {
				t.Errorf("EscalateAt = %v after %T, want cleared", c.EscalateAt, tt.event)
			}
		})
	}
}

func TestEscalationRepeatAfterHours(t *testing.T) {
	p := hotline.DefaultPolicy()
	rp := p.Routing
	// Reached the coordinators during a shift; the shift ended and the texter was told.
	reached := conv(hotline.StateWaiting, func(c *hotline.Conversation) {
		c.Escalation, c.AfterHoursSent, c.EscalateAt = 2, true, t0.Add(25*time.Minute)
	})
	now := t0.Add(25 * time.Minute)
	th, effects, err := hotline.Apply(hotline.Thread{Contact: contact(), Conversation: reached}, hotline.Tick{AfterHours: true}, now, p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pages(effects), []hotline.Page{{Audience: hotline.PageCoordinators, AfterHours: true}}; !slices.Equal(got, want) {
		t.Errorf("pages = %+v, want only the coordinators, marked after hours", got)
	}
	if got, want := th.Conversation.EscalateAt, now.Add(rp.PageInterval); !got.Equal(want) {
		t.Errorf("EscalateAt = %v, want %v", got, want)
	}
	p.Routing.PageCoordinatorsAfterHours = false
	_, effects, err = hotline.Apply(hotline.Thread{Contact: contact(), Conversation: reached}, hotline.Tick{AfterHours: true}, now, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := pages(effects); len(got) != 0 {
		t.Errorf("pages = %+v, want none with PageCoordinatorsAfterHours off", got)
	}
	// A late tick (the server was down for an hour) pages once and resumes the schedule.
	late := t0.Add(83 * time.Minute)
	th, effects, err = hotline.Apply(hotline.Thread{Contact: contact(), Conversation: reached}, hotline.Tick{}, late, hotline.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(pages(effects)); got != 2 {
		t.Errorf("pages at a late tick = %d, want 2 (on call and coordinators, once)", got)
	}
	if got, want := th.Conversation.EscalateAt, t0.Add(85*time.Minute); !got.Equal(want) {
		t.Errorf("EscalateAt after a late tick = %v, want the next slot %v", got, want)
	}
}
