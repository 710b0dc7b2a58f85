// Package faketwilio is the part of the Twilio REST API the hotline uses, served on
// loopback for tests: creating a Message, listing Messages (To, From, DateSent
// filters and paging) and listing a Message's Media. It records every create request
// it receives, holds the messages it created, and can be told to fail the way the
// real API fails — HTTP 500s, 429s, answers that never come, connections dropped
// after the message was created, and no listener at all (connection refused) — and
// to recover. It also posts signed status callbacks, as Twilio does.
//
// The tests of the reliability promises (RELIABILITY.md) point a real hotline at it
// with twilio.api_url.
package faketwilio

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// Message is a Message resource the fake holds.
type Message struct {
	SID, From, To, Body, Direction, Status string
	// StatusCallback is the URL the create request asked for callbacks at.
	StatusCallback string
	Created        time.Time
	Sent           time.Time // zero while queued
	// Seq orders messages by creation, from 1.
	Seq int
}

// Create is one create request as the fake received it.
type Create struct {
	Form url.Values
	At   time.Time
	// Answer is what the fake did: "created", "dropped" (created, no answer),
	// "stalled", or the HTTP status of the error it answered.
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

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	fault    Fault
	release  chan struct{} // closed to end stalls when the fault changes or the server stops
	messages []*Message
	creates  []Create
	lists    int
	seq      int
}

// New starts a fake Twilio API on a free loopback port.
func New() (*Server, error) {
	s := &Server{release: make(chan struct{})}
	mux := http.NewServeMux()
	base := "/2010-04-01/Accounts/" + AccountSID
	mux.HandleFunc("POST "+base+"/Messages.json", s.create)
	mux.HandleFunc("GET "+base+"/Messages.json", s.list)
	mux.HandleFunc("GET "+base+"/Messages/{sid}/Media.json", s.listMedia)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.handler = s.auth(mux)
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

// SetFault makes the API fail as f says until the next SetFault; the zero Fault is
// a healthy API. Requests stalled by the previous fault are let go (unanswered).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.releaseStalls()
	s.mu.Unlock()
}

// releaseStalls ends the stalled requests; s.mu is held.
func (s *Server) releaseStalls() {
	close(s.release)
	s.release = make(chan struct{})
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != AccountSID || pass != AuthToken {
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Unreadable form")
		return
	}
	form := r.PostForm
	s.mu.Lock()
	f, release := s.fault, s.release
	s.mu.Unlock()
	var cbStatus int
	var cbErr error
	record := func(answer, sid string) {
		s.mu.Lock()
		s.creates = append(s.creates, Create{Form: form, At: time.Now(), Answer: answer, SID: sid,
			CallbackStatus: cbStatus, CallbackErr: cbErr})
		s.mu.Unlock()
	}
	switch {
	case f.Status != 0:
		record(strconv.Itoa(f.Status), "")
		writeError(w, f.Status, f.Code, "fault injected by the test")
		return
	case f.Stall:
		record("stalled", "")
		stall(w, r, release)
		return
	}
	if form.Get("To") == "" || (form.Get("From") == "" && form.Get("MessagingServiceSid") == "") {
		record("400", "")
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number and a 'From' or 'MessagingServiceSid' are required.")
		return
	}
	m := s.add(Message{From: form.Get("From"), To: form.Get("To"), Body: form.Get("Body"),
		Direction: "outbound-api", StatusCallback: form.Get("StatusCallback")})
	if f.Callback != "" && m.StatusCallback != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cbStatus, cbErr = PostStatus(ctx, m.StatusCallback, m.StatusCallback, m.SID, f.Callback)
		cancel()
	}
	if f.DropAfterCreate {
		record("dropped", m.SID)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	record("created", m.SID)
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	answer := messageJSON(m)
	answer["status"], answer["date_sent"] = "queued", nil // as Twilio answers a create
	writeJSON(w, http.StatusCreated, answer)
}

// add stores a message as Twilio would, sent at once, and returns a copy.
func (s *Server) add(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.Seq = s.seq
	if m.SID == "" {
		// Random, as Twilio's are: a test's own inbound SIDs must not collide.
		var b [16]byte
		_, _ = rand.Read(b[:])
		m.SID = "SM" + hex.EncodeToString(b[:])
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC().Truncate(time.Second) // Twilio keeps seconds
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

// stall answers nothing until the client gives up, the fault changes or the server
// stops, and at most a minute; then it closes the connection, still unanswered.
func stall(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-release:
	case <-time.After(time.Minute):
	}
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, release := s.fault, s.release
	s.lists++
	s.mu.Unlock()
	if f.Lists {
		switch {
		case f.Status != 0:
			writeError(w, f.Status, f.Code, "fault injected by the test")
			return
		case f.Stall:
			stall(w, r, release)
			return
		}
	}
	q := r.URL.Query()
	after, err1 := parseFilterTime(q.Get("DateSent>"))
	before, err2 := parseFilterTime(q.Get("DateSent<"))
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, 20001, "Invalid DateSent filter")
		return
	}
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 {
		size = 50
	}
	size = min(size, 1000)
	page, _ := strconv.Atoi(q.Get("Page"))
	s.mu.Lock()
	var match []Message
	for _, m := range s.messages {
		switch {
		case q.Has("To") && m.To != q.Get("To"), q.Has("From") && m.From != q.Get("From"):
			continue
		case !after.IsZero() && (m.Sent.IsZero() || m.Sent.Before(after)):
			continue
		case !before.IsZero() && (m.Sent.IsZero() || m.Sent.After(before)):
			continue
		}
		match = append(match, *m)
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b Message) int { return b.Seq - a.Seq }) // newest first
	start := min(page*size, len(match))
	end := min(start+size, len(match))
	out := []map[string]any{}
	for _, m := range match[start:end] {
		out = append(out, messageJSON(m))
	}
	var next any
	if end < len(match) {
		q.Set("Page", strconv.Itoa(page+1))
		q.Set("PageSize", strconv.Itoa(size))
		next = r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messages": out, "page": page, "page_size": size, "start": start, "end": end,
		"uri": r.URL.RequestURI(), "next_page_uri": next, "previous_page_uri": nil,
	})
}

func (s *Server) listMedia(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"media_list": []any{}, "page": 0, "page_size": 50, "next_page_uri": nil})
}

// messageJSON is a Message resource as the API writes it.
func messageJSON(m Message) map[string]any {
	var sent any
	if !m.Sent.IsZero() {
		sent = m.Sent.Format(time.RFC1123Z)
	}
	return map[string]any{
		"sid": m.SID, "account_sid": AccountSID, "from": m.From, "to": m.To, "body": m.Body,
		"status": m.Status, "direction": m.Direction, "messaging_service_sid": nil,
		"num_media": "0", "num_segments": "1", "api_version": "2010-04-01",
		"date_created": m.Created.Format(time.RFC1123Z), "date_updated": m.Created.Format(time.RFC1123Z),
		"date_sent": sent, "error_code": nil, "error_message": nil, "price": nil, "price_unit": "USD",
		"uri":              "/2010-04-01/Accounts/" + AccountSID + "/Messages/" + m.SID + ".json",
		"subresource_uris": map[string]any{"media": "/2010-04-01/Accounts/" + AccountSID + "/Messages/" + m.SID + "/Media.json"},
	}
}

func parseFilterTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code": code, "message": message, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Creates returns every create request received so far, in order.
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

// Outbound returns the messages the API created (texts the hotline sent), oldest
// first.
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
