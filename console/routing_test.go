package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// routingServer is the console with routing: a router and the roster, over the
// policy mods make of the default one.
type routingServer struct {
	*server
	router *hotline.Router
	roster *hotline.Roster
}

func newRoutingServer(t *testing.T, mods ...func(*hotline.Policy)) *routingServer {
	t.Helper()
	st := storetest.MustOpen(t)
	p := hotline.DefaultPolicy()
	for _, m := range mods {
		m(&p)
	}
	s := &server{clock: &testClock{now: t0}}
	s.svc = hotline.NewService(st, s.clock, nil, p)
	s.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: s.clock,
		Passwords: auth.NewArgon2id(auth.Params{Memory: 64, Time: 1}), Codes: s.codes, Tokens: auth.Tokens{}}, hotline.AccountsOptions{})
	rs := &routingServer{server: s, router: hotline.NewRouter(s.svc, hotline.RouterOptions{}), roster: hotline.NewRoster(s.svc)}
	s.accounts.SetRouter(rs.router)
	deps := console.Deps{Accounts: s.accounts, Access: hotline.NewAccess(s.svc, 24*time.Hour), Router: rs.router, Roster: rs.roster}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	e.Use(console.Guard(deps, console.PublicRoutes))
	console.Register(e, deps)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return rs
}

// available signs a user in and marks them available.
func (s *routingServer) available(t *testing.T, username string) *client {
	t.Helper()
	c := s.login(t, username)
	want(t, username+" goes available", c.send(t, "PUT", "/api/v1/me/availability", map[string]string{"status": "available"}), 200, "")
	return c
}

// TestAcceptRace has two responders accept the same conversation at the same
// moment, over HTTP, many times: each time exactly one gets it (200) and the other
// a 409 that says someone else has it.
func TestAcceptRace(t *testing.T) {
	s := newRoutingServer(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull })
	s.addUser(t, "ana", hotline.RoleResponder)
	s.addUser(t, "bo", hotline.RoleResponder)
	ana, bo := s.available(t, "ana"), s.available(t, "bo")
	for round := range 20 {
		id := s.text(t, fmt.Sprintf("+1415555%04d", round), "hello")
		path := "/api/v1/conversations/" + id + "/accept"
		start := make(chan struct{})
		answers := make([]response, 2)
		var wg sync.WaitGroup
		for i, c := range []*client{ana, bo} {
			wg.Go(func() {
				<-start
				answers[i] = c.send(t, "POST", path, nil)
			})
		}
		close(start)
		wg.Wait()
		ok, conflict := 0, 0
		for _, r := range answers {
			switch {
			case r.status == 200:
				ok++
			case r.status == 409 && r.errorCode() == hotline.ECONFLICT && strings.Contains(r.errorMessage(), "Another responder has already taken this conversation."):
				conflict++
			default:
				t.Errorf("round %d: accept = %d %s", round, r.status, r.body)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("round %d: %d accepted, %d refused; want exactly one of each", round, ok, conflict)
		}
	}
}

func TestTakeNextOverHTTP(t *testing.T) {
	s := newRoutingServer(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull })
	s.addUser(t, "ana", hotline.RoleResponder)
	s.addUser(t, "bo", hotline.RoleResponder)
	ana := s.available(t, "ana")
	bo := s.login(t, "bo")

	r := ana.send(t, "POST", "/api/v1/queue/next", nil)
	want(t, "take next with an empty queue", r, 404, hotline.ENOTFOUND)
	if !strings.Contains(r.errorMessage(), "Nobody is waiting") {
		t.Errorf("message = %q", r.errorMessage())
	}
	first := s.text(t, "+14155550101", "hello")
	s.clock.Advance(time.Second)
	urgent := s.text(t, "+14155550102", "he took my passport")

	r = bo.send(t, "POST", "/api/v1/queue/next", nil)
	want(t, "take next while offline", r, 409, hotline.ECONFLICT)
	if !strings.Contains(r.errorMessage(), "set yourself available") {
		t.Errorf("message = %q", r.errorMessage())
	}
	var got struct {
		Conversation struct {
			ID, State  string
			AssigneeID string `json:"assignee_id"`
			View       string
		}
	}
	if status := ana.call(t, "POST", "/api/v1/queue/next", nil, &got); status != 200 || got.Conversation.ID != urgent {
		t.Fatalf("ana's take next = %d %+v, want the urgent conversation %s", status, got, urgent)
	}
	if got.Conversation.State != "assigned" || got.Conversation.View != "thread" {
		t.Errorf("taken conversation = %+v, want assigned and readable", got.Conversation)
	}
	// Going away hands the unanswered conversation back to the queue, in its place.
	want(t, "ana goes away", ana.send(t, "PUT", "/api/v1/me/availability", map[string]string{"status": "away"}), 200, "")
	var list struct{ Conversations []struct{ ID, State string } }
	ana.call(t, "GET", "/api/v1/conversations?state=waiting", nil, &list)
	if len(list.Conversations) != 2 {
		t.Errorf("waiting after ana went away = %+v, want both (%s, %s)", list.Conversations, first, urgent)
	}
}

func TestTransferToANamedResponder(t *testing.T) {
	s := newRoutingServer(t, func(p *hotline.Policy) { p.Routing.Mode = hotline.RoutingPull })
	s.addUser(t, "ana", hotline.RoleResponder)
	bo := s.addUser(t, "bo", hotline.RoleResponder)
	ana := s.available(t, "ana")
	id := s.text(t, "+14155550101", "hello")
	want(t, "accept", ana.send(t, "POST", "/api/v1/conversations/"+id+"/accept", nil), 200, "")
	path := "/api/v1/conversations/" + id + "/transfer"
	r := ana.send(t, "POST", path, map[string]any{"to": bo.ID.String(), "note": "she asked for bo"})
	want(t, "a transfer to someone offline", r, 409, hotline.ECONFLICT)
	if !strings.Contains(r.errorMessage(), "bo is offline") {
		t.Errorf("message = %q", r.errorMessage())
	}
	boc := s.available(t, "bo")
	want(t, "a transfer to someone available", ana.send(t, "POST", path, map[string]any{"to": bo.ID.String(), "note": "she asked for bo"}), 200, "")
	var got struct {
		Conversation struct {
			State      string
			AssigneeID string `json:"assignee_id"`
		}
		Messages []struct{ Direction, Body string }
	}
	if status := boc.call(t, "GET", "/api/v1/conversations/"+id, nil, &got); status != 200 || got.Conversation.AssigneeID != bo.ID.String() {
		t.Fatalf("bo reads the transferred conversation: %d %+v", status, got.Conversation)
	}
	if n := len(got.Messages); n == 0 || got.Messages[n-1].Body != "she asked for bo" {
		t.Errorf("the transfer note is not the thread's last message: %+v", got.Messages)
	}
}

func TestShiftsAndOnCallAcrossMidnightAndDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	s := newRoutingServer(t, func(p *hotline.Policy) { p.Routing.Location = ny })
	s.addUser(t, "admin", hotline.RoleCoordinator)
	evening := s.addUser(t, "eve", hotline.RoleResponder)
	night := s.addUser(t, "nick", hotline.RoleResponder)
	cover := s.addUser(t, "cora", hotline.RoleResponder)
	admin := s.login(t, "admin")
	resp := s.login(t, "eve")

	rotation := map[string]any{"responder_id": evening.ID.String(), "weekdays": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
		"start": "18:00", "end": "02:00"}
	want(t, "a responder writing the schedule", resp.send(t, "POST", "/api/v1/shifts/rotations", rotation), 403, hotline.EFORBIDDEN)
	var created struct{ Rotation struct{ ID string } }
	if status := admin.call(t, "POST", "/api/v1/shifts/rotations", rotation, &created); status != 201 {
		t.Fatalf("create rotation = %d", status)
	}
	nightRot := map[string]any{"responder_id": night.ID.String(), "weekdays": []string{"Monday", "tue", "wed", "thu", "fri", "sat", "sun"},
		"start": "02:00", "end": "10:00", "from": "2026-01-01"}
	want(t, "create the night rotation", admin.send(t, "POST", "/api/v1/shifts/rotations", nightRot), 201, "")
	want(t, "a rotation with a bad weekday", admin.send(t, "POST", "/api/v1/shifts/rotations", map[string]any{
		"responder_id": night.ID.String(), "weekdays": []string{"funday"}, "start": "02:00", "end": "10:00"}), 400, hotline.EINVALID)
	want(t, "a rotation with a bad time", admin.send(t, "POST", "/api/v1/shifts/rotations", map[string]any{
		"responder_id": night.ID.String(), "weekdays": []string{"mon"}, "start": "25:00", "end": "10:00"}), 400, hotline.EINVALID)

	onCall := func(at string) []string {
		t.Helper()
		var rep struct {
			Staffed    bool
			Responders []struct{ Username string }
		}
		if status := resp.call(t, "GET", "/api/v1/oncall?at="+at, nil, &rep); status != 200 {
			t.Fatalf("GET oncall at %s = %d", at, status)
		}
		var names []string
		for _, r := range rep.Responders {
			names = append(names, r.Username)
		}
		if rep.Staffed != (len(names) > 0) {
			t.Errorf("at %s: staffed %v with %v on call", at, rep.Staffed, names)
		}
		return names
	}
	for _, tt := range []struct {
		at   string
		want string
	}{
		{"2026-06-02T23:30:00-04:00", "eve"},  // before midnight
		{"2026-06-03T01:59:00-04:00", "eve"},  // after midnight, the same shift
		{"2026-06-03T02:00:00-04:00", "nick"}, // the next shift starts exactly as the first ends
		{"2026-06-03T12:00:00-04:00", ""},     // nobody between 10:00 and 18:00
		{"2026-03-08T01:59:00-05:00", "eve"},  // spring forward: just before 02:00 EST jumps to 03:00 EDT
		{"2026-03-08T03:00:00-04:00", "nick"}, // and just after: no hour dropped
		{"2026-11-01T01:30:00-04:00", "eve"},  // fall back: the first 01:30
		{"2026-11-01T01:30:00-05:00", "eve"},  // and the second: the evening shift is an hour longer
		{"2026-11-01T02:00:00-05:00", "nick"}, // the night shift starts at 02:00 EST, not doubled
		{"2025-12-31T03:00:00-05:00", ""},     // before the night rotation's from
		{"2026-06-02T18:00:00-04:00", "eve"},  // the evening shift's first minute
		{"2026-06-02T17:59:59-04:00", ""},     // and just before
		{"2026-06-03T09:59:59-04:00", "nick"}, // the night shift's last second
		{"2026-06-03T10:00:00-04:00", ""},     // and its end
	} {
		if got := strings.Join(onCall(tt.at), ","); got != tt.want {
			t.Errorf("on call at %s = %q, want %q", tt.at, got, tt.want)
		}
	}

	// A one-off shift (DESIGN's simple shape) is a cover override; "off" takes
	// someone out; a closure takes everyone out.
	var shift struct {
		Shift struct{ ID, Kind string }
	}
	if status := admin.call(t, "POST", "/api/v1/shifts", map[string]string{"responder_id": cover.ID.String(),
		"start": "2026-06-03T12:00:00-04:00", "end": "2026-06-03T16:00:00-04:00"}, &shift); status != 201 || shift.Shift.Kind != "cover" {
		t.Fatalf("POST /api/v1/shifts = %d %+v, want a cover override", status, shift)
	}
	want(t, "an override off", admin.send(t, "POST", "/api/v1/shifts/overrides", map[string]string{"responder_id": evening.ID.String(),
		"kind": "off", "start": "2026-06-03T18:00:00-04:00", "end": "2026-06-04T02:00:00-04:00", "note": "sick"}), 201, "")
	want(t, "an override that ends before it starts", admin.send(t, "POST", "/api/v1/shifts/overrides", map[string]string{"responder_id": evening.ID.String(),
		"kind": "cover", "start": "2026-06-03T18:00:00-04:00", "end": "2026-06-03T17:00:00-04:00"}), 400, hotline.EINVALID)
	want(t, "a closure", admin.send(t, "POST", "/api/v1/shifts/closures", map[string]string{
		"start": "2026-12-25T00:00:00-05:00", "end": "2026-12-26T00:00:00-05:00", "reason": "holiday"}), 201, "")
	for _, tt := range []struct{ at, want string }{
		{"2026-06-03T13:00:00-04:00", "cora"},
		{"2026-06-03T19:00:00-04:00", ""},
		{"2026-06-04T19:00:00-04:00", "eve"},
		{"2026-12-25T20:00:00-05:00", ""},
	} {
		if got := strings.Join(onCall(tt.at), ","); got != tt.want {
			t.Errorf("on call at %s = %q, want %q", tt.at, got, tt.want)
		}
	}
	var shifts struct {
		Timezone  string
		Rotations []struct{ ID string }
		Overrides []struct{ Kind string }
		Closures  []struct{ Reason string }
	}
	if status := resp.call(t, "GET", "/api/v1/shifts", nil, &shifts); status != 200 || shifts.Timezone != "America/New_York" ||
		len(shifts.Rotations) != 2 || len(shifts.Overrides) != 2 || len(shifts.Closures) != 1 {
		t.Errorf("GET /api/v1/shifts = %d %+v", status, shifts)
	}
	want(t, "delete a rotation", admin.send(t, "DELETE", "/api/v1/shifts/rotations/"+created.Rotation.ID, nil), 204, "")
	want(t, "delete it again", admin.send(t, "DELETE", "/api/v1/shifts/rotations/"+created.Rotation.ID, nil), 404, hotline.ENOTFOUND)

	var audit struct{ Entries []struct{ Action string } }
	admin.call(t, "GET", "/api/v1/audit?limit=20", nil, &audit)
	seen := map[string]int{}
	for _, e := range audit.Entries {
		seen[e.Action]++
	}
	if seen["rotation_create"] != 2 || seen["override_create"] != 2 || seen["closure_create"] != 1 || seen["rotation_delete"] != 1 {
		t.Errorf("audit = %v, want every schedule change", seen)
	}
}

func TestRespondersHidePhonesFromResponders(t *testing.T) {
	s := newRoutingServer(t)
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	s.addUser(t, "bo", hotline.RoleResponder)
	ana, admin := s.available(t, "ana"), s.login(t, "admin")
	s.text(t, "+14155550101", "hello")
	if _, err := s.router.Route(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := ana.send(t, "GET", "/api/v1/responders", nil)
	want(t, "ana lists the responders", r, 200, "")
	var list struct{ Responders []json.RawMessage }
	_ = json.Unmarshal(r.body, &list)
	if len(list.Responders) != 2 {
		t.Fatalf("responders = %s, want ana and bo (not the coordinator)", r.body)
	}
	for _, raw := range list.Responders {
		var v struct {
			Username  string
			Phone     *string
			OnCall    bool `json:"on_call"`
			Open      int  `json:"open_conversations"`
			Offer     bool `json:"offer_pending"`
			Languages []string
		}
		_ = json.Unmarshal(raw, &v)
		switch v.Username {
		case "ana":
			if v.Phone == nil || !v.OnCall || v.Open != 1 || !v.Offer {
				t.Errorf("ana sees herself as %s, want her phone, on call, one open conversation offered", raw)
			}
		case "bo":
			if v.Phone != nil || strings.Contains(string(raw), "+1415") {
				t.Errorf("ana sees bo's phone: %s", raw)
			}
		}
		wantKeys(t, "a responder", raw, "id", "display_name", "languages", "capacity", "availability", "on_call", "open_conversations")
	}
	r = admin.send(t, "GET", "/api/v1/responders", nil)
	if strings.Count(string(r.body), `"phone":"+1415`) != 2 {
		t.Errorf("the coordinator does not see both phones: %s", r.body)
	}
	var info struct {
		Mode                string
		OfferTimeoutSeconds int `json:"offer_timeout_seconds"`
	}
	if status := ana.call(t, "GET", "/api/v1/routing", nil, &info); status != 200 || info.Mode != "offer" || info.OfferTimeoutSeconds != 60 {
		t.Errorf("GET /api/v1/routing = %d %+v", status, info)
	}
	// The offer shows on the conversation, with its deadline.
	var convs struct {
		Conversations []struct {
			OfferExpiresAt *time.Time `json:"offer_expires_at"`
		}
	}
	ana.call(t, "GET", "/api/v1/conversations", nil, &convs)
	if len(convs.Conversations) != 1 || convs.Conversations[0].OfferExpiresAt == nil {
		t.Errorf("ana's conversations = %+v, want the offer with its deadline", convs)
	}
	want(t, "a responder reading pages", ana.send(t, "GET", "/api/v1/pages", nil), 403, hotline.EFORBIDDEN)
	want(t, "a coordinator reading pages", admin.send(t, "GET", "/api/v1/pages", nil), 200, "")
}

func TestRoutingRoutesWithoutRouting(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "ana", hotline.RoleResponder)
	ana := s.login(t, "ana")
	want(t, "take next on a server without routing", ana.send(t, "POST", "/api/v1/queue/next", nil), http.StatusServiceUnavailable, hotline.EUNAVAILABLE)
}
