package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/webhooks"
)

// The intruders tests attack the real server over HTTP. The routes they attack come
// from the server's own route table (the same wiring serve uses), so a route added
// later is attacked too without anyone remembering to list it.

const responderPassword = "a long responder passphrase"

// servedRoutes returns the routes serve mounts for the configuration in environ:
// the same wiring, built over a throwaway store.
func servedRoutes(t *testing.T, environ ...string) []console.Route {
	t.Helper()
	e := env{environ: append([]string{
		"HOTLINE_DATA_DIR=" + t.TempDir(), "HOTLINE_TWILIO__AUTH_TOKEN=" + testAuthToken,
	}, environ...)}
	cfg, err := loadConfig(e, "", "")
	if err != nil {
		t.Fatal(err)
	}
	a := buildApp(t, cfg)
	var out []console.Route
	for _, r := range a.echo.Routes() {
		if r.Method != echo.RouteNotFound {
			out = append(out, console.Route{Method: r.Method, Path: r.Path})
		}
	}
	slices.SortFunc(out, func(a, b console.Route) int { return strings.Compare(a.Path+a.Method, b.Path+b.Method) })
	return slices.Compact(out)
}

// isPublic reports whether r is on the allowlist of routes served without a session.
func isPublic(r console.Route, environ ...string) bool {
	e := env{environ: append([]string{"HOTLINE_TWILIO__AUTH_TOKEN=" + testAuthToken}, environ...)}
	cfg, _ := config.Load("", e.environ)
	return slices.Contains(publicRoutes(cfg), r)
}

// fill puts ids into a route's parameters.
func fill(path string, id func(param string) string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":"):
			segs[i] = id(s[1:])
		case s == "*":
			segs[i] = "x"
		}
	}
	return strings.Join(segs, "/")
}

// team is a served hotline with a coordinator and two responders, Ana and Bo. Ana has
// an active conversation (with a reply and a note) and a closed one.
type team struct {
	base                 string
	admin, ana, bo       *apiSession
	anaID, boID, adminID string
	active, closed       string
	secret               string // words only Ana's conversations hold
	texter               string
}

func newTeam(t *testing.T, environ ...string) *team {
	t.Helper()
	base, _, _ := startServe(t, t.TempDir(), append([]string{"HOTLINE_ROUTING__MODE=pull"}, environ...)...)
	tm := &team{base: base, secret: "the passport is in the red car", texter: "+14155550111"}
	tm.admin = newAPISession(t, base, "admin", "correct horse battery staple")
	var me struct{ User struct{ ID string } }
	tm.admin.mustCall("GET", "/api/v1/me", nil, &me)
	tm.adminID = me.User.ID
	for _, u := range []struct {
		name string
		id   *string
	}{{"ana", &tm.anaID}, {"bo", &tm.boID}} {
		var out struct{ User struct{ ID string } }
		tm.admin.mustCall("POST", "/api/v1/users", map[string]any{"username": u.name, "password": responderPassword, "role": "responder",
			"display_name": u.name, "languages": []string{"en"}, "capacity": 3}, &out)
		*u.id = out.User.ID
	}
	tm.ana = newAPISession(t, base, "ana", responderPassword)
	tm.bo = newAPISession(t, base, "bo", responderPassword)

	for i, conv := range []*string{&tm.active, &tm.closed} {
		from := fmt.Sprintf("+1415555%04d", 111+i)
		if status, body := postInbound(t, base, inboundParams(fmt.Sprintf("SM%032d", 7000+i), from, tm.secret)); status != http.StatusOK {
			t.Fatalf("inbound = %d %s", status, body)
		}
		var list struct{ Conversations []struct{ ID, State string } }
		tm.ana.mustCall("GET", "/api/v1/conversations", nil, &list)
		for _, c := range list.Conversations {
			if c.State == "waiting" {
				*conv = c.ID
			}
		}
		if *conv == "" {
			t.Fatalf("no waiting conversation for Ana to take: %+v", list)
		}
		tm.ana.mustCall("POST", "/api/v1/conversations/"+*conv+"/accept", nil, nil)
		tm.ana.mustCall("POST", "/api/v1/conversations/"+*conv+"/messages", map[string]string{"body": "I am here. " + tm.secret}, nil)
		tm.ana.mustCall("POST", "/api/v1/conversations/"+*conv+"/notes", map[string]string{"body": "note: " + tm.secret}, nil)
	}
	tm.ana.mustCall("POST", "/api/v1/conversations/"+tm.closed+"/close", map[string]any{"disposition": "Referred to services", "tags": []string{}}, nil)
	return tm
}

// bodies are plausible request bodies, so that a refusal comes from the access rules
// and not from validation.
func plausibleBody(method, path string, tm *team) any {
	switch {
	case method == http.MethodGet || method == http.MethodDelete:
		return nil
	case strings.HasSuffix(path, "/messages"), strings.HasSuffix(path, "/notes"):
		return map[string]string{"body": "hello from someone else"}
	case strings.HasSuffix(path, "/close"):
		return map[string]any{"disposition": "Referred to services", "tags": []string{}}
	case strings.HasSuffix(path, "/transfer"):
		return map[string]any{"to": tm.boID, "note": "mine now"}
	case strings.HasSuffix(path, "/password"):
		return map[string]string{"password": "taken over, a new long password"}
	case strings.HasPrefix(path, "/api/v1/users/"):
		return map[string]any{"display_name": "pwned", "role": "coordinator"}
	}
	return map[string]any{}
}

// TestIntruders_IDOR has Bo, a responder, call every route that takes an ID with the
// IDs of Ana's conversations (active and closed), of Ana herself and of the
// coordinator. Conversation routes must answer 404, as if the conversation did not
// exist (accept: 409, the documented answer when someone else has it);
// coordinator-only routes 403; every other route that takes an ID must refuse too.
// No answer may hold what Ana's conversations say, and afterwards Ana's
// conversations, password and account are as they were.
func TestIntruders_IDOR(t *testing.T) {
	tm := newTeam(t)
	var before struct {
		Conversation struct {
			State      string
			AssigneeID string `json:"assignee_id"`
		} `json:"conversation"`
		Messages []struct{ ID string } `json:"messages"`
	}
	tm.ana.mustCall("GET", "/api/v1/conversations/"+tm.active, nil, &before)

	attacked := 0
	for _, r := range servedRoutes(t, "HOTLINE_ROUTING__MODE=pull") {
		if !strings.Contains(r.Path, ":") || isPublic(r) {
			continue
		}
		var targets [][2]string // what the ID names, and the ID
		switch {
		case strings.HasPrefix(r.Path, "/api/v1/conversations/:id"):
			targets = [][2]string{{"Ana's active conversation", tm.active}, {"Ana's closed conversation", tm.closed}}
		case strings.HasPrefix(r.Path, "/api/v1/users/:id"):
			targets = [][2]string{{"Ana", tm.anaID}, {"the coordinator", tm.adminID}}
		default:
			targets = [][2]string{{"an object of someone else's", hotline.NewID(time.Now()).String()}}
		}
		for _, target := range targets {
			path := fill(r.Path, func(string) string { return target[1] })
			status, body := tm.bo.call(r.Method, path, plausibleBody(r.Method, r.Path, tm), nil)
			attacked++
			allowed := []int{http.StatusForbidden, http.StatusNotFound}
			if strings.HasPrefix(r.Path, "/api/v1/conversations/:id") {
				allowed = []int{http.StatusNotFound, http.StatusForbidden}
				if strings.HasSuffix(r.Path, "/accept") {
					allowed = []int{http.StatusConflict, http.StatusNotFound}
				}
			}
			if !slices.Contains(allowed, status) {
				t.Errorf("Bo: %s %s on %s = %d %s, want one of %v", r.Method, r.Path, target[0], status, truncateText(body, 160), allowed)
			}
			if strings.Contains(body, tm.secret) || strings.Contains(body, "+1415555") {
				t.Errorf("Bo: %s %s on %s leaks Ana's conversation: %s", r.Method, r.Path, target[0], truncateText(body, 200))
			}
		}
	}
	if attacked < 20 {
		t.Errorf("only %d attacks: are the routes with IDs mounted?", attacked)
	}

	// Bo's lists hold nothing of Ana's.
	for _, path := range []string{"/api/v1/conversations", "/api/v1/conversations?state=all", "/api/v1/conversations?state=closed"} {
		status, body := tm.bo.call("GET", path, nil, nil)
		if status == http.StatusOK && (strings.Contains(body, tm.active) || strings.Contains(body, tm.closed) || strings.Contains(body, tm.secret)) {
			t.Errorf("Bo's GET %s lists Ana's conversations: %s", path, truncateText(body, 200))
		}
	}

	// Nothing changed for Ana.
	var after struct {
		Conversation struct {
			State      string
			AssigneeID string `json:"assignee_id"`
		} `json:"conversation"`
		Messages []struct{ ID string } `json:"messages"`
	}
	tm.ana.mustCall("GET", "/api/v1/conversations/"+tm.active, nil, &after)
	if after.Conversation.State != before.Conversation.State || after.Conversation.AssigneeID != tm.anaID || len(after.Messages) != len(before.Messages) {
		t.Errorf("Ana's conversation changed under Bo's attempts: before %+v with %d messages, after %+v with %d",
			before.Conversation, len(before.Messages), after.Conversation, len(after.Messages))
	}
	newAPISession(t, tm.base, "ana", responderPassword) // her password still works
	var ana struct {
		User struct {
			Role        string
			DisplayName string `json:"display_name"`
		}
	}
	tm.admin.mustCall("GET", "/api/v1/users/"+tm.anaID, nil, &ana)
	if ana.User.Role != "responder" || ana.User.DisplayName != "ana" {
		t.Errorf("Ana's account changed under Bo's attempts: %+v", ana.User)
	}
	t.Logf("intruders: %d IDOR attempts on routes with IDs, all refused", attacked)
}

// TestIntruders_CSRF signs a coordinator in and calls every state-changing route the
// server mounts without the X-CSRF-Token header, and with another session's token:
// each must be refused with 403 before it does anything.
func TestIntruders_CSRF(t *testing.T) {
	tm := newTeam(t)
	other := newAPISession(t, tm.base, "admin", "correct horse battery staple")
	n := 0
	for _, r := range servedRoutes(t, "HOTLINE_ROUTING__MODE=pull") {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions || isPublic(r) {
			continue
		}
		path := fill(r.Path, func(string) string { return tm.active })
		for _, token := range []struct{ name, value string }{{"no token", ""}, {"another session's token", other.csrf}} {
			c := *tm.admin
			c.csrf = token.value
			status, body := c.call(r.Method, path, plausibleBody(r.Method, r.Path, tm), nil)
			n++
			if status != http.StatusForbidden || !strings.Contains(body, hotline.EFORBIDDEN) {
				t.Errorf("%s %s with %s = %d %s, want 403 EFORBIDDEN", r.Method, r.Path, token.name, status, truncateText(body, 160))
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d CSRF attempts: are the state-changing routes mounted?", n)
	}
	// The coordinator's session survived (logout without a token did nothing).
	tm.admin.mustCall("GET", "/api/v1/me", nil, nil)
	var conv struct{ Conversation struct{ State string } }
	tm.admin.mustCall("GET", "/api/v1/conversations/"+tm.active, nil, &conv)
	if conv.Conversation.State != "active" {
		t.Errorf("Ana's conversation is %s after the CSRF attempts, want active", conv.Conversation.State)
	}
	t.Logf("intruders: %d state-changing requests without a valid CSRF token, all refused", n)
}

// TestIntruders_Sessions checks, on every route that needs a session, that a
// logged-out session, one idle past auth.session_idle_timeout, one past
// auth.session_absolute_timeout although in use, and forged ones (random, and a real
// cookie with one character changed) are all answered 401.
func TestIntruders_Sessions(t *testing.T) {
	environ := []string{"HOTLINE_AUTH__SESSION_IDLE_TIMEOUT=1s", "HOTLINE_AUTH__SESSION_ABSOLUTE_TIMEOUT=3s"}
	base, _, _ := startServe(t, t.TempDir(), environ...)
	login := func() *apiSession { return newAPISession(t, base, "admin", "correct horse battery staple") }
	cookieOf := func(s *apiSession) string {
		u, _ := url.Parse(base)
		for _, c := range s.http.Jar.Cookies(u) {
			if c.Name == console.CookieName {
				return c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}

	loggedOut, idle, absolute, live := login(), login(), login(), login()
	loggedOutCookie := cookieOf(loggedOut)
	loggedOut.mustCall("POST", "/api/v1/logout", nil, nil)
	real := cookieOf(live)
	flipped := []byte(real)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '=' || flipped[len(flipped)/2] < '0' {
		flipped[len(flipped)/2] = 'A'
	}
	idleCookie, absoluteCookie := cookieOf(idle), cookieOf(absolute)
	// Keep the absolute one in use past the absolute timeout; leave the idle one.
	deadline := time.Now().Add(3500 * time.Millisecond)
	for time.Now().Before(deadline) {
		absolute.call("GET", "/api/v1/me", nil, nil)
		time.Sleep(300 * time.Millisecond)
	}

	cookies := []struct{ name, value string }{
		{"a logged-out session", loggedOutCookie},
		{"a session idle past its timeout", idleCookie},
		{"a session past its absolute timeout", absoluteCookie},
		{"a forged session", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"a session cookie with one character changed", string(flipped)},
		{"an overlong session cookie", strings.Repeat("A", 4000)},
	}
	n := 0
	for _, r := range servedRoutes(t, environ...) {
		if isPublic(r, environ...) {
			continue
		}
		path := fill(r.Path, func(string) string { return hotline.NewID(time.Now()).String() })
		for _, c := range cookies {
			req, _ := http.NewRequest(r.Method, base+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Cookie", console.CookieName+"="+c.value)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			n++
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %s = %d, want 401", r.Method, r.Path, c.name, resp.StatusCode)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d requests: are the guarded routes mounted?", n)
	}
	t.Logf("intruders: %d requests with dead or forged sessions, all 401", n)
}

// TestIntruders_LoginBurst sends 1,000 wrong passwords for Ana from one address as
// fast as 20 connections allow, half of them claiming other addresses in
// X-Forwarded-For (which the server must not believe without trusted proxies).
// Nearly all must be refused with 429 without costing a password hash each, and
// afterwards Ana, from her own address, and Bo still sign in at once.
func TestIntruders_LoginBurst(t *testing.T) {
	tm := newTeam(t)
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: 30 * time.Second,
			Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 20}}
	}
	attacker := from("127.0.0.1")
	var limited, refused, other atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	start := time.Now()
	for range 20 {
		wg.Go(func() {
			for i := next.Add(1); i <= 1000; i = next.Add(1) {
				req, _ := http.NewRequest("POST", tm.base+"/api/v1/login", strings.NewReader(`{"username":"ana","password":"guess `+fmt.Sprint(i)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				if i%2 == 0 {
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%250))
				}
				resp, err := attacker.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusTooManyRequests:
					limited.Add(1)
				case http.StatusUnauthorized:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if limited.Load() < 980 || other.Load() > 0 {
		t.Errorf("1,000 wrong passwords: %d answered 429, %d 401, %d otherwise; want nearly all 429 and nothing else", limited.Load(), refused.Load(), other.Load())
	}
	if took > 60*time.Second {
		t.Errorf("the burst took %s: throttled attempts must be cheap", took)
	}

	for _, u := range []struct{ name, ip string }{{"ana", "127.0.0.2"}, {"bo", "127.0.0.3"}} {
		c := from(u.ip)
		req, _ := http.NewRequest("POST", tm.base+"/api/v1/login", strings.NewReader(`{"username":"`+u.name+`","password":"`+responderPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s signing in from %s after the burst = %d, want 200", u.name, u.ip, resp.StatusCode)
		}
	}
	t.Logf("intruders: 1,000 wrong passwords in %s: %d answered 429, %d 401; Ana and Bo then signed in from their own addresses",
		took.Round(time.Millisecond), limited.Load(), refused.Load())
}

// TestIntruders_WebhookSignedForAnotherURL posts webhooks whose signature is valid,
// with the hotline's own token, but for another URL: another host, the other webhook
// path, the same path with a query. Each is refused with 403 and stores nothing.
func TestIntruders_WebhookSignedForAnotherURL(t *testing.T) {
	tm := newTeam(t)
	params := inboundParams("SM"+strings.Repeat("e", 32), "+14155550199", "signed for someone else")
	for _, tt := range []struct{ name, path, signedFor string }{
		{"another host", webhooks.InboundPath, "https://evil.example.org" + webhooks.InboundPath},
		{"another scheme", webhooks.InboundPath, strings.Replace(tm.base, "http://", "https://", 1) + webhooks.InboundPath},
		{"the status callback's URL", webhooks.InboundPath, tm.base + webhooks.StatusPath},
		{"the same path with a query", webhooks.InboundPath, tm.base + webhooks.InboundPath + "?x=1"},
		{"the inbound URL, on the status path", webhooks.StatusPath, tm.base + webhooks.InboundPath},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, tm.base+tt.path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(testAuthToken, tt.signedFor, params))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a webhook signed for %s = %d, want 403", tt.name, resp.StatusCode)
		}
	}
	var out struct{ Counts map[string]int }
	tm.admin.mustCall("POST", "/api/v1/messages/lookup", map[string][]string{"sids": {params.Get("MessageSid")}}, &out)
	if n := out.Counts[params.Get("MessageSid")]; n != 0 {
		t.Errorf("a webhook signed for another URL was stored %d times", n)
	}
}
