package hotline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

func TestConversationVisibility(t *testing.T) {
	ana := hotline.User{ID: hotline.NewID(t0), Username: "ana", Role: hotline.RoleResponder}
	bo := hotline.User{ID: hotline.NewID(t0), Username: "bo", Role: hotline.RoleResponder}
	coordinator := hotline.User{ID: hotline.NewID(t0), Username: "cy", Role: hotline.RoleCoordinator}
	window := 24 * time.Hour
	now := t0.Add(48 * time.Hour)
	with := func(state hotline.State, mods ...func(*hotline.Conversation)) hotline.Conversation {
		c := conv(state)
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	assignedTo := func(u hotline.User) func(*hotline.Conversation) {
		return func(c *hotline.Conversation) { c.AssigneeID, c.Responders = u.ID, append(c.Responders, u.ID) }
	}
	handledBy := func(u hotline.User) func(*hotline.Conversation) {
		return func(c *hotline.Conversation) { c.Responders = append(c.Responders, u.ID) }
	}
	closedAt := func(at time.Time) func(*hotline.Conversation) {
		return func(c *hotline.Conversation) { c.ClosedAt = at }
	}
	tests := []struct {
		name      string
		user      hotline.User
		conv      hotline.Conversation
		lastWrote time.Time
		want      hotline.Visibility
	}{
		{"waiting, to any responder", ana, with(hotline.StateWaiting), time.Time{}, hotline.QueueView},
		{"assigned to them", ana, with(hotline.StateAssigned, assignedTo(ana)), time.Time{}, hotline.ThreadView},
		{"active with them", ana, with(hotline.StateActive, assignedTo(ana)), time.Time{}, hotline.ThreadView},
		{"another responder's", ana, with(hotline.StateActive, assignedTo(bo)), time.Time{}, hotline.Hidden},
		{"another responder's, to a coordinator", coordinator, with(hotline.StateActive, assignedTo(bo)), time.Time{}, hotline.ThreadView},
		{"closed in their hands 23h ago", ana, with(hotline.StateClosed, assignedTo(ana), closedAt(now.Add(-23*time.Hour))), time.Time{}, hotline.ThreadView},
		{"closed in their hands 25h ago", ana, with(hotline.StateClosed, assignedTo(ana), closedAt(now.Add(-25*time.Hour))), time.Time{}, hotline.Hidden},
		{"closed in another's hands", ana, with(hotline.StateClosed, assignedTo(bo), closedAt(now.Add(-time.Hour))), time.Time{}, hotline.Hidden},
		{"transferred away, wrote 2h ago", ana, with(hotline.StateActive, handledBy(ana), assignedTo(bo)), now.Add(-2 * time.Hour), hotline.ThreadView},
		{"transferred away, wrote 30h ago", ana, with(hotline.StateActive, handledBy(ana), assignedTo(bo)), now.Add(-30 * time.Hour), hotline.Hidden},
		{"transferred away, never wrote", ana, with(hotline.StateActive, handledBy(ana), assignedTo(bo)), time.Time{}, hotline.Hidden},
		{"released back to the queue, wrote 1h ago", ana, with(hotline.StateWaiting, handledBy(ana)), now.Add(-time.Hour), hotline.ThreadView},
		{"disabled coordinator", hotline.User{ID: coordinator.ID, Role: hotline.RoleCoordinator, Disabled: true}, with(hotline.StateWaiting), time.Time{}, hotline.Hidden},
		{"nobody", hotline.User{}, with(hotline.StateWaiting), time.Time{}, hotline.Hidden},
	}
	for _, tt := range tests {
		if got := hotline.ConversationVisibility(tt.user, tt.conv, tt.lastWrote, now, window); got != tt.want {
			t.Errorf("%s: visibility %d, want %d", tt.name, got, tt.want)
		}
	}
}

// accessFixture has two responders and a coordinator, signed in, and a texter.
type accessFixture struct {
	*accountsFixture
	access         *hotline.Access
	ana, bo, coord hotline.Caller
	texts          int
}

func newAccess(t *testing.T) *accessFixture {
	f := &accessFixture{accountsFixture: newAccounts(t, hotline.AccountsOptions{}, nil)}
	f.access = hotline.NewAccess(f.svc, 24*time.Hour)
	f.coord = hotline.Caller{User: f.addUser(t, "cy", hotline.RoleCoordinator), RemoteAddr: "192.0.2.9"}
	f.ana = hotline.Caller{User: f.addUser(t, "ana", hotline.RoleResponder)}
	f.bo = hotline.Caller{User: f.addUser(t, "bo", hotline.RoleResponder)}
	return f
}

func (f *accessFixture) text(t *testing.T, from, body string) hotline.ID {
	t.Helper()
	f.texts++
	res, err := f.svc.ReceiveInbound(context.Background(), inbound(fmt.Sprintf("SMtext%d", f.texts), from, body))
	if err != nil {
		t.Fatal(err)
	}
	return res.ConversationID
}

func visibleTo(t *testing.T, f *accessFixture, c hotline.Caller, states ...hotline.State) map[hotline.ID]hotline.Visibility {
	t.Helper()
	list, err := f.access.Conversations(context.Background(), c, hotline.ConversationQuery{States: states})
	if err != nil {
		t.Fatal(err)
	}
	out := map[hotline.ID]hotline.Visibility{}
	for _, s := range list {
		out[s.Conversation.ID] = s.Visibility
	}
	return out
}

func TestAccess_ResponderCannotReadAnothersConversation(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	mine := f.text(t, "+14155550101", "I need help")
	f.clock.Advance(time.Second)
	queued := f.text(t, "+14155550102", "hello?")
	if err := f.access.Accept(ctx, f.ana, mine); err != nil {
		t.Fatal(err)
	}
	if _, err := f.access.Reply(ctx, f.ana, mine, "I am here."); err != nil {
		t.Fatal(err)
	}

	tr, err := f.access.Transcript(ctx, f.ana, mine)
	if err != nil || tr.Visibility != hotline.ThreadView || len(tr.Messages) < 2 {
		t.Errorf("ana's own conversation: %d messages, visibility %d, %v; want the thread", len(tr.Messages), tr.Visibility, err)
	}
	_, err = f.access.Transcript(ctx, f.bo, mine)
	wantCode(t, "bo reading ana's conversation", err, hotline.ENOTFOUND)
	_, err = f.access.Reply(ctx, f.bo, mine, "hi")
	wantCode(t, "bo replying in ana's conversation", err, hotline.ENOTFOUND)
	_, err = f.access.AddNote(ctx, f.bo, mine, "a note")
	wantCode(t, "bo writing a note in ana's conversation", err, hotline.ENOTFOUND)
	wantCode(t, "bo closing ana's conversation", f.access.Close(ctx, f.bo, mine, "resolved", nil), hotline.ENOTFOUND)
	wantCode(t, "bo taking ana's conversation", f.access.Accept(ctx, f.bo, mine), hotline.ECONFLICT)
	_, err = f.access.Transcript(ctx, f.bo, hotline.NewID(t0))
	wantCode(t, "a conversation that does not exist", err, hotline.ENOTFOUND)

	// The queue: bo sees the waiting one without its messages, not ana's.
	if got := visibleTo(t, f, f.bo); len(got) != 1 || got[queued] != hotline.QueueView {
		t.Errorf("bo's list = %v, want only %s as queue view", got, queued)
	}
	tr, err = f.access.Transcript(ctx, f.bo, queued)
	if err != nil || tr.Visibility != hotline.QueueView || len(tr.Messages) != 0 {
		t.Errorf("bo opening a waiting conversation = %d messages, %v; want its summary only", len(tr.Messages), err)
	}
	_, err = f.access.AddNote(ctx, f.bo, queued, "a note")
	wantCode(t, "a note before accepting", err, hotline.ECONFLICT)
	if got := visibleTo(t, f, f.coord); len(got) != 2 {
		t.Errorf("the coordinator's list = %v, want both", got)
	}
}

func TestAccess_HandledConversationsStayVisibleForAWhile(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	a := f.text(t, "+14155550101", "help")
	b := f.text(t, "+14155550102", "help")
	for _, id := range []hotline.ID{a, b} {
		if err := f.access.Accept(ctx, f.ana, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.access.Reply(ctx, f.ana, id, "hello"); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(time.Hour)
	wantCode(t, "a transfer to someone offline", f.access.Transfer(ctx, f.ana, a, f.bo.User.ID, "over to you"), hotline.ECONFLICT)
	if _, err := f.accounts.SetAvailability(ctx, f.bo, hotline.AvailabilityAvailable); err != nil {
		t.Fatal(err)
	}
	if err := f.access.Transfer(ctx, f.ana, a, f.bo.User.ID, "over to you"); err != nil {
		t.Fatal(err)
	}
	if err := f.access.Close(ctx, f.ana, b, "resolved", []string{"housing"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a transfer to nobody", f.access.Transfer(ctx, f.bo, a, hotline.NewID(t0), ""), hotline.EINVALID)
	all := []hotline.State{hotline.StateWaiting, hotline.StateAssigned, hotline.StateActive, hotline.StateClosed}
	if got := visibleTo(t, f, f.ana, all...); got[a] != hotline.ThreadView || got[b] != hotline.ThreadView {
		t.Errorf("an hour later ana sees %v, want both threads", got)
	}
	f.clock.Advance(24*time.Hour + time.Minute) // since the close, and since her transfer note
	if got := visibleTo(t, f, f.ana, all...); len(got) != 0 {
		t.Errorf("a day later ana sees %v, want neither", got)
	}
	_, err := f.access.Transcript(ctx, f.ana, b)
	wantCode(t, "ana reading her closed conversation a day later", err, hotline.ENOTFOUND)
	if tr, err := f.access.Transcript(ctx, f.bo, a); err != nil || tr.Visibility != hotline.ThreadView {
		t.Errorf("bo reading the conversation transferred to him: %v", err)
	}
}

func TestAccess_CoordinatorViewsAndRevealsAreAudited(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	id := f.text(t, "+14155550101", "help")
	if _, err := f.access.Transcript(ctx, f.coord, id); err != nil {
		t.Fatal(err)
	}
	addr, err := f.access.Reveal(ctx, f.coord, id)
	if err != nil || addr != "+14155550101" {
		t.Errorf("Reveal = %q, %v; want the texter's number", addr, err)
	}
	_, err = f.access.Reveal(ctx, f.ana, id)
	wantCode(t, "a responder revealing a number", err, hotline.EFORBIDDEN)
	_, err = f.access.Transcript(ctx, f.ana, id) // a responder's view is not audited
	if err != nil {
		t.Fatal(err)
	}
	log, err := f.accounts.AuditLog(ctx, f.coord, hotline.ID{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) < 2 || log[0].Action != hotline.AuditReveal || log[1].Action != hotline.AuditTranscriptView {
		t.Fatalf("audit log starts %+v, want the reveal, then the transcript view", log[:min(2, len(log))])
	}
	for _, e := range log[:2] {
		if e.TargetType != hotline.TargetConversation || e.TargetID != id.String() || e.ActorID != f.coord.User.ID || e.RemoteAddr != "192.0.2.9" {
			t.Errorf("entry %+v: want conversation %s by the coordinator from 192.0.2.9", e, id)
		}
		for k, v := range e.Detail {
			if v == "+14155550101" || v == "help" {
				t.Errorf("entry %s detail %s = %q: the audit log must not hold numbers or bodies", e.Action, k, v)
			}
		}
	}
}

func TestAccess_CountInbound(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	if _, err := f.svc.ReceiveInbound(ctx, inbound("SMone", "+14155550101", "help")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReceiveInbound(ctx, inbound("SMone", "+14155550101", "retried")); err != nil {
		t.Fatal(err)
	}
	counts, err := f.access.CountInbound(ctx, f.coord, []string{"SMone", "SMnone"})
	if err != nil || counts["SMone"] != 1 || counts["SMnone"] != 0 || len(counts) != 2 {
		t.Errorf("CountInbound = %v, %v; want SMone 1, SMnone 0", counts, err)
	}
	_, err = f.access.CountInbound(ctx, f.ana, []string{"SMone"})
	wantCode(t, "a responder looking up SIDs", err, hotline.EFORBIDDEN)
	_, err = f.access.CountInbound(ctx, f.coord, make([]string, 1001))
	wantCode(t, "1001 SIDs", err, hotline.EINVALID)
}
