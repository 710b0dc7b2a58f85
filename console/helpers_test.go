package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
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

var t0 = time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)

const password = "correct horse battery staple"

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// server is the console on a real HTTP server, over a fresh store, with the server's
// error handler and the Guard in front of everything.
type server struct {
	url      string
	svc      *hotline.Service
	accounts *hotline.Accounts
	clock    *testClock
	codes    auth.TOTP
	sids     int
}

// clientHeader lets a test choose the client address the throttle sees.
const clientHeader = "X-Test-Client"

func newServer(t *testing.T, opts hotline.AccountsOptions) *server {
	t.Helper()
	st := storetest.MustOpen(t)
	s := &server{clock: &testClock{now: t0}}
	s.svc = hotline.NewService(st, s.clock, nil, hotline.DefaultPolicy())
	// Real argon2id, with tiny costs so that tests stay fast.
	s.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: s.clock,
		Passwords: auth.NewArgon2id(auth.Params{Memory: 64, Time: 1}), Codes: s.codes, Tokens: auth.Tokens{},
		Limiter: auth.NewThrottle(auth.ThrottleOptions{})}, opts)
	deps := console.Deps{Accounts: s.accounts, Access: hotline.NewAccess(s.svc, 24*time.Hour),
		ClientIP: func(r *http.Request) string {
			if ip := r.Header.Get(clientHeader); ip != "" {
				return ip
			}
			return console.PeerIP(r)
		}}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	e.Use(console.Guard(deps, append([]console.Route{{Method: http.MethodGet, Path: "/public"}}, console.PublicRoutes...)))
	e.GET("/public", func(c echo.Context) error { return c.String(http.StatusOK, "open") })
	e.GET("/private", func(c echo.Context) error { return c.String(http.StatusOK, "secret") })
	console.Register(e, deps)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

func (s *server) addUser(t *testing.T, username string, role hotline.Role) hotline.User {
	t.Helper()
	u, err := s.accounts.CreateUser(context.Background(), hotline.OperatorCaller("test"),
		hotline.NewUser{Username: username, Password: password, Role: role, Languages: []string{"en"}, Phone: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// text has a texter write to the hotline and returns the conversation.
func (s *server) text(t *testing.T, from, body string) string {
	t.Helper()
	s.sids++
	res, err := s.svc.ReceiveInbound(context.Background(), hotline.InboundMessage{
		SID:  fmt.Sprintf("SMtest%06d", s.sids),
		From: hotline.Address(from), To: "233733", Body: body, Segments: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res.ConversationID.String()
}

// client is a browser: it keeps the cookie and sends the CSRF token it was given.
type client struct {
	s    *server
	http *http.Client
	csrf string
	ip   string
}

func (s *server) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, http: &http.Client{Jar: jar}}
}

// login signs in as username and returns the signed-in client.
func (s *server) login(t *testing.T, username string) *client {
	t.Helper()
	c := s.client()
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	if status := c.call(t, "POST", "/api/v1/login", map[string]string{"username": username, "password": password}, &out); status != 200 {
		t.Fatalf("login %s = %d", username, status)
	}
	c.csrf = out.CSRFToken
	return c
}

// response is an answer: status, headers and body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// error returns the code of an error answer.
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r response) errorMessage() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// send makes a request: body is JSON-encoded unless it is a string (sent as is) or
// nil; the CSRF header goes on every request when the client has a token.
func (c *client) send(t *testing.T, method, path string, body any, headers ...string) response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set(console.CSRFHeader, c.csrf)
	}
	if c.ip != "" {
		req.Header.Set(clientHeader, c.ip)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// call sends and decodes a JSON answer into out (when not nil), returning the status.
func (c *client) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	r := c.send(t, method, path, body)
	if out != nil && r.status < 300 && len(r.body) > 0 {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, r.body, err)
		}
	}
	return r.status
}

// want fails the test unless the answer has the status (and, for errors, the code).
func want(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.errorCode() != code) {
		t.Errorf("%s = %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}
