// Package faketwilio is the part of the Twilio REST API the hotline uses, served on
// loopback for tests: creating a Message, listing Messages (To, From, DateSent
// filters and paging) and listing a Message's Media. It records every create request
// it receives, holds the messages it created, and can be told to fail the way the
// real API fails — HTTP 500s, 429s, answers that never come, connections dropped
// after the message was created, and no listener at all (connection refused) — and
// to recover. It also posts signed status callbacks, as Twilio does.
//
// The tests of the reliability promises (RELIABILITY.md) point a real hotline at it
// with twilio.api_url, and set a standing Fault. The tests of package sms/twilio
// script the answer to each create request instead (OnCreate), seed the messages a
// lookup or a recovery finds (Add), and make lists come over several pages
// (SetMaxPage).
//
// The HTTP handlers are in api.go.
package faketwilio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/webhooks"
)

// Test credentials: twilio-go accepts only letters and digits.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "secrettoken0123456789abcdef0123"
	From       = "+15005550006"
)

// Fault says how the API answers while it is set (see Server.SetFault).
type Fault struct {
	// Status answers every create (and, with Lists, every list) with this HTTP
	// status and a Twilio error body with Code; the message is not created.
	Status int
	Code   int
	// Stall answers nothing, creating nothing, until the client gives up or the
	// fault is cleared.
	Stall bool
	// DropAfterCreate creates the message, then closes the connection unanswered:
	// the request whose outcome only a lookup can tell.
	DropAfterCreate bool
	// Lists applies Status or Stall to list requests too (reconciliation then
	// cannot ask either).
	Lists bool
	// Latency delays every answer to a create by this long after the message was
	// created: a slow API, which widens the window in which the hotline has not yet
	// heard that Twilio has its text.
	Latency time.Duration
	// Callback, when set, posts a status callback with this MessageStatus
	// ("delivered") for each text created, before the create is answered (or its
	// connection dropped): a callback that beats the answer, so that the hotline
	// hears of a SID before it has recorded it.
	Callback string
}

// action is the answer the fault gives every create request.
func (f Fault) action() Action {
	a := Action{Stall: f.Stall, DropAfterCreate: f.DropAfterCreate, Latency: f.Latency, Callback: f.Callback}
	if f.Status != 0 {
		a.Status, a.Code, a.Message = f.Status, f.Code, "fault injected by the test"
	}
	return a
}

// Action scripts the answer to one create request (see Server.OnCreate). The zero
// Action creates the message and answers as Twilio does.
type Action struct {
	// Status answers with this HTTP status and a Twilio error body with Code and
	// Message; the message is not created. Raw, when set, is the body instead (a
	// proxy's error page).
	Status  int
	Code    int
	Message string
	Raw     string
	// Stall answers nothing, creating nothing, until the client gives up.
	Stall bool
	// Queued leaves the created message in Twilio's queue: listed without a
	// date_sent.
	Queued bool
	// Callback, when set, posts a status callback with this MessageStatus for the
	// created message (when its create asked for callbacks) before the answer, as
	// Fault.Callback does.
	Callback string
	// BeforeAnswer, when set, runs with the created message's SID after Callback and
	// before the answer: a status callback of the test's own that beats the answer.
	BeforeAnswer func(sid string)
	// StallAfterCreate creates the message, then answers nothing until the client
	// gives up: the timeout after which only a lookup can tell.
	StallAfterCreate bool
	// DropAfterCreate creates the message, then closes the connection unanswered.
	DropAfterCreate bool
	// Latency delays the answer by this long after the message was created.
	Latency time.Duration
}

// Message is a Message resource the fake holds.
type Message struct {
	SID, From, To, Body, Direction, Status string
	// AccountSID is the account the message belongs to; Add makes it AccountSID.
	AccountSID string
	// Service is the Messaging Service SID (messaging_service_sid), if any.
	Service string
	// StatusCallback is the URL the create request asked for callbacks at.
	StatusCallback string
	Created        time.Time
	Sent           time.Time // zero while queued
	// Media is what the message's Media list holds (num_media counts it).
	Media []Media
	// Seq orders messages by creation, from 1.
	Seq int
}

// Media is one item of a Message's Media list.
type Media struct{ SID, ContentType string }

// Create is one create request as the fake received it.
type Create struct {
	Form url.Values
	At   time.Time
	// AuthOK says the request carried the account SID and auth token. One without
	// them is answered 401 and recorded with the Answer "401".
	AuthOK bool
	// Answer is what the fake did: "created", "dropped" (created, no answer),
	// "stalled" (nothing created, no answer), "stalled after create" (created, no
	// answer), or the HTTP status of the error it answered.
	Answer string
	// SID is the created message's, when one was created.
	SID string
	// CallbackStatus is the HTTP status the hotline answered Fault.Callback's
	// status callback with; 0 when none was posted or it failed (CallbackErr).
	CallbackStatus int
	CallbackErr    error
}

// Server is a fake Twilio API on 127.0.0.1. It is safe for concurrent use.
type Server struct {
	addr    string
	handler http.Handler
	// tb, for a Server made by NewForTest, is failed by stalls that outlast
	// testStallLimit.
	tb testing.TB

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	fault    Fault
	onCreate func(n int, form url.Values) Action
	maxPage  int
	release  chan struct{} // closed to end stalls when the fault changes or the server stops
	messages []*Message
	creates  []Create
	received int // create requests, authenticated or not
	lists    int
	seq      int
	inflight int // requests being answered
}

// testStallLimit is how long a Server made by NewForTest lets a client hold on to a
// stalled request before it fails the test: the clients under test must give up.
const testStallLimit = 10 * time.Second

// New starts a fake Twilio API on a free loopback port.
func New() (*Server, error) { return newServer(nil) }

// NewForTest starts a fake Twilio API for the test and closes it when the test
// ends, waiting for the requests being answered. The test fails if the fake cannot
// start, or if a client holds on to a stalled request for 10s (New's fake lets it
// for a minute): the clients under test must give up on a request that is not
// answered.
func NewForTest(t testing.TB) *Server {
	t.Helper()
	s, err := newServer(t)
	if err != nil {
		t.Fatalf("faketwilio: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if !s.waitIdle(testStallLimit) {
			t.Errorf("faketwilio: requests still being answered %s after Close", testStallLimit)
		}
	})
	return s
}

func newServer(tb testing.TB) (*Server, error) {
	s := &Server{tb: tb, release: make(chan struct{})}
	mux := http.NewServeMux()
	base := "/2010-04-01/Accounts/" + AccountSID
	mux.HandleFunc("POST "+base+"/Messages.json", s.create)
	mux.HandleFunc("GET "+base+"/Messages.json", s.list)
	mux.HandleFunc("GET "+base+"/Messages/{sid}/Media.json", s.listMedia)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.handler = s.track(s.auth(mux))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	return s, nil
}

func (s *Server) serve(ln net.Listener) {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	s.srv, s.ln = srv, ln
	go func() { _ = srv.Serve(ln) }()
}

// URL is the fake's base URL, for twilio.api_url.
func (s *Server) URL() string { return "http://" + s.addr }

// Handler is the fake's HTTP handler, authentication included, for a test that
// serves the API behind a proxy of its own. What it answers, the fake records as
// its own.
func (s *Server) Handler() http.Handler { return s.handler }

// Stop closes the listener and every connection: from now on the API refuses
// connections, until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.ln = nil, nil
	s.releaseStalls()
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start listens again on the same address after Stop.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for range 50 { // the port is ours; a closing socket may hold it for a moment
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("listen again on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

// Close stops the fake for good.
func (s *Server) Close() { s.Stop() }

// waitIdle waits until no request is being answered, at most d, and reports
// whether none is.
func (s *Server) waitIdle(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		n := s.inflight
		s.mu.Unlock()
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// SetFault makes the API fail as f says until the next SetFault; the zero Fault is
// a healthy API. Requests stalled by the previous fault are let go (unanswered).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.releaseStalls()
	s.mu.Unlock()
}

// OnCreate makes fn decide how each create request is answered from now on, in
// place of the fault's create fields (Fault.Lists still governs lists). fn gets the
// request's number n, from 1, counting every create request received
// (unauthenticated ones too), and its form. It runs on the request's goroutine and
// may block, as a slow API would. A nil fn returns the answers to the fault.
func (s *Server) OnCreate(fn func(n int, form url.Values) Action) {
	s.mu.Lock()
	s.onCreate = fn
	s.mu.Unlock()
}

// SetMaxPage caps the page size of list answers at n, whatever the client asks
// for, so that a few messages come over several pages; 0 leaves Twilio's own cap
// of 1000.
func (s *Server) SetMaxPage(n int) {
	s.mu.Lock()
	s.maxPage = n
	s.mu.Unlock()
}

// releaseStalls ends the stalled requests; s.mu is held.
func (s *Server) releaseStalls() {
	close(s.release)
	s.release = make(chan struct{})
}

// Add stores a message as Twilio holds it (a text the hotline sent before a crash,
// or an inbound text whose webhook never came) and returns it as stored: with a
// random SID, AccountSID, Created now (Twilio keeps seconds) and Seq filled in when
// unset, and without a Status, "sent" ("received" when inbound) with Sent at
// Created. A message given a Status keeps it and its Sent: Status "queued" with a
// zero Sent is a text still in Twilio's queue.
func (s *Server) Add(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.Seq = s.seq
	if m.SID == "" {
		m.SID = newSID()
	}
	if m.AccountSID == "" {
		m.AccountSID = AccountSID
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC().Truncate(time.Second)
	}
	if m.Status == "" {
		m.Status, m.Sent = "sent", m.Created
		if m.Direction == "inbound" {
			m.Status = "received"
		}
	}
	s.messages = append(s.messages, &m)
	return m
}

// Creates returns every create request received so far, in the order the fake
// decided their answers.
func (s *Server) Creates() []Create {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.creates)
}

// Lists returns how many list requests the fake received (reconciliation and
// missed-webhook recovery).
func (s *Server) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// Outbound returns the messages the API created (texts the hotline sent) and the
// outbound ones added, oldest first.
func (s *Server) Outbound() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Direction != "inbound" {
			out = append(out, *m)
		}
	}
	return out
}

// Message returns the message with the SID.
func (s *Server) Message(sid string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid {
			return *m, true
		}
	}
	return Message{}, false
}

// Callback posts a status callback for the message with the SID to the URL its
// create request named, signed with AuthToken for that URL, as Twilio does, and
// returns the HTTP status of the answer.
func (s *Server) Callback(ctx context.Context, sid, status string) (int, error) {
	m, ok := s.Message(sid)
	if !ok {
		return 0, fmt.Errorf("faketwilio: no message %s", sid)
	}
	if m.StatusCallback == "" {
		return 0, errors.New("faketwilio: the message asked for no status callback")
	}
	return PostStatus(ctx, m.StatusCallback, m.StatusCallback, sid, status)
}

// PostStatus posts a signed status callback for sid to target, signed for the URL
// signedURL (the hotline's public_url + webhooks.StatusPath; target differs when the
// hotline's public URL is not where the test reaches it).
func PostStatus(ctx context.Context, target, signedURL, sid, status string) (int, error) {
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {AccountSID}, "MessageStatus": {status},
		"SmsStatus": {status}, "ApiVersion": {"2010-04-01"}, "From": {From},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(AuthToken, signedURL, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
