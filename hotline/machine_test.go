package hotline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

var (
	t0        = time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
	contactID = hotline.NewID(t0)
	convID    = hotline.NewID(t0)
	alice     = hotline.Actor{ID: hotline.NewID(t0)}
	bob       = hotline.Actor{ID: hotline.NewID(t0)}
	coord     = hotline.Actor{ID: hotline.NewID(t0), Coordinator: true}
)

func contact() hotline.Contact {
	return hotline.Contact{ID: contactID, Address: "+14155550100", Handle: "T-4821", FirstSeen: t0, LastSeen: t0}
}

func conv(state hotline.State, mods ...func(*hotline.Conversation)) hotline.Conversation {
	c := hotline.Conversation{ID: convID, ContactID: contactID, Handle: "T-4821", State: state, Priority: hotline.PriorityNormal,
		Language: "en", CreatedAt: t0, UpdatedAt: t0, LastInboundAt: t0, InactiveAt: t0.Add(24 * time.Hour)}
	switch state {
	case hotline.StateWaiting:
		c.WaitingSince = t0
	case hotline.StateAssigned, hotline.StateActive:
		c.AssigneeID, c.Responders = alice.ID, []hotline.ID{alice.ID}
	case hotline.StateClosed:
		c.ClosedAt, c.ClosedReason, c.InactiveAt = t0, "responder", time.Time{}
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func optedOut(c hotline.Contact) hotline.Contact {
	c.OptedOut, c.OptedOutAt = true, t0
	return c
}

// sends lists the purposes of the SendText effects.
func sends(effects []hotline.Effect) []hotline.Purpose {
	var ps []hotline.Purpose
	for _, e := range effects {
		if s, ok := e.(hotline.SendText); ok {
			ps = append(ps, s.Purpose)
		}
	}
	return ps
}

func events(effects []hotline.Effect) int {
	n := 0
	for _, e := range effects {
		if _, ok := e.(hotline.RecordEvent); ok {
			n++
		}
	}
	return n
}

func TestApplyInbound(t *testing.T) {
	p := hotline.DefaultPolicy()
	later := t0.Add(10 * time.Minute)
	tests := []struct {
		name      string
		contact   hotline.Contact
		conv      hotline.Conversation // zero: the contact has no conversation yet
		body      string
		now       time.Time
		wantNew   bool // the machine started a new conversation (zero ID)
		wantState hotline.State
		wantSends []hotline.Purpose
		wantOpted bool
		check     func(t *testing.T, th hotline.Thread)
	}{
		{name: "first text starts a waiting conversation with a welcome", contact: contact(), body: "hello, I need someone",
			now: later, wantNew: true, wantState: hotline.StateWaiting, wantSends: []hotline.Purpose{hotline.PurposeWelcome},
			check: func(t *testing.T, th hotline.Thread) {
				if got, want := th.Conversation.WaitingSince, later; !got.Equal(want) {
					t.Errorf("WaitingSince = %v, want %v", got, want)
				}
				if got, want := th.Conversation.InactiveAt, later.Add(p.InactivityTimeout); !got.Equal(want) {
					t.Errorf("InactiveAt = %v, want %v", got, want)
				}
				if got, want := th.Conversation.Language, "en"; got != want {
					t.Errorf("Language = %q, want %q", got, want)
				}
			}},
		{name: "a text in a waiting conversation stays in the queue, no auto reply", contact: contact(), conv: conv(hotline.StateWaiting),
			body: "are you there?", now: later, wantState: hotline.StateWaiting,
			check: func(t *testing.T, th hotline.Thread) {
				if got, want := th.Conversation.WaitingSince, t0; !got.Equal(want) {
					t.Errorf("WaitingSince = %v, want the original %v (a new text must not reset the wait)", got, want)
				}
				if got, want := th.Conversation.LastInboundAt, later; !got.Equal(want) {
					t.Errorf("LastInboundAt = %v, want %v", got, want)
				}
			}},
		{name: "a text in an active conversation keeps it active and assigned", contact: contact(), conv: conv(hotline.StateActive),
			body: "ok", now: later, wantState: hotline.StateActive,
			check: func(t *testing.T, th hotline.Thread) {
				if th.Conversation.AssigneeID != alice.ID {
					t.Errorf("AssigneeID changed to %v", th.Conversation.AssigneeID)
				}
			}},
		{name: "a text soon after closing reopens the conversation without a welcome", contact: contact(), conv: conv(hotline.StateClosed),
			body: "one more thing", now: t0.Add(30 * time.Minute), wantState: hotline.StateWaiting,
			check: func(t *testing.T, th hotline.Thread) {
				if th.Conversation.ID != convID {
					t.Errorf("conversation ID = %v, want the reopened %v", th.Conversation.ID, convID)
				}
				if !hotline.IsZeroID(th.Conversation.AssigneeID) || !th.Conversation.ClosedAt.IsZero() {
					t.Errorf("reopened conversation kept assignee %v / ClosedAt %v", th.Conversation.AssigneeID, th.Conversation.ClosedAt)
				}
			}},
		{name: "a text long after closing starts a new conversation", contact: contact(), conv: conv(hotline.StateClosed),
			body: "hi again", now: t0.Add(48 * time.Hour), wantNew: true, wantState: hotline.StateWaiting,
			wantSends: []hotline.Purpose{hotline.PurposeWelcome}},
		{name: "STOP in an open conversation opts out with one confirmation", contact: contact(), conv: conv(hotline.StateActive),
			body: "stop", now: later, wantState: hotline.StateActive, wantSends: []hotline.Purpose{hotline.PurposeOptOut}, wantOpted: true},
		{name: "STOP as a first text is kept in a closed conversation", contact: contact(), body: "STOP",
			now: later, wantNew: true, wantState: hotline.StateClosed, wantSends: []hotline.Purpose{hotline.PurposeOptOut}, wantOpted: true,
			check: func(t *testing.T, th hotline.Thread) {
				if got, want := th.Conversation.ClosedReason, "opted_out"; got != want {
					t.Errorf("ClosedReason = %q, want %q", got, want)
				}
			}},
		{name: "STOP after a closed conversation joins it and reopens nothing", contact: contact(), conv: conv(hotline.StateClosed),
			body: "Unsubscribe", now: later, wantState: hotline.StateClosed, wantSends: []hotline.Purpose{hotline.PurposeOptOut}, wantOpted: true,
			check: func(t *testing.T, th hotline.Thread) {
				if th.Conversation.ID != convID {
					t.Errorf("STOP went to conversation %v, want %v", th.Conversation.ID, convID)
				}
			}},
		{name: "STOP again while opted out sends nothing", contact: optedOut(contact()), conv: conv(hotline.StateActive),
			body: "STOP", now: later, wantState: hotline.StateActive, wantOpted: true},
		{name: "START while opted out opts in and confirms", contact: optedOut(contact()), conv: conv(hotline.StateClosed),
			body: "start", now: t0.Add(48 * time.Hour), wantNew: true, wantState: hotline.StateWaiting, wantSends: []hotline.Purpose{hotline.PurposeOptIn}},
		{name: "YES from a subscribed texter is an ordinary message", contact: contact(), conv: conv(hotline.StateActive),
			body: "yes", now: later, wantState: hotline.StateActive},
		{name: "HELP as a first text starts a conversation and answers with help", contact: contact(), body: "HELP",
			now: later, wantNew: true, wantState: hotline.StateWaiting, wantSends: []hotline.Purpose{hotline.PurposeHelp}},
		{name: "HELP in an open conversation is answered and not swallowed", contact: contact(), conv: conv(hotline.StateAssigned),
			body: "info", now: later, wantState: hotline.StateAssigned, wantSends: []hotline.Purpose{hotline.PurposeHelp}},
		{name: "AYUDA starts a Spanish conversation with a Spanish welcome", contact: contact(), body: "Ayuda",
			now: later, wantNew: true, wantState: hotline.StateWaiting, wantSends: []hotline.Purpose{hotline.PurposeWelcome},
			check: func(t *testing.T, th hotline.Thread) {
				if th.Conversation.Language != "es" || th.Contact.Language != "es" {
					t.Errorf("languages = %q / %q, want es", th.Conversation.Language, th.Contact.Language)
				}
			}},
		{name: "an opted-out texter writing again is queued but gets no automatic text", contact: optedOut(contact()),
			body: "please help me", now: later, wantNew: true, wantState: hotline.StateWaiting, wantOpted: true},
		{name: "a risk term makes the conversation urgent and says which", contact: contact(), conv: conv(hotline.StateWaiting),
			body: "He has a gun and took my passport", now: later, wantState: hotline.StateWaiting,
			check: func(t *testing.T, th hotline.Thread) {
				if th.Conversation.Priority != hotline.PriorityUrgent {
					t.Errorf("Priority = %q, want urgent", th.Conversation.Priority)
				}
				if want := []string{"gun", "took my passport"}; !slices.Equal(th.Conversation.TriageTerms, want) {
					t.Errorf("TriageTerms = %q, want %q", th.Conversation.TriageTerms, want)
				}
			}},
		{name: "the automatic reply cap stops a bot loop", contact: func() hotline.Contact {
			c := contact()
			c.AutoReplyWindow, c.AutoReplies = t0, p.AutoReplyCap
			return c
		}(), body: "HELP", conv: conv(hotline.StateWaiting), now: later, wantState: hotline.StateWaiting},
		{name: "the cap resets after an hour", contact: func() hotline.Contact {
			c := contact()
			c.AutoReplyWindow, c.AutoReplies = t0, p.AutoReplyCap
			return c
		}(), body: "HELP", conv: conv(hotline.StateWaiting), now: t0.Add(61 * time.Minute), wantState: hotline.StateWaiting,
			wantSends: []hotline.Purpose{hotline.PurposeHelp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, effects, err := hotline.Apply(hotline.Thread{Contact: tt.contact, Conversation: tt.conv},
				hotline.InboundText{Body: tt.body}, tt.now, p)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := hotline.IsZeroID(th.Conversation.ID); got != tt.wantNew {
				t.Errorf("started a new conversation = %v, want %v", got, tt.wantNew)
			}
			if got, want := th.Conversation.State, tt.wantState; got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			if got := sends(effects); !slices.Equal(got, tt.wantSends) {
				t.Errorf("automatic texts = %q, want %q", got, tt.wantSends)
			}
			if got, want := th.Contact.OptedOut, tt.wantOpted; got != want {
				t.Errorf("OptedOut = %v, want %v", got, want)
			}
			if got, want := th.Contact.LastSeen, tt.now; !got.Equal(want) {
				t.Errorf("LastSeen = %v, want %v", got, want)
			}
			if tt.check != nil {
				tt.check(t, th)
			}
		})
	}
}

func TestApplyInboundCapRecordsWhatWasSuppressed(t *testing.T) {
	p := hotline.DefaultPolicy()
	c := contact()
	c.AutoReplyWindow, c.AutoReplies = t0, p.AutoReplyCap
	_, effects, err := hotline.Apply(hotline.Thread{Contact: c, Conversation: conv(hotline.StateWaiting)}, hotline.InboundText{Body: "help"}, t0.Add(time.Minute), p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := events(effects), 1; got != want {
		t.Errorf("system events = %d, want %d (the thread must say a text was suppressed)", got, want)
	}
}

func TestApplyTick(t *testing.T) {
	p := hotline.DefaultPolicy()
	due := t0.Add(24 * time.Hour)
	tests := []struct {
		name      string
		contact   hotline.Contact
		conv      hotline.Conversation
		now       time.Time
		wantState hotline.State
		wantSends []hotline.Purpose
	}{
		{"inactivity closes with a closing text", contact(), conv(hotline.StateActive), due, hotline.StateClosed, []hotline.Purpose{hotline.PurposeClosing}},
		{"a waiting conversation closes too", contact(), conv(hotline.StateWaiting), due.Add(time.Second), hotline.StateClosed, []hotline.Purpose{hotline.PurposeClosing}},
		{"before the deadline nothing happens", contact(), conv(hotline.StateActive), due.Add(-time.Second), hotline.StateActive, nil},
		{"an opted-out texter gets no closing text", optedOut(contact()), conv(hotline.StateActive), due, hotline.StateClosed, nil},
		{"a closed conversation stays closed", contact(), conv(hotline.StateClosed), due, hotline.StateClosed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, effects, err := hotline.Apply(hotline.Thread{Contact: tt.contact, Conversation: tt.conv}, hotline.Tick{}, tt.now, p)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got, want := th.Conversation.State, tt.wantState; got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			if got := sends(effects); !slices.Equal(got, tt.wantSends) {
				t.Errorf("automatic texts = %q, want %q", got, tt.wantSends)
			}
			if th.Conversation.State == hotline.StateClosed && !th.Conversation.NextDeadline().IsZero() {
				t.Errorf("a closed conversation still has deadline %v", th.Conversation.NextDeadline())
			}
		})
	}
}

func TestApplyResponderEvents(t *testing.T) {
	p := hotline.DefaultPolicy()
	now := t0.Add(5 * time.Minute)
	tests := []struct {
		name         string
		contact      hotline.Contact
		conv         hotline.Conversation
		event        hotline.Event
		wantErr      string
		wantState    hotline.State
		wantAssignee hotline.ID
	}{
		{"accept a waiting conversation", contact(), conv(hotline.StateWaiting), hotline.Accept{By: alice}, "", hotline.StateAssigned, alice.ID},
		{"accept one someone else has", contact(), conv(hotline.StateAssigned), hotline.Accept{By: bob}, hotline.ECONFLICT, "", hotline.ID{}},
		{"accept twice is harmless", contact(), conv(hotline.StateAssigned), hotline.Accept{By: alice}, "", hotline.StateAssigned, alice.ID},
		{"accept a closed conversation", contact(), conv(hotline.StateClosed), hotline.Accept{By: alice}, hotline.ECONFLICT, "", hotline.ID{}},
		{"reply makes it active", contact(), conv(hotline.StateAssigned), hotline.Reply{By: alice}, "", hotline.StateActive, alice.ID},
		{"reply without accepting", contact(), conv(hotline.StateWaiting), hotline.Reply{By: alice}, hotline.ECONFLICT, "", hotline.ID{}},
		{"reply to someone else's texter", contact(), conv(hotline.StateActive), hotline.Reply{By: bob}, hotline.ECONFLICT, "", hotline.ID{}},
		{"reply to an opted-out texter", optedOut(contact()), conv(hotline.StateActive), hotline.Reply{By: alice}, hotline.EOPTEDOUT, "", hotline.ID{}},
		{"reply into a closed conversation", contact(), conv(hotline.StateClosed), hotline.Reply{By: alice}, hotline.ECONFLICT, "", hotline.ID{}},
		{"a coordinator may reply to any open conversation", contact(), conv(hotline.StateActive), hotline.Reply{By: coord}, "", hotline.StateActive, alice.ID},
		{"release returns it to the queue", contact(), conv(hotline.StateActive), hotline.Release{By: alice}, "", hotline.StateWaiting, hotline.ID{}},
		{"release someone else's", contact(), conv(hotline.StateActive), hotline.Release{By: bob}, hotline.ECONFLICT, "", hotline.ID{}},
		{"transfer to a colleague", contact(), conv(hotline.StateActive), hotline.Transfer{By: alice, To: bob.ID}, "", hotline.StateAssigned, bob.ID},
		{"transfer to the queue", contact(), conv(hotline.StateActive), hotline.Transfer{By: alice}, "", hotline.StateWaiting, hotline.ID{}},
		{"close with a disposition", contact(), conv(hotline.StateActive), hotline.Close{By: alice, Disposition: "referred"}, "", hotline.StateClosed, alice.ID},
		{"close someone else's", contact(), conv(hotline.StateActive), hotline.Close{By: bob}, hotline.ECONFLICT, "", hotline.ID{}},
		{"a note on a closed conversation is allowed", contact(), conv(hotline.StateClosed), hotline.Note{By: alice}, "", hotline.StateClosed, hotline.ID{}},
		{"no conversation", contact(), hotline.Conversation{}, hotline.Accept{By: alice}, hotline.ENOTFOUND, "", hotline.ID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hotline.Thread{Contact: tt.contact, Conversation: tt.conv}
			th, _, err := hotline.Apply(before, tt.event, now, p)
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
			if th.Conversation.State == hotline.StateWaiting && th.Conversation.WaitingSince.IsZero() {
				t.Errorf("a waiting conversation has no WaitingSince")
			}
		})
	}
}

func TestApplyReplySetsFirstResponseOnce(t *testing.T) {
	p := hotline.DefaultPolicy()
	th := hotline.Thread{Contact: contact(), Conversation: conv(hotline.StateAssigned)}
	th, _, _ = hotline.Apply(th, hotline.Reply{By: alice}, t0.Add(time.Minute), p)
	th, _, _ = hotline.Apply(th, hotline.Reply{By: alice}, t0.Add(2*time.Minute), p)
	if got, want := th.Conversation.FirstResponseAt, t0.Add(time.Minute); !got.Equal(want) {
		t.Errorf("FirstResponseAt = %v, want %v", got, want)
	}
}

func TestApplyCloseKeepsDispositionAndTags(t *testing.T) {
	tags := []string{"labor", "referral"}
	th, _, err := hotline.Apply(hotline.Thread{Contact: contact(), Conversation: conv(hotline.StateActive)},
		hotline.Close{By: alice, Disposition: "referred", Tags: tags}, t0, hotline.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	tags[0] = "changed"
	if got := th.Conversation.Tags; !slices.Equal(got, []string{"labor", "referral"}) {
		t.Errorf("Tags = %q: the machine must copy the caller's slice", got)
	}
	if got, want := th.Conversation.Disposition, "referred"; got != want {
		t.Errorf("Disposition = %q, want %q", got, want)
	}
	if !th.Conversation.NextDeadline().IsZero() {
		t.Errorf("a closed conversation kept a deadline")
	}
}

func TestApplyCarrierOptOut(t *testing.T) {
	th, effects, err := hotline.Apply(hotline.Thread{Contact: contact(), Conversation: conv(hotline.StateActive)}, hotline.CarrierOptOut{}, t0, hotline.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !th.Contact.OptedOut {
		t.Errorf("contact not opted out after Twilio error 21610")
	}
	if got := sends(effects); len(got) != 0 {
		t.Errorf("sent %q to a texter the carrier opted out", got)
	}
	if got, want := events(effects), 1; got != want {
		t.Errorf("system events = %d, want %d", got, want)
	}
}
