package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/auth"
	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/httpx"
	"github.com/hotlinehq/hotline/store/storetest"
)

// liveServer is the console with live events, canned responses, settings and the
// web pages.
type liveServer struct {
	*server
	hub *console.Hub
}

func newLiveServer(t *testing.T, ringSize int, settings console.Settings) *liveServer {
	t.Helper()
	st := storetest.MustOpen(t)
	s := &server{clock: &testClock{now: t0}}
	var hub *console.Hub
	s.svc = hotline.NewService(st, s.clock, hotline.NotifierFunc(func(ch ...hotline.Change) { hub.Publish(ch...) }), hotline.DefaultPolicy())
	access := hotline.NewAccess(s.svc, 24*time.Hour)
	hub = console.NewHub(access, ringSize)
	hub.SetHeartbeat(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	go hub.Run(ctx)
	s.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: s.clock,
		Passwords: auth.NewArgon2id(auth.Params{Memory: 64, Time: 1}), Codes: s.codes, Tokens: auth.Tokens{},
		Limiter: auth.NewThrottle(auth.ThrottleOptions{})}, hotline.AccountsOptions{})
	deps := console.Deps{Accounts: s.accounts, Access: access, Events: hub, Settings: settings,
		Canned: hotline.NewCannedResponses(st, s.clock)}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	e.Use(console.Guard(deps, append(console.UIRoutes(), console.PublicRoutes...)))
	console.Register(e, deps)
	console.RegisterUI(e, deps)
	ts := httptest.NewUnstartedServer(e)
	ts.Config.RegisterOnShutdown(hub.Close)
	ts.Start()
	t.Cleanup(func() { hub.Close(); ts.Close(); cancel() })
	s.url = ts.URL
	return &liveServer{server: s, hub: hub}
}

// numbered waits until the hub has numbered its event seq.
func (s *liveServer) numbered(t *testing.T, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.hub.Seq() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("the hub numbered %d events, want %d", s.hub.Seq(), seq)
		}
		time.Sleep(time.Millisecond)
	}
}

// sse is one event of a stream.
type sse struct {
	name, id string
	data     string
}

// eventStream reads a live event stream in the background.
type eventStream struct {
	t      *testing.T
	events chan sse
	cancel context.CancelFunc
	done   chan struct{}
}

// openEvents opens GET /api/v1/events as the client, with a Last-Event-ID when
// lastID is not empty.
func (c *client) openEvents(t *testing.T, lastID string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.s.url+"/api/v1/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("GET /api/v1/events = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &eventStream{t: t, events: make(chan sse, 1000), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *eventStream) close() {
	s.cancel()
	<-s.done
}

// next returns the next event that is not a ping, failing after a while.
func (s *eventStream) next() sse {
	s.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("the stream ended")
			}
			if ev.name != console.EventPing {
				return ev
			}
		case <-timeout:
			s.t.Fatal("no event within 5s")
		}
	}
}

// expect returns the next event, which must be named name.
func (s *eventStream) expect(name string) sse {
	s.t.Helper()
	ev := s.next()
	if ev.name != name {
		s.t.Fatalf("event %s %s, want %s", ev.name, ev.data, name)
	}
	return ev
}

// expectAll reads events until it has seen each name, in any order, and returns the
// first of each; an event not named fails the test.
func (s *eventStream) expectAll(names ...string) map[string]sse {
	s.t.Helper()
	got := map[string]sse{}
	for len(got) < len(names) {
		ev := s.next()
		if !slices.Contains(names, ev.name) {
			s.t.Fatalf("event %s %s, want one of %v", ev.name, ev.data, names)
		}
		if _, seen := got[ev.name]; !seen {
			got[ev.name] = ev
		}
	}
	return got
}

// quiet checks that no event but pings comes for a while, and returns the id of
// the last ping.
func (s *eventStream) quiet(d time.Duration) string {
	s.t.Helper()
	timeout := time.After(d)
	last := ""
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("the stream ended")
			}
			if ev.name != console.EventPing {
				s.t.Fatalf("unexpected event %s %s", ev.name, ev.data)
			}
			last = ev.id
		case <-timeout:
			return last
		}
	}
}

func TestEvents_FilteredPerUserByTheAccessRules(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	s.addUser(t, "bo", hotline.RoleResponder)
	ana, bo, admin := s.login(t, "ana"), s.login(t, "bo"), s.login(t, "admin")
	anaEv, boEv, adminEv := ana.openEvents(t, ""), bo.openEvents(t, ""), admin.openEvents(t, "")
	for _, st := range []*eventStream{anaEv, boEv, adminEv} {
		if ev := st.expect(console.EventReady); ev.data != `{"resumed":false}` || ev.id == "" {
			t.Errorf("first event = %+v, want ready, not resumed, with an id", ev)
		}
	}

	conv := s.text(t, "+14155550101", "they took my passport <b>help</b>")
	for _, st := range []*eventStream{anaEv, boEv} {
		ev := st.expect(console.EventConversation)
		if !strings.Contains(ev.data, conv) || !strings.Contains(ev.data, `"view":"queue"`) || strings.Contains(ev.data, "help") {
			t.Errorf("a responder's event for a new text = %s, want the queue view without the body", ev.data)
		}
		if strings.Contains(ev.data, "+1415") {
			t.Errorf("an event shows the number: %s", ev.data)
		}
	}
	// The coordinator may read every thread, but reading one is audited: until they
	// open it, their stream carries the conversation and not its messages.
	if ev := adminEv.expect(console.EventConversation); !strings.Contains(ev.data, `"view":"thread"`) || strings.Contains(ev.data, "help") {
		t.Errorf("the coordinator's event for a new text = %s, want the summary only", ev.data)
	}
	adminEv.quiet(150 * time.Millisecond)

	want(t, "ana accepts", ana.send(t, "POST", "/api/v1/conversations/"+conv+"/accept", nil), 200, "")
	if ev := anaEv.expect(console.EventConversation); !strings.Contains(ev.data, `"view":"thread"`) {
		t.Errorf("ana's event after accepting = %s, want the thread view", ev.data)
	}
	if ev := boEv.expect(console.EventRemoved); ev.data != `{"conversation_id":"`+conv+`"}` {
		t.Errorf("bo's event after ana accepted = %s, want it removed", ev.data)
	}

	s.text(t, "+14155550101", "are you there?")
	ev := anaEv.expectAll(console.EventConversation, console.EventMessage)[console.EventMessage]
	var m struct {
		ConversationID string `json:"conversation_id"`
		Message        struct{ Body, Direction string }
	}
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil || m.ConversationID != conv || m.Message.Body != "are you there?" || m.Message.Direction != "inbound" {
		t.Errorf("ana's message event = %s (%v)", ev.data, err)
	}
	// Bo no longer sees it at all: nothing about the new text reaches him.
	boEv.quiet(200 * time.Millisecond)
	// The coordinator got the summary of the new text; once they open the thread
	// (audited), its messages follow.
	adminEv.expect(console.EventConversation)
	want(t, "the coordinator opens the thread", admin.send(t, "GET", "/api/v1/conversations/"+conv, nil), 200, "")
	s.text(t, "+14155550101", "still here")
	if ev := adminEv.expectAll(console.EventConversation, console.EventMessage)[console.EventMessage]; !strings.Contains(ev.data, "still here") {
		t.Errorf("the coordinator's message event after opening = %s", ev.data)
	}
	anaEv.expectAll(console.EventConversation, console.EventMessage)

	// Ana replies: the reply, then its delivery statuses as they move.
	r := ana.send(t, "POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"body": "I am here."})
	want(t, "ana replies", r, 201, "")
	var reply struct{ Message struct{ ID string } }
	_ = json.Unmarshal(r.body, &reply)
	if err := s.svc.RecordStatus(context.Background(), hotline.StatusUpdate{SID: "SMnone", Status: hotline.StatusDelivered}); err != nil {
		t.Log(err) // no such SID: nothing changes, nothing is published
	}
	if ev := anaEv.expectAll(console.EventConversation, console.EventMessage)[console.EventMessage]; !strings.Contains(ev.data, reply.Message.ID) || !strings.Contains(ev.data, `"status":"queued"`) {
		t.Errorf("ana's event for her reply = %s", ev.data)
	}
}

func TestEvents_ReplayAfterReconnectAndResetWhenTooOld(t *testing.T) {
	s := newLiveServer(t, 8, console.Settings{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	admin := s.login(t, "admin")
	st := admin.openEvents(t, "")
	ready := st.expect(console.EventReady)
	conv := s.text(t, "+14155550101", "hello")
	st.expect(console.EventConversation)
	want(t, "the coordinator opens the thread", admin.send(t, "GET", "/api/v1/conversations/"+conv, nil), 200, "")
	s.text(t, "+14155550101", "first")
	// The text and the conversation.
	var last string
	for range 2 {
		last = st.next().id
	}
	st.close()

	// Missed while away: one text. Reconnecting with the last id replays it (once the
	// hub has numbered its two events: a text published meanwhile would come live).
	seq := s.hub.Seq()
	s.text(t, "+14155550101", "while you were away")
	s.numbered(t, seq+2)
	st = admin.openEvents(t, last)
	if ev := st.expectAll(console.EventConversation, console.EventMessage)[console.EventMessage]; !strings.Contains(ev.data, "while you were away") {
		t.Errorf("replayed %s, want the missed text", ev.data)
	}
	if ev := st.expect(console.EventReady); ev.data != `{"resumed":true}` {
		t.Errorf("after the replay: %+v, want ready, resumed", ev)
	}
	st.close()

	// The ring keeps 8 to 16 events: an id from before 20 more events is too old,
	// and the client is told to reload instead of silently missing texts.
	seq = s.hub.Seq()
	for i := range 10 {
		s.text(t, "+14155550101", "more "+strings.Repeat("!", i))
	}
	s.numbered(t, seq+20)
	st = admin.openEvents(t, ready.id)
	if ev := st.expect(console.EventReset); !strings.Contains(ev.data, "reload") {
		t.Errorf("reset = %s", ev.data)
	}
	st.expect(console.EventReady)
	st.close()

	// An id from another run of the server (another epoch) resets too.
	st = admin.openEvents(t, "0abc-3")
	st.expect(console.EventReset)
	st.close()
}

func TestEvents_HeartbeatsCarryTheIDAndTheStreamEndsWithTheSession(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	s.addUser(t, "ana", hotline.RoleResponder)
	ana := s.login(t, "ana")
	st := ana.openEvents(t, "")
	ready := st.expect(console.EventReady)
	if id := st.quiet(200 * time.Millisecond); id != ready.id {
		t.Errorf("ping id = %q, want the stream's position %q", id, ready.id)
	}
	want(t, "ana signs out", ana.send(t, "POST", "/api/v1/logout", nil), 200, "")
	st.expect(console.EventSignedOut)
}

func TestEvents_CloseEndsStreams(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	s.addUser(t, "ana", hotline.RoleResponder)
	st := s.login(t, "ana").openEvents(t, "")
	st.expect(console.EventReady)
	s.hub.Close()
	select {
	case <-st.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end when the hub closed")
	}
}

func TestEvents_NeedASession(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	want(t, "events without a session", s.client().send(t, "GET", "/api/v1/events", nil), 401, hotline.EUNAUTHORIZED)
}

func TestEvents_UsersAndSchedulesReachEveryone(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	ana := s.addUser(t, "ana", hotline.RoleResponder)
	st := s.login(t, "ana").openEvents(t, "")
	st.expect(console.EventReady)
	s.hub.Publish(hotline.Change{Kind: hotline.ChangeUser, UserID: ana.ID}, hotline.Change{Kind: hotline.ChangeSchedule})
	if ev := st.expect(console.EventUser); ev.data != `{"user_id":"`+ana.ID.String()+`"}` {
		t.Errorf("user event = %s", ev.data)
	}
	st.expect(console.EventSchedule)
}
