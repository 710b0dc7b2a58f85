package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// routingClient is a signed-in console user talking to the real server.
type routingClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func routingSignIn(t *testing.T, base, username, password string) *routingClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &routingClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	if status := c.do("POST", "/api/v1/login", map[string]string{"username": username, "password": password}, &out); status != 200 {
		t.Fatalf("sign in as %s = %d", username, status)
	}
	c.csrf = out.CSRFToken
	return c
}

// do sends a JSON request and decodes the answer into out; it returns the status.
func (c *routingClient) do(method, path string, body, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
	if resp.StatusCode >= 300 {
		c.t.Logf("%s %s = %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

// phoneReceives waits until the simulated phone at number has received a text for
// which match is true, and returns it.
func phoneReceives(t *testing.T, base, number string, match func(body string) bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/simulator/events?number="+url.QueryEscape(number), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("the simulator's events for %s: %v", number, err)
	}
	defer resp.Body.Close()
	var seen []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct{ Type, Direction, Body string }
		if json.Unmarshal([]byte(data), &ev) != nil || ev.Type != "message" || ev.Direction != "to_phone" {
			continue
		}
		seen = append(seen, ev.Body)
		if match(ev.Body) {
			return ev.Body
		}
	}
	t.Fatalf("phone %s did not receive the text within 15s; it received %q", number, seen)
	return ""
}

// eventually polls check until it returns true, for up to 10s.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type conversationList struct {
	Conversations []struct {
		ID             string
		State          string
		AssigneeID     *string    `json:"assignee_id"`
		OfferExpiresAt *time.Time `json:"offer_expires_at"`
	}
}

// TestServe_TextIsOfferedToTheOnCallResponderWhoAnswers is the routing end to end:
// a coordinator puts Ana on a shift now (Bo is available but not on call); a text
// arrives through the signed webhook; the router offers it to Ana; she accepts and
// replies; the texter's phone receives the reply.
func TestServe_TextIsOfferedToTheOnCallResponderWhoAnswers(t *testing.T) {
	base, _, _ := startServe(t, t.TempDir())
	admin := routingSignIn(t, base, "admin", "correct horse battery staple")
	var ana, bo struct{ User struct{ ID string } }
	for _, u := range []struct {
		name string
		out  any
	}{{"ana", &ana}, {"bo", &bo}} {
		if status := admin.do("POST", "/api/v1/users", map[string]any{"username": u.name, "password": "a long responder passphrase",
			"role": "responder", "languages": []string{"en"}, "phone": "+14155550177"}, u.out); status != 201 {
			t.Fatalf("create %s = %d", u.name, status)
		}
	}
	now := time.Now().UTC()
	if status := admin.do("POST", "/api/v1/shifts", map[string]string{"responder_id": ana.User.ID,
		"start": now.Add(-time.Hour).Format(time.RFC3339), "end": now.Add(time.Hour).Format(time.RFC3339)}, nil); status != 201 {
		t.Fatalf("create a shift = %d", status)
	}
	anaC := routingSignIn(t, base, "ana", "a long responder passphrase")
	boC := routingSignIn(t, base, "bo", "a long responder passphrase")
	for _, c := range []*routingClient{anaC, boC} {
		if status := c.do("PUT", "/api/v1/me/availability", map[string]string{"status": "available"}, nil); status != 200 {
			t.Fatalf("going available = %d", status)
		}
	}

	texter := "+14155550123"
	if status, body := postInbound(t, base, inboundParams("SM"+strings.Repeat("7", 32), texter, "I need help please")); status != 200 {
		t.Fatalf("inbound = %d %s", status, body)
	}
	var convID string
	eventually(t, "the text is offered to ana", func() bool {
		var list conversationList
		anaC.do("GET", "/api/v1/conversations", nil, &list)
		for _, c := range list.Conversations {
			if c.AssigneeID != nil && *c.AssigneeID == ana.User.ID && c.OfferExpiresAt != nil {
				convID = c.ID
				return true
			}
		}
		return false
	})
	var boList conversationList
	boC.do("GET", "/api/v1/conversations", nil, &boList)
	if len(boList.Conversations) != 0 {
		t.Errorf("bo, who is not on call, sees %+v", boList.Conversations)
	}
	if status := anaC.do("POST", "/api/v1/conversations/"+convID+"/accept", nil, nil); status != 200 {
		t.Fatalf("ana accepts = %d", status)
	}
	const reply = "Hi, I am Ana. I am here with you. Are you safe right now?"
	if status := anaC.do("POST", "/api/v1/conversations/"+convID+"/messages", map[string]string{"body": reply}, nil); status != 201 {
		t.Fatalf("ana replies = %d", status)
	}
	phoneReceives(t, base, texter, func(body string) bool { return body == reply })
}

// TestServe_NobodyOnCallTellsTheTexterAndPagesACoordinator: with a schedule that has
// nobody on shift now, a text gets the welcome and the after-hours text, stays in
// the queue, and the coordinator's own phone gets a page that says nothing of what
// the texter wrote.
func TestServe_NobodyOnCallTellsTheTexterAndPagesACoordinator(t *testing.T) {
	base, _, _ := startServe(t, t.TempDir())
	admin := routingSignIn(t, base, "admin", "correct horse battery staple")
	var me struct{ User struct{ ID string } }
	admin.do("GET", "/api/v1/me", nil, &me)
	const coordinatorPhone = "+14155550199"
	if status := admin.do("PATCH", "/api/v1/users/"+me.User.ID, map[string]string{"phone": coordinatorPhone}, nil); status != 200 {
		t.Fatalf("set the coordinator's phone = %d", status)
	}
	var ana struct{ User struct{ ID string } }
	admin.do("POST", "/api/v1/users", map[string]any{"username": "ana", "password": "a long responder passphrase", "role": "responder"}, &ana)
	tomorrow := time.Now().UTC().Add(24 * time.Hour)
	if status := admin.do("POST", "/api/v1/shifts", map[string]string{"responder_id": ana.User.ID,
		"start": tomorrow.Format(time.RFC3339), "end": tomorrow.Add(8 * time.Hour).Format(time.RFC3339)}, nil); status != 201 {
		t.Fatalf("create tomorrow's shift = %d", status)
	}
	var oncall struct{ Staffed bool }
	if admin.do("GET", "/api/v1/oncall", nil, &oncall); oncall.Staffed {
		t.Fatalf("the line is staffed now; the test needs nobody on call")
	}

	texter := "+14155550124"
	const secret = "he took my passport and locked the door"
	if status, body := postInbound(t, base, inboundParams("SM"+strings.Repeat("8", 32), texter, secret)); status != 200 {
		t.Fatalf("inbound = %d %s", status, body)
	}
	phoneReceives(t, base, texter, func(body string) bool { return strings.HasPrefix(body, "Nobody is on shift right now") })
	page := phoneReceives(t, base, coordinatorPhone, func(string) bool { return true })
	if want := "hotline: 1 texter waiting, 1 urgent, nobody on call"; page != want {
		t.Errorf("page = %q, want %q", page, want)
	}
	for _, word := range []string{"passport", "door", texter, "1415555012"} {
		if strings.Contains(page, word) {
			t.Errorf("the page %q holds texter content (%q)", page, word)
		}
	}
	var waiting conversationList
	admin.do("GET", "/api/v1/conversations?state=waiting", nil, &waiting)
	if len(waiting.Conversations) != 1 {
		t.Errorf("waiting = %+v, want the texter still in the queue for the next shift", waiting.Conversations)
	}
	var pages struct {
		Pages []struct {
			Audience   string
			AfterHours bool   `json:"after_hours"`
			UserID     string `json:"user_id"`
		} `json:"pages"`
	}
	admin.do("GET", "/api/v1/pages", nil, &pages)
	if len(pages.Pages) != 1 || pages.Pages[0].Audience != "coordinators" || !pages.Pages[0].AfterHours || pages.Pages[0].UserID != me.User.ID {
		t.Errorf("pages = %+v, want one after-hours page to the coordinator", pages.Pages)
	}
}
