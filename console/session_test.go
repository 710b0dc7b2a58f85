package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
)

func TestLogin_SetsASafeCookieAndANewTokenEachTime(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	ana := s.addUser(t, "ana", hotline.RoleResponder)
	c := s.client()
	r := c.send(t, "POST", "/api/v1/login", map[string]string{"username": "ana", "password": password})
	want(t, "login", r, 200, "")
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == console.CookieName {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Value == "" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", cookie)
	}
	if !strings.Contains(string(r.body), `"csrf_token":"`) || !strings.Contains(string(r.body), `"id":"`+ana.ID.String()+`"`) ||
		!strings.Contains(string(r.body), `"role":"responder"`) {
		t.Errorf("login answer = %s, want csrf_token and the user with id and role", r.body)
	}
	if strings.Contains(string(r.body), cookie.Value) || strings.Contains(string(r.body), "password") {
		t.Errorf("login answer = %s: it must not hold the session token or anything about the password", r.body)
	}
	again := s.client().send(t, "POST", "/api/v1/login", map[string]string{"username": "ana", "password": password})
	for _, ck := range (&http.Response{Header: again.header}).Cookies() {
		if ck.Name == console.CookieName && ck.Value == cookie.Value {
			t.Error("a second sign-in got the same session token")
		}
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

func TestSecureCookies(t *testing.T) {
	for url, secure := range map[string]bool{
		"http://127.0.0.1:8080":       false,
		"http://localhost:8080":       false,
		"http://[::1]:8080":           false,
		"http://0.0.0.0:8080":         true,
		"http://192.168.1.20:8080":    true,
		"http://hotline.example.org":  true,
		"https://hotline.example.org": true,
		"https://127.0.0.1":           true,
	} {
		if got := console.SecureCookies(url); got != secure {
			t.Errorf("SecureCookies(%s) = %v, want %v", url, got, secure)
		}
	}
}

func TestLogin_GenericError(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "ana", hotline.RoleResponder)
	a := s.client().send(t, "POST", "/api/v1/login", map[string]string{"username": "ana", "password": "not the password"})
	b := s.client().send(t, "POST", "/api/v1/login", map[string]string{"username": "nobody", "password": "not the password"})
	want(t, "wrong password", a, 401, hotline.EUNAUTHORIZED)
	if string(a.body) != string(b.body) || a.errorMessage() != "Wrong username, password or code." {
		t.Errorf("wrong password = %s, unknown user = %s; want the same generic answer", a.body, b.body)
	}
}

func TestSession_RequiredEverywhereButTheAllowlist(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	anon := s.client()
	want(t, "GET /private without a session", anon.send(t, "GET", "/private", nil), 401, hotline.EUNAUTHORIZED)
	want(t, "GET /api/v1/me without a session", anon.send(t, "GET", "/api/v1/me", nil), 401, hotline.EUNAUTHORIZED)
	want(t, "an unknown path without a session", anon.send(t, "GET", "/nothing/here", nil), 401, hotline.EUNAUTHORIZED)
	want(t, "GET /public", anon.send(t, "GET", "/public", nil), 200, "")
}

func TestSession_ExpiredLoggedOutAndForgedAre401(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{Sessions: hotline.SessionTimeouts{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}})
	s.addUser(t, "ana", hotline.RoleResponder)

	expired := s.login(t, "ana")
	loggedOut := s.login(t, "ana")
	want(t, "me", expired.send(t, "GET", "/api/v1/me", nil), 200, "")
	want(t, "logout", loggedOut.send(t, "POST", "/api/v1/logout", nil), 200, "")
	want(t, "a logged-out session", loggedOut.send(t, "GET", "/api/v1/me", nil), 401, hotline.EUNAUTHORIZED)

	s.clock.Advance(31 * time.Minute)
	r := expired.send(t, "GET", "/api/v1/me", nil)
	want(t, "an idle session", r, 401, hotline.EUNAUTHORIZED)
	if !strings.Contains(r.header.Get("Set-Cookie"), console.CookieName+"=;") {
		t.Errorf("Set-Cookie after a 401 = %q, want the cookie cleared", r.header.Get("Set-Cookie"))
	}

	forged := s.client()
	forged.send(t, "GET", "/public", nil)
	req := func(cookie string) response {
		return forged.send(t, "GET", "/api/v1/me", nil, "Cookie", console.CookieName+"="+cookie)
	}
	want(t, "a forged session", req("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401, hotline.EUNAUTHORIZED)
	want(t, "an empty session", req(""), 401, hotline.EUNAUTHORIZED)
}

func TestCSRF_StateChangesNeedTheToken(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "ana", hotline.RoleResponder)
	c := s.login(t, "ana")
	body := map[string]string{"status": "available"}
	want(t, "without the header", c.send(t, "PUT", "/api/v1/me/availability", body, console.CSRFHeader, ""), 403, hotline.EFORBIDDEN)
	want(t, "with a wrong token", c.send(t, "PUT", "/api/v1/me/availability", body, console.CSRFHeader, c.csrf+"x"), 403, hotline.EFORBIDDEN)
	want(t, "logout without the header", c.send(t, "POST", "/api/v1/logout", nil, console.CSRFHeader, ""), 403, hotline.EFORBIDDEN)
	want(t, "with the token", c.send(t, "PUT", "/api/v1/me/availability", body), 200, "")
	want(t, "a GET needs none", c.send(t, "GET", "/api/v1/me", nil, console.CSRFHeader, ""), 200, "")
	// Another session's token does not do.
	other := s.login(t, "ana")
	want(t, "another session's token", c.send(t, "PUT", "/api/v1/me/availability", body, console.CSRFHeader, other.csrf), 403, hotline.EFORBIDDEN)
}

// A burst of 1,000 wrong passwords from one address is answered 429 with
// Retry-After; the real user, from another address, still signs in.
func TestLogin_ThrottledOverHTTP(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "ana", hotline.RoleResponder)
	attacker := s.client()
	attacker.ip = "203.0.113.9"
	limited := 0
	var last response
	for range 1000 {
		r := attacker.send(t, "POST", "/api/v1/login", map[string]string{"username": "ana", "password": "guess guess guess"})
		if r.status == http.StatusTooManyRequests {
			limited++
			last = r
		}
	}
	if limited < 990 {
		t.Errorf("%d of 1000 guesses answered 429, want nearly all", limited)
	}
	if last.errorCode() != hotline.ERATELIMIT || last.header.Get("Retry-After") == "" {
		t.Errorf("throttled answer = %s with Retry-After %q; want ERATELIMIT and a Retry-After", last.body, last.header.Get("Retry-After"))
	}
	user := s.client()
	user.ip = "198.51.100.7"
	want(t, "the real user from another address",
		user.send(t, "POST", "/api/v1/login", map[string]string{"username": "ana", "password": password}), 200, "")
}

func TestJSON_StrictDecoding(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	c := s.login(t, "admin")
	for _, tt := range []struct {
		name, body, contains string
		status               int
	}{
		{"unknown field", `{"username":"x","password":"y","role":"responder","admin":true}`, "admin: unknown field", 400},
		{"wrong type", `{"username":"x","password":"y","role":"responder","capacity":"three"}`, "capacity: must be a number", 400},
		{"wrong type in a list", `{"username":"x","languages":"en"}`, "languages: must be a list", 400},
		{"not JSON", `username=x`, "not valid JSON", 400},
		{"two values", `{} {}`, "more than one JSON value", 400},
		{"empty", ``, "empty", 400},
		{"too large", `{"display_name":"` + strings.Repeat("x", 70<<10) + `"}`, "larger than 64 KiB", 413},
	} {
		r := c.send(t, "POST", "/api/v1/users", tt.body)
		if r.status != tt.status || !strings.Contains(r.errorMessage(), tt.contains) {
			t.Errorf("%s: %d %s, want %d with %q", tt.name, r.status, r.body, tt.status, tt.contains)
		}
	}
	r := c.send(t, "POST", "/api/v1/users", `{}`, "Content-Type", "text/plain")
	want(t, "a body that is not application/json", r, 400, hotline.EINVALID)
}
