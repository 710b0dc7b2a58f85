package console_test

import (
	"context"
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

// newListsServer is a console with editable dispositions and tags (configured:
// Support given, Referred; tag minor) and retention.
func newListsServer(t *testing.T) *server {
	t.Helper()
	st := storetest.MustOpen(t)
	s := &server{clock: &testClock{now: t0}}
	s.svc = hotline.NewService(st, s.clock, nil, hotline.DefaultPolicy())
	s.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: s.clock,
		Passwords: auth.NewArgon2id(auth.Params{Memory: 64, Time: 1}), Codes: s.codes, Tokens: auth.Tokens{}}, hotline.AccountsOptions{})
	configured := hotline.CloseLists{Dispositions: []string{"Support given", "Referred"}, Tags: []string{"minor"}}
	lists := hotline.NewCloseListSettings(s.svc, configured)
	if err := lists.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	deps := console.Deps{Accounts: s.accounts, Access: hotline.NewAccess(s.svc, 24*time.Hour),
		Settings: console.Settings{Dispositions: configured.Dispositions, Tags: configured.Tags, MaxSegments: 10, Assignment: "pull"},
		Tools:    console.Tools{Store: st, Retention: hotline.NewRetention(s.svc, 30), CloseLists: lists}}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	e.Use(console.Guard(deps, console.PublicRoutes))
	console.Register(e, deps)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

type closeListsAnswer struct {
	Dispositions []string `json:"dispositions"`
	Tags         []string `json:"tags"`
	Edited       bool     `json:"edited"`
	Configured   struct {
		Dispositions []string `json:"dispositions"`
		Tags         []string `json:"tags"`
	} `json:"configured"`
}

// TestCloseListsAPI: coordinators read, replace and reset the dispositions and
// tags; responders may not; the new lists are what GET /api/v1/settings offers and
// what closing accepts at once; every change is audited.
func TestCloseListsAPI(t *testing.T) {
	s := newListsServer(t)
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	admin, ana := s.login(t, "admin"), s.login(t, "ana")

	want(t, "a responder reading", ana.send(t, "GET", "/api/v1/settings/dispositions", nil), 403, hotline.EFORBIDDEN)
	want(t, "a responder editing", ana.send(t, "PUT", "/api/v1/settings/dispositions", map[string]any{"dispositions": []string{"x"}}), 403, hotline.EFORBIDDEN)
	want(t, "a responder resetting", ana.send(t, "DELETE", "/api/v1/settings/dispositions", nil), 403, hotline.EFORBIDDEN)

	var got closeListsAnswer
	if status := admin.call(t, "GET", "/api/v1/settings/dispositions", nil, &got); status != 200 {
		t.Fatalf("GET = %d", status)
	}
	if got.Edited || !slices.Equal(got.Dispositions, []string{"Support given", "Referred"}) || !slices.Equal(got.Configured.Tags, []string{"minor"}) {
		t.Errorf("at start = %+v, want the configured lists, not edited", got)
	}

	r := admin.send(t, "PUT", "/api/v1/settings/dispositions", map[string]any{"dispositions": []string{"Referred", "referred"}, "tags": []string{}})
	want(t, "a repeated disposition", r, 400, hotline.EINVALID)
	if !strings.Contains(r.errorMessage(), "dispositions[1]") {
		t.Errorf("message = %q, want it to name the entry", r.errorMessage())
	}
	want(t, "no disposition", admin.send(t, "PUT", "/api/v1/settings/dispositions", map[string]any{"dispositions": []string{}, "tags": []string{}}), 400, hotline.EINVALID)
	want(t, "an unknown field", admin.send(t, "PUT", "/api/v1/settings/dispositions", map[string]any{"outcomes": []string{"x"}}), 400, hotline.EINVALID)

	if status := admin.call(t, "PUT", "/api/v1/settings/dispositions",
		map[string]any{"dispositions": []string{"Support given", "Safety plan made"}, "tags": []string{"minor", "housing"}}, &got); status != 200 {
		t.Fatalf("PUT = %d", status)
	}
	if !got.Edited || !slices.Equal(got.Dispositions, []string{"Support given", "Safety plan made"}) || !slices.Equal(got.Tags, []string{"minor", "housing"}) {
		t.Errorf("after PUT = %+v", got)
	}
	var settings struct {
		Dispositions []string `json:"dispositions"`
		Tags         []string `json:"tags"`
	}
	ana.call(t, "GET", "/api/v1/settings", nil, &settings)
	if !slices.Equal(settings.Dispositions, got.Dispositions) || !slices.Equal(settings.Tags, got.Tags) {
		t.Errorf("GET /api/v1/settings offers %+v, want the edited lists", settings)
	}

	conv := s.text(t, "+14155550141", "hello")
	want(t, "ana accepts", ana.send(t, "POST", "/api/v1/conversations/"+conv+"/accept", nil), 200, "")
	want(t, "closing with a removed disposition", ana.send(t, "POST", "/api/v1/conversations/"+conv+"/close",
		map[string]any{"disposition": "Referred", "tags": []string{}}), 400, hotline.EINVALID)
	want(t, "closing with a new disposition", ana.send(t, "POST", "/api/v1/conversations/"+conv+"/close",
		map[string]any{"disposition": "Safety plan made", "tags": []string{"housing"}}), 200, "")

	if status := admin.call(t, "DELETE", "/api/v1/settings/dispositions", nil, &got); status != 200 {
		t.Fatalf("DELETE = %d", status)
	}
	if got.Edited || !slices.Equal(got.Dispositions, []string{"Support given", "Referred"}) {
		t.Errorf("after DELETE = %+v, want the configured lists", got)
	}

	n := 0
	for _, e := range auditActions(t, s) {
		if e.Action == hotline.AuditCloseListsUpdate {
			n++
			if e.ActorUsername != "admin" {
				t.Errorf("audit entry by %q, want admin", e.ActorUsername)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d close_lists_update audit entries, want 2 (the edit and the reset)", n)
	}
}

// TestHoldsAPI: GET /api/v1/holds lists the conversations under a legal hold to
// coordinators, following holds placed and released; responders get 403.
func TestHoldsAPI(t *testing.T) {
	s := newListsServer(t)
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	admin, ana := s.login(t, "admin"), s.login(t, "ana")
	first := s.text(t, "+14155550151", "hello")
	second := s.text(t, "+14155550152", "hello")

	want(t, "a responder listing holds", ana.send(t, "GET", "/api/v1/holds", nil), 403, hotline.EFORBIDDEN)
	var out struct {
		Holds []struct {
			ID, Handle, State string
			ClosedAt          *time.Time `json:"closed_at"`
		} `json:"holds"`
	}
	admin.call(t, "GET", "/api/v1/holds", nil, &out)
	if out.Holds == nil || len(out.Holds) != 0 {
		t.Errorf("holds at start = %+v, want an empty list", out.Holds)
	}
	for _, id := range []string{second, first} {
		want(t, "placing a hold", admin.send(t, "POST", "/api/v1/conversations/"+id+"/hold", map[string]string{"reason": "case 17"}), 200, "")
	}
	admin.call(t, "GET", "/api/v1/holds", nil, &out)
	if len(out.Holds) != 2 || out.Holds[0].ID != first || out.Holds[1].ID != second || out.Holds[0].Handle == "" || out.Holds[0].State != "waiting" {
		t.Errorf("holds = %+v, want both, oldest first, with handle and state", out.Holds)
	}
	want(t, "releasing a hold", admin.send(t, "DELETE", "/api/v1/conversations/"+first+"/hold", nil), 200, "")
	admin.call(t, "GET", "/api/v1/holds", nil, &out)
	if len(out.Holds) != 1 || out.Holds[0].ID != second {
		t.Errorf("holds after a release = %+v, want only %s", out.Holds, second)
	}
}
