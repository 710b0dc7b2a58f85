package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
)

// TestTwilioOutage_EveryReplyOnceInOrderAndNoCallbackLost runs the real server with
// the Twilio provider against a fake Twilio API that, for a few seconds, answers
// 500s (lists too), then 429s, then nothing at all (timeouts), then creates texts
// but drops the connection before answering (after a status callback for the text
// has already reached the hotline), then refuses connections — and then recovers.
// Texters keep texting and a responder keeps replying throughout, and status
// callbacks for texts sent before the outage arrive during it. Afterwards:
//
//   - every queued text was created at the fake exactly once (by SID, recipient and
//     body) and is recorded as sent or delivered; the outbox is empty;
//   - per conversation, the fake received the texts in the order they were written;
//   - no status callback is lost: those posted during the outage are applied, and so
//     are those that arrived before the hotline knew the SID (a dropped answer
//     settled later by reconciliation).
func TestTwilioOutage_EveryReplyOnceInOrderAndNoCallbackLost(t *testing.T) {
	if testing.Short() {
		t.Skip("the outage test runs for several seconds; not in -short")
	}
	fake, err := faketwilio.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	dataDir := t.TempDir()
	base, cfg, stop := startServe(t, dataDir, append(twilioEnv(fake, dataDir),
		"HOTLINE_TWILIO__REQUEST_TIMEOUT=300ms", "HOTLINE_ROUTING__MODE=pull")...)
	ctx := context.Background()
	admin := newAPISession(t, base, "admin", "correct horse battery staple")

	// Before the outage: three texters, a reply, all sent.
	texter := func(i int) string { return fmt.Sprintf("+1202555%04d", i) }
	seq := 0
	text := func(from string) {
		t.Helper()
		seq++
		if status, body := postInboundAs(t, base, fmt.Sprintf("SM%032d", seq), from, fmt.Sprintf("text %d", seq)); status != http.StatusOK {
			t.Fatalf("inbound text = %d %s, want 200", status, body)
		}
	}
	for i := range 3 {
		text(texter(i))
	}
	var list struct{ Conversations []struct{ ID string } }
	admin.mustCall("GET", "/api/v1/conversations?state=all", nil, &list)
	if len(list.Conversations) != 3 {
		t.Fatalf("%d conversations, want 3", len(list.Conversations))
	}
	// The conversation the responder works in: the oldest, texter 0's.
	slices.SortFunc(list.Conversations, func(a, b struct{ ID string }) int { return strings.Compare(a.ID, b.ID) })
	conv := list.Conversations[0].ID
	admin.mustCall("POST", "/api/v1/conversations/"+conv+"/accept", nil, nil)
	replies := 0
	reply := func() {
		t.Helper()
		replies++
		if status, body := admin.call("POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"body": fmt.Sprintf("reply %d", replies)}, nil); status != http.StatusCreated {
			t.Errorf("reply %d = %d %s, want 201", replies, status, body)
		}
	}
	reply()
	waitUntil(t, "the first texts to reach the fake Twilio API", func() bool { return len(fake.Outbound()) == 4 })
	before := fake.Outbound()

	// The outage, phase by phase, with texts, replies and callbacks arriving all along.
	phases := []struct {
		name  string
		fault faketwilio.Fault
		stop  bool
	}{
		{"500s (lists too)", faketwilio.Fault{Status: 500, Code: 20500, Lists: true}, false},
		{"429s", faketwilio.Fault{Status: 429, Code: 20429}, false},
		{"timeouts", faketwilio.Fault{Stall: true}, false},
		{"answers lost after the text was created, its callback first", faketwilio.Fault{DropAfterCreate: true, Callback: "delivered"}, false},
		{"connection refused", faketwilio.Fault{}, true},
	}
	next := 3
	for i, ph := range phases {
		t.Logf("outage: %s", ph.name)
		if ph.stop {
			fake.Stop()
		} else {
			fake.SetFault(ph.fault)
		}
		end := time.Now().Add(900 * time.Millisecond)
		for tick := 0; time.Now().Before(end); tick++ {
			text(texter(next))
			next++
			if tick%3 == 0 {
				reply()
			}
			if tick == 1 && i < len(before) {
				// A status callback for a text sent before the outage.
				status, err := fake.Callback(ctx, before[i].SID, "delivered")
				if err != nil || status != http.StatusOK {
					t.Errorf("a status callback during the outage = %d, %v; want 200", status, err)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	fake.SetFault(faketwilio.Fault{})
	t.Log("outage over")
	for i := len(phases); i < len(before); i++ { // and the rest after it
		if status, err := fake.Callback(ctx, before[i].SID, "delivered"); err != nil || status != http.StatusOK {
			t.Errorf("a status callback after the outage = %d, %v; want 200", status, err)
		}
	}

	// Recovery: wait until the console shows every text sent.
	waitUntilFor(t, 60*time.Second, "every text to be sent after the outage", func() bool { return allSent(t, admin) })
	stop()
	rep := readStore(t, cfg.DBPath())
	if len(rep.problems) > 0 {
		t.Errorf("the store's consistency check: %v", rep.problems)
	}
	for _, e := range rep.outbox {
		t.Errorf("left in the outbox: %s to %s, %s, %d attempts, last error %q", e.ID, e.To.Masked(), e.Status, e.Attempts, e.LastError)
	}
	if refused := checkSentExactlyOnce(t, fake, rep, true); refused > 0 {
		t.Errorf("%d texts failed", refused)
	}

	// In order per conversation: the fake received each texter's texts in the order
	// the hotline wrote them.
	written := map[string][]string{}
	for _, m := range rep.outbound { // conversations in order, each thread in order
		written[string(m.To)] = append(written[string(m.To)], m.Body)
	}
	received := map[string][]string{}
	for _, m := range fake.Outbound() { // in creation order
		received[m.To] = append(received[m.To], m.Body)
	}
	for to, w := range written {
		if !slices.Equal(received[to], w) {
			t.Errorf("texts to %s: the fake received %q, the hotline wrote %q", hotline.Address(to).Masked(), received[to], w)
		}
	}
	if got := len(written[texter(0)]); got != replies+1 {
		t.Errorf("texter 0 was sent %d texts, want the welcome and %d replies", got, replies)
	}

	// No callback lost: every callback was answered 200 and applied.
	byID := map[string]storedOutbound{}
	for _, m := range rep.outbound {
		byID[m.TwilioSID] = m
	}
	for _, m := range before {
		if got := byID[m.SID].Status; got != hotline.StatusDelivered {
			t.Errorf("text %s sent before the outage is %s, want delivered (its callback came during the outage)", m.SID, got)
		}
	}
	answers := map[string]int{}
	early := 0
	for _, c := range fake.Creates() {
		answers[c.Answer]++
		if c.Answer != "dropped" {
			continue
		}
		early++
		if c.CallbackErr != nil || c.CallbackStatus != http.StatusOK {
			t.Errorf("the status callback for %s before its SID was known = %d, %v; want 200", c.SID, c.CallbackStatus, c.CallbackErr)
		}
		if got := byID[c.SID].Status; got != hotline.StatusDelivered {
			t.Errorf("text %s, whose callback came before its SID was recorded, is %s, want delivered", c.SID, got)
		}
	}
	for _, a := range []string{"500", "429", "stalled", "dropped"} {
		if answers[a] == 0 {
			t.Errorf("the fake never answered a create with %q: the outage did not test it (answers: %v)", a, answers)
		}
	}
	t.Logf("outage figures: %d texts (%d replies in one conversation, %d welcomes) each created once and in order; "+
		"create requests answered %v; %d callbacks before the SID was known and %d during the outage, all applied",
		len(rep.outbound), replies, len(rep.conversationsByTexter), answers, early, min(len(phases), len(before)))
}

// allSent reports whether every outbound text of every conversation is sent or
// delivered, as the console's API shows them.
func allSent(t *testing.T, c *apiSession) bool {
	var list struct{ Conversations []struct{ ID string } }
	if status, _ := c.call("GET", "/api/v1/conversations?state=all", nil, &list); status != http.StatusOK {
		return false
	}
	for _, conv := range list.Conversations {
		var thread struct {
			Messages []struct{ Direction, Status string }
		}
		if status, _ := c.call("GET", "/api/v1/conversations/"+conv.ID, nil, &thread); status != http.StatusOK {
			return false
		}
		for _, m := range thread.Messages {
			if m.Direction == "outbound" && m.Status != "sent" && m.Status != "delivered" {
				return false
			}
		}
	}
	return true
}

// apiSession is a signed-in console API client whose calls return their status
// instead of failing the test.
type apiSession struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

// newAPISession signs in and fails the test if it cannot.
func newAPISession(t *testing.T, base, username, password string) *apiSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiSession{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.mustCall("POST", "/api/v1/login", map[string]string{"username": username, "password": password}, &out)
	c.csrf = out.CSRFToken
	return c
}

// call sends a JSON request with the session and CSRF token, decodes a 2xx answer
// into out and returns the status and the raw answer.
func (c *apiSession) call(method, path string, body, out any) (int, string) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return 0, fmt.Sprintf("%v in %s", err, data)
		}
	}
	return resp.StatusCode, string(data)
}

// mustCall is call that fails the test unless the answer is 2xx.
func (c *apiSession) mustCall(method, path string, body, out any) {
	c.t.Helper()
	if status, data := c.call(method, path, body, out); status/100 != 2 {
		c.t.Fatalf("%s %s = %d %s", method, path, status, data)
	}
}

// postInboundAs posts an inbound webhook signed with the fake Twilio account's
// token, as Twilio would to a hotline configured with it.
func postInboundAs(t *testing.T, base, sid, from, body string) (int, string) {
	t.Helper()
	params := inboundParams(sid, from, body)
	params.Set("AccountSid", faketwilio.AccountSID)
	return postForm(t, base, "/webhooks/twilio/sms", faketwilio.AuthToken, params)
}

// waitUntilFor fails the test unless cond becomes true within limit.
func waitUntilFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
