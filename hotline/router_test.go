package hotline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/auth"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestPlanOffers(t *testing.T) {
	p := hotline.DefaultRoutingPolicy()
	now := t0.Add(time.Hour)
	ids := make([]hotline.ID, 4)
	for i := range ids {
		ids[i] = hotline.NewID(t0.Add(time.Duration(i) * time.Millisecond))
	}
	cand := func(i int, mods ...func(*hotline.Candidate)) hotline.Candidate {
		c := hotline.Candidate{ID: ids[i], Languages: []string{"en"}, Capacity: 2, OnCall: true, Available: true}
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	convs := make([]hotline.ID, 4)
	for i := range convs {
		convs[i] = hotline.NewID(t0.Add(time.Duration(i) * time.Millisecond))
	}
	waiting := func(i int, waited time.Duration, mods ...func(*hotline.Conversation)) hotline.Conversation {
		c := hotline.Conversation{ID: convs[i], State: hotline.StateWaiting, Priority: hotline.PriorityNormal, Language: "en",
			WaitingSince: now.Add(-waited)}
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	urgent := func(c *hotline.Conversation) { c.Priority = hotline.PriorityUrgent }
	spanish := func(c *hotline.Conversation) { c.Language = "es" }
	type a = hotline.Assignment
	tests := []struct {
		name  string
		queue []hotline.Conversation
		cands []hotline.Candidate
		want  []a
	}{
		{"nobody waiting", nil, []hotline.Candidate{cand(0)}, nil},
		{"nobody on call", []hotline.Conversation{waiting(0, time.Minute)}, []hotline.Candidate{cand(0, func(c *hotline.Candidate) { c.OnCall = false })}, nil},
		{"urgent first, then the longest waiting, one offer per responder at a time",
			[]hotline.Conversation{waiting(0, time.Hour), waiting(1, time.Minute, urgent), waiting(2, 2*time.Hour)},
			[]hotline.Candidate{cand(0), cand(1)},
			[]a{{convs[1], ids[0]}, {convs[2], ids[1]}}},
		{"fairness: fewest open first, then idle longest",
			[]hotline.Conversation{waiting(0, time.Minute), waiting(1, 30*time.Second)},
			[]hotline.Candidate{cand(0, func(c *hotline.Candidate) { c.Open = 1 }), cand(1, func(c *hotline.Candidate) { c.LastAssignedAt = now }), cand(2)},
			[]a{{convs[0], ids[2]}, {convs[1], ids[1]}}},
		{"a responder with an offer pending gets no other",
			[]hotline.Conversation{waiting(0, time.Minute)},
			[]hotline.Candidate{cand(0, func(c *hotline.Candidate) { c.Offered = true })},
			nil},
		{"capacity: a full responder is skipped",
			[]hotline.Conversation{waiting(0, time.Minute)},
			[]hotline.Candidate{cand(0, func(c *hotline.Candidate) { c.Open = 2 }), cand(1, func(c *hotline.Candidate) { c.Open = 1 })},
			[]a{{convs[0], ids[1]}}},
		{"language: a Spanish texter waits for a Spanish speaker, and does not hold up the rest",
			[]hotline.Conversation{waiting(0, time.Minute, spanish, urgent), waiting(1, 30*time.Second)},
			[]hotline.Candidate{cand(0)},
			[]a{{convs[1], ids[0]}}},
		{"language fallback: after the wait anyone may get it",
			[]hotline.Conversation{waiting(0, p.LanguageFallbackAfter, spanish)},
			[]hotline.Candidate{cand(0)},
			[]a{{convs[0], ids[0]}}},
		{"language: a speaker is preferred even when busier",
			[]hotline.Conversation{waiting(0, time.Minute, spanish)},
			[]hotline.Candidate{cand(0), cand(1, func(c *hotline.Candidate) { c.Languages = []string{"en", "es"}; c.Open = 1 })},
			[]a{{convs[0], ids[1]}}},
		{"a responder who let the offer lapse is passed over",
			[]hotline.Conversation{waiting(0, time.Minute, func(c *hotline.Conversation) { c.Passed = []hotline.ID{ids[0]} })},
			[]hotline.Candidate{cand(0), cand(1, func(c *hotline.Candidate) { c.Open = 1 })},
			[]a{{convs[0], ids[1]}}},
		{"when everyone eligible passed, it starts over",
			[]hotline.Conversation{waiting(0, time.Minute, func(c *hotline.Conversation) { c.Passed = []hotline.ID{ids[0]} })},
			[]hotline.Candidate{cand(0)},
			[]a{{convs[0], ids[0]}}},
		{"only waiting conversations are offered",
			[]hotline.Conversation{waiting(0, time.Minute, func(c *hotline.Conversation) { c.State = hotline.StateAssigned })},
			[]hotline.Candidate{cand(0)},
			nil},
	}
	for _, tt := range tests {
		if got := hotline.PlanOffers(tt.queue, tt.cands, now, p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: plan = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// routing is a service with accounts, a router and a roster over one store.
type routing struct {
	svc      *hotline.Service
	accounts *hotline.Accounts
	router   *hotline.Router
	roster   *hotline.Roster
	clock    *testClock
	changes  *changeLog
	sids     int
}

func newRouting(t *testing.T, mods ...func(*hotline.Policy)) *routing {
	t.Helper()
	st := storetest.MustOpen(t)
	p := hotline.DefaultPolicy()
	for _, m := range mods {
		m(&p)
	}
	r := &routing{clock: &testClock{now: t0}, changes: &changeLog{}}
	r.svc = hotline.NewService(st, r.clock, r.changes, p)
	r.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: r.clock, Passwords: &plainHasher{},
		Tokens: auth.Tokens{}}, hotline.AccountsOptions{})
	r.router = hotline.NewRouter(r.svc, hotline.RouterOptions{})
	r.roster = hotline.NewRoster(r.svc)
	r.accounts.SetRouter(r.router)
	return r
}

// person adds a user with the role, languages and phone, available when asked.
func (r *routing) person(t *testing.T, name string, role hotline.Role, available bool, langs ...string) hotline.User {
	t.Helper()
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	r.sids++
	u, err := r.accounts.CreateUser(context.Background(), operator, hotline.NewUser{Username: name, Password: password, Role: role,
		Languages: langs, Phone: fmt.Sprintf("+1415555%04d", 9000+r.sids)})
	if err != nil {
		t.Fatal(err)
	}
	if available {
		r.setAvailability(t, u, hotline.AvailabilityAvailable)
	}
	return u
}

func (r *routing) setAvailability(t *testing.T, u hotline.User, av hotline.Availability) {
	t.Helper()
	if _, err := r.accounts.SetAvailability(context.Background(), hotline.Caller{User: u}, av); err != nil {
		t.Fatal(err)
	}
}

// text has a texter write and returns the conversation.
func (r *routing) text(t *testing.T, from, body string) hotline.ID {
	t.Helper()
	r.sids++
	res, err := r.svc.ReceiveInbound(context.Background(), inbound(fmt.Sprintf("SMroute%05d", r.sids), from, body))
	if err != nil {
		t.Fatal(err)
	}
	return res.ConversationID
}

func (r *routing) conv(t *testing.T, id hotline.ID) hotline.Conversation {
	t.Helper()
	c, _, _ := thread(t, r.svc, id)
	return c
}

func (r *routing) route(t *testing.T) int {
	t.Helper()
	n, err := r.router.Route(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *routing) fire(t *testing.T) int {
	t.Helper()
	n, err := r.svc.FireDueTimers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pagesTo returns the outbox entries that are pages (no conversation), by recipient.
func (r *routing) pagesTo(t *testing.T) map[hotline.Address][]string {
	t.Helper()
	out := map[hotline.Address][]string{}
	err := r.svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Outbox(func(e hotline.OutboxEntry) error {
			if hotline.IsZeroID(e.ConversationID) {
				out[e.To] = append(out[e.To], e.Body)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRouterOffersAcceptsAndLapses(t *testing.T) {
	r := newRouting(t)
	ctx := context.Background()
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	bo := r.person(t, "bo", hotline.RoleResponder, true)
	r.person(t, "away", hotline.RoleResponder, false)

	c1 := r.text(t, "+14155550101", "hello")
	if got := r.route(t); got != 1 {
		t.Fatalf("offers made = %d, want 1", got)
	}
	first := r.conv(t, c1)
	if !first.Offered() || (first.AssigneeID != ana.ID && first.AssigneeID != bo.ID) {
		t.Fatalf("conversation %s assigned to %v (offered %v), want an offer to ana or bo", first.State, first.AssigneeID, first.Offered())
	}
	// The offered responder hears of it: the change names them.
	if !slices.ContainsFunc(r.changes.changes, func(c hotline.Change) bool {
		return c.Kind == hotline.ChangeConversation && c.ConversationID == c1 && c.AssigneeID == first.AssigneeID
	}) {
		t.Errorf("no change published naming the offered responder")
	}
	offeree, other := first.AssigneeID, ana.ID
	if offeree == ana.ID {
		other = bo.ID
	}
	if got := r.route(t); got != 0 {
		t.Errorf("a second pass made %d offers, want 0 (nothing else waits)", got)
	}

	// The offer lapses: back in the queue in its place, then offered to the other.
	r.clock.Advance(hotline.DefaultOfferTimeout)
	if got := r.fire(t); got != 1 {
		t.Fatalf("timers fired = %d, want 1 (the offer)", got)
	}
	lapsed := r.conv(t, c1)
	if lapsed.State != hotline.StateWaiting || !lapsed.WaitingSince.Equal(t0) || !slices.Contains(lapsed.Passed, offeree) {
		t.Fatalf("after the lapse: %s since %v, passed %v; want waiting since %v, the offeree passed", lapsed.State, lapsed.WaitingSince, lapsed.Passed, t0)
	}
	if got := r.fire(t); got != 0 {
		t.Errorf("timers fired again = %d, want 0: a timer fires once", got)
	}
	r.route(t)
	if got := r.conv(t, c1); got.AssigneeID != other || !got.Offered() {
		t.Fatalf("after the lapse the conversation is with %v (offered %v), want an offer to the other responder %v", got.AssigneeID, got.Offered(), other)
	}

	// Accepting confirms the offer; another responder cannot take it.
	if err := r.svc.Accept(ctx, hotline.Actor{ID: offeree}, c1); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Errorf("the passed-over responder accepting = %v, want ECONFLICT", err)
	}
	if err := r.svc.Accept(ctx, hotline.Actor{ID: other}, c1); err != nil {
		t.Fatal(err)
	}
	taken := r.conv(t, c1)
	if taken.Offered() || taken.AssigneeID != other || !taken.HasResponder(other) {
		t.Errorf("after accepting: offered %v, assignee %v", taken.Offered(), taken.AssigneeID)
	}
	// Capacity counts from the index; fairness remembers the assignment.
	var u hotline.User
	_ = r.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		counts, err := tx.OpenCounts()
		if err == nil && counts[other] != 1 {
			t.Errorf("open conversations of the responder = %d, want 1", counts[other])
		}
		u, _ = tx.User(other)
		return err
	})
	if u.LastAssignedAt.IsZero() {
		t.Errorf("LastAssignedAt not recorded")
	}
}

func TestRouterNeverOffersPastCapacityOrToTheUnavailable(t *testing.T) {
	r := newRouting(t)
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	cap1 := 1
	if _, err := r.accounts.UpdateUser(context.Background(), operator, ana.ID, hotline.UserPatch{Capacity: &cap1}); err != nil {
		t.Fatal(err)
	}
	c1 := r.text(t, "+14155550101", "one")
	c2 := r.text(t, "+14155550102", "two")
	r.route(t)
	if err := r.svc.Accept(context.Background(), ana.Actor(), c1); err != nil {
		t.Fatal(err)
	}
	r.route(t)
	if got := r.conv(t, c2); got.State != hotline.StateWaiting {
		t.Errorf("the second conversation is %s with %v, want waiting: ana is at capacity", got.State, got.AssigneeID)
	}
	r.setAvailability(t, ana, hotline.AvailabilityAway)
	if got := r.conv(t, c1); got.State != hotline.StateWaiting || !got.WaitingSince.Equal(t0) {
		t.Errorf("ana went away: her unanswered conversation is %s since %v, want back in the queue since %v", got.State, got.WaitingSince, t0)
	}
	if got := r.route(t); got != 0 {
		t.Errorf("offers to an away responder: %d", got)
	}
}

func TestGoingAwayKeepsAnsweredConversations(t *testing.T) {
	r := newRouting(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull })
	ctx := context.Background()
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	answered := r.text(t, "+14155550101", "one")
	unanswered := r.text(t, "+14155550102", "two")
	for _, id := range []hotline.ID{answered, unanswered} {
		if err := r.svc.Accept(ctx, ana.Actor(), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.Reply(ctx, ana.Actor(), answered, "I am here."); err != nil {
		t.Fatal(err)
	}
	r.setAvailability(t, ana, hotline.AvailabilityOffline)
	if got := r.conv(t, answered); got.State != hotline.StateActive || got.AssigneeID != ana.ID {
		t.Errorf("the answered conversation is %s with %v, want still active with ana", got.State, got.AssigneeID)
	}
	got := r.conv(t, unanswered)
	if got.State != hotline.StateWaiting || !slices.Contains(got.Passed, ana.ID) {
		t.Errorf("the unanswered conversation is %s (passed %v), want back in the queue", got.State, got.Passed)
	}
	_, msgs, _ := thread(t, r.svc, unanswered)
	if last := msgs[len(msgs)-1]; last.Direction != hotline.DirectionSystem || !strings.Contains(last.Body, "went offline") {
		t.Errorf("the thread's last line = %q, want a note that ana went offline", last.Body)
	}
}

func TestSessionIdlingOutMakesOfflineAndRequeues(t *testing.T) {
	r := newRouting(t)
	ctx := context.Background()
	ana := r.person(t, "ana", hotline.RoleResponder, false)
	res, err := r.accounts.Login(ctx, hotline.LoginRequest{Username: "ana", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	r.setAvailability(t, ana, hotline.AvailabilityAvailable)
	c1 := r.text(t, "+14155550101", "hello")
	r.route(t)
	if got := r.conv(t, c1); got.AssigneeID != ana.ID {
		t.Fatalf("not offered to ana")
	}
	if n, err := r.accounts.SweepPresence(ctx); err != nil || n != 0 {
		t.Fatalf("SweepPresence with a live session = %d, %v; want 0", n, err)
	}
	r.clock.Advance(hotline.DefaultSessionIdle)
	if n, err := r.accounts.SweepPresence(ctx); err != nil || n != 1 {
		t.Fatalf("SweepPresence after the idle timeout = %d, %v; want 1", n, err)
	}
	u, _ := r.accounts.User(ctx, operator, ana.ID)
	if u.Availability != hotline.AvailabilityOffline {
		t.Errorf("availability = %s, want offline", u.Availability)
	}
	if got := r.conv(t, c1); got.State != hotline.StateWaiting {
		t.Errorf("ana's offer is %s, want back in the queue", got.State)
	}
	// The session is gone; a request with it is refused.
	if _, err := r.accounts.Authenticate(ctx, res.Token); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
		t.Errorf("Authenticate with the idle session = %v, want EUNAUTHORIZED", err)
	}
}

func TestTakeNext(t *testing.T) {
	r := newRouting(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull })
	ctx := context.Background()
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	esme := r.person(t, "esme", hotline.RoleResponder, true, "es")
	away := r.person(t, "away", hotline.RoleResponder, false)
	caller := func(u hotline.User) hotline.Caller { return hotline.Caller{User: u} }

	_, err := r.router.TakeNext(ctx, caller(ana))
	wantCode(t, "take next with nobody waiting", err, hotline.ENOTFOUND)

	es := r.text(t, "+14155550101", "AYUDA")
	r.clock.Advance(time.Second)
	en := r.text(t, "+14155550102", "hello")
	r.clock.Advance(time.Second)
	urgent := r.text(t, "+14155550103", "he has a gun")
	if got := r.route(t); got != 0 {
		t.Errorf("pull mode made %d offers, want none", got)
	}

	_, err = r.router.TakeNext(ctx, caller(away))
	wantCode(t, "take next while away", err, hotline.ECONFLICT)

	got, err := r.router.TakeNext(ctx, caller(ana))
	if err != nil || got.ID != urgent {
		t.Fatalf("ana's take next = %v, %v; want the urgent conversation first", got.ID, err)
	}
	got, err = r.router.TakeNext(ctx, caller(esme))
	if err != nil || got.ID != es {
		t.Fatalf("esme's take next = %v, %v; want the Spanish conversation (she speaks only es)", got.ID, err)
	}
	_, err = r.router.TakeNext(ctx, caller(esme))
	wantCode(t, "esme with only an English texter waiting", err, hotline.ECONFLICT)
	r.clock.Advance(hotline.DefaultLanguageFallbackAfter)
	if got, err = r.router.TakeNext(ctx, caller(esme)); err != nil || got.ID != en {
		t.Errorf("after the fallback esme takes %v, %v; want the English conversation", got.ID, err)
	}
	if c := r.conv(t, en); c.State != hotline.StateAssigned || c.AssigneeID != esme.ID {
		t.Errorf("taken conversation: %s with %v", c.State, c.AssigneeID)
	}
}

func TestTakeNextRaceHasOneWinner(t *testing.T) {
	r := newRouting(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull })
	const takers = 8
	var users []hotline.User
	for i := range takers {
		users = append(users, r.person(t, fmt.Sprintf("r%d", i), hotline.RoleResponder, true))
	}
	id := r.text(t, "+14155550101", "hello")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, empty := 0, 0
	for _, u := range users {
		wg.Go(func() {
			got, err := r.router.TakeNext(context.Background(), hotline.Caller{User: u})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && got.ID == id:
				wins++
			case hotline.ErrorCode(err) == hotline.ENOTFOUND:
				empty++
			default:
				t.Errorf("TakeNext: %v, %v", got.ID, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || empty != takers-1 {
		t.Errorf("wins = %d, empty queue = %d; want exactly one winner", wins, empty)
	}
}

func TestEscalationPagesOnCallThenCoordinatorsRateLimited(t *testing.T) {
	r := newRouting(t)
	ana := r.person(t, "ana", hotline.RoleResponder, false) // on call (no schedule yet), but away
	boss := r.person(t, "boss", hotline.RoleCoordinator, false)
	c1 := r.text(t, "+14155550101", "hello")
	r.clock.Advance(time.Second)
	r.text(t, "+14155550102", "he took my passport")

	r.clock.Advance(hotline.DefaultEscalateAfter)
	r.fire(t)
	pages := r.pagesTo(t)
	if got, want := pages[ana.Phone], []string{"hotline: 2 texters waiting, 1 urgent"}; !slices.Equal(got, want) {
		t.Fatalf("pages to ana = %q, want %q (one page summarising both)", got, want)
	}
	if len(pages[boss.Phone]) != 0 {
		t.Errorf("the coordinator was paged before escalate_coordinators_after")
	}
	for _, body := range pages[ana.Phone] {
		if strings.Contains(body, "passport") || strings.Contains(body, "hello") || strings.Contains(body, "+1415") {
			t.Errorf("a page holds texter content: %q", body)
		}
	}
	_, msgs, _ := thread(t, r.svc, c1)
	if !slices.ContainsFunc(msgs, func(m hotline.Message) bool { return strings.Contains(m.Body, "paged 1 on-call responder by SMS") }) {
		t.Errorf("the thread does not record the page: %q", directions(msgs))
	}

	// A third texter waits past the threshold within the page interval: no new page.
	r.clock.Advance(time.Minute) // t0+6m1s
	r.text(t, "+14155550103", "hi")
	r.clock.Advance(hotline.DefaultEscalateAfter) // t0+11m1s
	r.fire(t)
	if got := len(r.pagesTo(t)[ana.Phone]); got != 1 {
		t.Errorf("pages to ana within the interval = %d, want 1", got)
	}
	r.clock.Advance(4 * time.Minute) // t0+15m1s: the first two reach the coordinators' threshold
	r.fire(t)
	pages = r.pagesTo(t)
	if got := len(pages[boss.Phone]); got != 1 {
		t.Errorf("pages to the coordinator = %d, want 1", got)
	}
	if got := len(pages[ana.Phone]); got != 1 {
		t.Errorf("pages to ana = %d, want still 1 (rate-limited per person)", got)
	}
	// Past the interval, a new wait pages again, with the whole queue.
	r.clock.Advance(5 * time.Minute) // t0+20m1s
	r.text(t, "+14155550104", "hi")
	r.clock.Advance(hotline.DefaultEscalateAfter) // t0+25m1s
	r.fire(t)
	pages = r.pagesTo(t)
	if got := pages[ana.Phone]; len(got) != 2 || got[1] != "hotline: 4 texters waiting, 1 urgent" {
		t.Errorf("pages to ana after the interval = %q, want a second summary of 4 waiting", got)
	}
	if got := len(pages[boss.Phone]); got != 2 {
		t.Errorf("pages to the coordinator = %d, want 2 (the third texter reached their threshold 10m after the first page)", got)
	}
	records, err := r.roster.Pages(context.Background(), operator, hotline.ID{}, 0)
	if err != nil || len(records) != 4 {
		t.Errorf("page records = %d, %v; want 4", len(records), err)
	}
	if len(records) > 0 && (records[0].Waiting != 4 || records[0].Urgent != 1 || hotline.IsZeroID(records[0].UserID)) {
		t.Errorf("newest page record = %+v", records[0])
	}
}

func TestEscalationRepeatsUntilAccepted(t *testing.T) {
	r := newRouting(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull }) // nobody is offered it
	ana := r.person(t, "ana", hotline.RoleResponder, true)                               // on call and available, but not looking
	boss := r.person(t, "boss", hotline.RoleCoordinator, false)
	id := r.text(t, "+14155550101", "hello")
	count := func() (int, int) { p := r.pagesTo(t); return len(p[ana.Phone]), len(p[boss.Phone]) }
	want := map[int][2]int{4: {0, 0}, 5: {1, 0}, 15: {1, 1}, 24: {1, 1}, 25: {2, 2}, 35: {3, 3}, 45: {4, 4}, 46: {4, 4}}
	for m := 1; m <= 46; m++ {
		r.clock.Advance(time.Minute) // the store's timer index fires the repeats
		r.fire(t)
		if w, ok := want[m]; ok {
			if a, b := count(); a != w[0] || b != w[1] {
				t.Errorf("after %d min: pages to ana %d, to the coordinator %d; want %d, %d", m, a, b, w[0], w[1])
			}
		}
	}
	if err := r.svc.Accept(context.Background(), ana.Actor(), id); err != nil {
		t.Fatal(err)
	}
	if c := r.conv(t, id); !c.EscalateAt.IsZero() {
		t.Errorf("EscalateAt = %v after the conversation was taken, want none", c.EscalateAt)
	}
	r.clock.Advance(time.Hour)
	r.fire(t)
	if a, b := count(); a != 4 || b != 4 {
		t.Errorf("pages after the conversation was taken: ana %d, coordinator %d; want still 4, 4", a, b)
	}
}

func TestConcurrentTimerPassesPageOnce(t *testing.T) {
	r := newRouting(t)
	ana := r.person(t, "ana", hotline.RoleResponder, false)
	for i := range 5 {
		r.text(t, fmt.Sprintf("+1415555%04d", i), "hello")
	}
	r.clock.Advance(hotline.DefaultEscalateAfter)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := r.svc.FireDueTimers(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := r.pagesTo(t)[ana.Phone]; len(got) != 1 {
		t.Errorf("pages = %q, want exactly one", got)
	}
}

func TestAfterHoursWithASchedule(t *testing.T) {
	r := newRouting(t)
	ctx := context.Background()
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	boss := r.person(t, "boss", hotline.RoleCoordinator, false)
	// Ana is on call Mondays 18:00–02:00; t0 is a Sunday at 09:00.
	evening, _ := hotline.ParseClockTime("18:00")
	night, _ := hotline.ParseClockTime("02:00")
	if _, err := r.roster.CreateRotation(ctx, operator, hotline.Rotation{ResponderID: ana.ID, Weekdays: []time.Weekday{time.Monday},
		Start: evening, End: night}); err != nil {
		t.Fatal(err)
	}
	id := r.text(t, "+14155550101", "is anyone there")
	r.text(t, "+14155550101", "hello?")
	_, msgs, outbox := thread(t, r.svc, id)
	if got, want := fmt.Sprint(directions(msgs)), "[inbound outbound:welcome system outbound:after_hours system inbound]"; got != want {
		t.Errorf("thread = %s, want %s (the after-hours text once, and a note of the page)", got, want)
	}
	if len(outbox) != 2 {
		t.Errorf("texts to the texter = %d, want welcome and after-hours", len(outbox))
	}
	if got := r.pagesTo(t)[boss.Phone]; len(got) != 1 || got[0] != "hotline: 1 texter waiting, nobody on call" {
		t.Errorf("pages to the coordinator = %q", got)
	}
	if n := r.route(t); n != 0 {
		t.Errorf("offers after hours = %d, want 0", n)
	}
	// Monday 18:00: ana's shift starts, and the texter, still queued, is offered to her.
	r.clock.Advance(33 * time.Hour)
	r.route(t)
	if got := r.conv(t, id); got.AssigneeID != ana.ID || !got.Offered() {
		t.Errorf("at the start of the shift the conversation is %s with %v, want offered to ana", got.State, got.AssigneeID)
	}
	rep, err := r.roster.OnCall(ctx, operator, r.clock.Now())
	if err != nil || !rep.Staffed || len(rep.Responders) != 1 || rep.Responders[0].User.ID != ana.ID || !rep.Responders[0].OfferPending {
		t.Errorf("OnCall = %v, %v; want ana, with an offer pending", rep, err)
	}
}

func TestRosterClosureAndOverrides(t *testing.T) {
	r := newRouting(t)
	ctx := context.Background()
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	bo := r.person(t, "bo", hotline.RoleResponder, true)
	resp := hotline.Caller{User: ana}
	// Responders read; only coordinators write.
	if _, err := r.roster.CreateClosure(ctx, resp, hotline.Closure{Start: t0, End: t0.Add(time.Hour)}); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder creating a closure = %v, want EFORBIDDEN", err)
	}
	cover, err := r.roster.CreateOverride(ctx, operator, hotline.Override{ResponderID: bo.ID, Kind: hotline.OverrideCover, Start: t0, End: t0.Add(8 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := r.roster.OnCall(ctx, resp, t0.Add(time.Hour))
	if len(rep.Responders) != 1 || rep.Responders[0].User.ID != bo.ID || !rep.ScheduleSet {
		t.Errorf("on call with a cover override = %v, want only bo", rep)
	}
	if _, err := r.roster.CreateClosure(ctx, operator, hotline.Closure{Start: t0, End: t0.Add(2 * time.Hour), Reason: "holiday"}); err != nil {
		t.Fatal(err)
	}
	rep, _ = r.roster.OnCall(ctx, resp, t0.Add(time.Hour))
	if rep.Staffed || rep.Closure == nil || len(rep.Responders) != 0 {
		t.Errorf("during a closure: %v (closure %v), want nobody", rep, rep.Closure)
	}
	if err := r.roster.DeleteOverride(ctx, operator, cover.ID); err != nil {
		t.Fatal(err)
	}
	entries, err := r.accounts.AuditLog(ctx, operator, hotline.ID{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, string(e.Action))
	}
	for _, want := range []string{"override_create", "closure_create", "override_delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log %v lacks %s", actions, want)
		}
	}
	if _, err := r.roster.CreateRotation(ctx, operator, hotline.Rotation{ResponderID: hotline.NewID(t0), Weekdays: []time.Weekday{1}}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("a rotation for nobody = %v, want EINVALID", err)
	}
}

// TestOfferTimerSurvivesARestart: an offer made before a restart lapses after it,
// once, because its deadline lives in the store.
func TestOfferTimerSurvivesARestart(t *testing.T) {
	r := newRouting(t)
	ana := r.person(t, "ana", hotline.RoleResponder, true)
	id := r.text(t, "+14155550101", "hello")
	r.route(t)
	if got := r.conv(t, id); got.AssigneeID != ana.ID {
		t.Fatalf("not offered to ana")
	}
	r.clock.Advance(hotline.DefaultOfferTimeout + time.Second)
	restarted := hotline.NewService(r.svc.Store(), r.clock, nil, hotline.DefaultPolicy())
	if n, err := restarted.FireDueTimers(context.Background()); err != nil || n != 1 {
		t.Fatalf("FireDueTimers after the restart = %d, %v; want 1", n, err)
	}
	if n, _ := restarted.FireDueTimers(context.Background()); n != 0 {
		t.Errorf("FireDueTimers again = %d, want 0", n)
	}
	if got := r.conv(t, id); got.State != hotline.StateWaiting || !slices.Contains(got.Passed, ana.ID) {
		t.Errorf("after the restart the offer is %s (passed %v), want lapsed", got.State, got.Passed)
	}
}

// TestRunTimersWakesAtAnOffersDeadline runs the real scheduler on the system clock
// with a long maximum sleep: a new offer's deadline wakes it, so the offer lapses
// on time rather than at the next poll.
func TestRunTimersWakesAtAnOffersDeadline(t *testing.T) {
	st := storetest.MustOpen(t)
	p := hotline.DefaultPolicy()
	p.Routing.OfferTimeout = 200 * time.Millisecond
	svc := hotline.NewService(st, nil, nil, p)
	accounts := hotline.NewAccounts(hotline.AccountsDeps{Store: st, Passwords: &plainHasher{}, Tokens: auth.Tokens{}}, hotline.AccountsOptions{})
	ana, err := accounts.CreateUser(context.Background(), operator, hotline.NewUser{Username: "ana", Password: password, Role: hotline.RoleResponder,
		Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.SetAvailability(context.Background(), hotline.Caller{User: ana}, hotline.AvailabilityAvailable); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); svc.RunTimers(ctx, time.Hour, func(err error) { t.Error(err) }) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // RunTimers is asleep, with nothing due
	res, err := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550101", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := hotline.NewRouter(svc, hotline.RouterOptions{}).Route(ctx); err != nil || n != 1 {
		t.Fatalf("Route = %d, %v; want one offer", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, _ := thread(t, svc, res.ConversationID)
		if c.State == hotline.StateWaiting && slices.Contains(c.Passed, ana.ID) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the offer did not lapse within 5s (state %s): RunTimers did not wake at its deadline", c.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
