package faketwilio

// The HTTP handlers: the API as a client sees it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// track counts the requests being answered, for NewForTest's cleanup.
func (s *Server) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inflight++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// auth answers 401 to a request without the account SID and auth token, recording
// it when it is a create.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != AccountSID || pass != AuthToken {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Messages.json") {
				_ = r.ParseForm()
				s.mu.Lock()
				s.received++
				s.creates = append(s.creates, Create{Form: r.PostForm, At: time.Now(), Answer: "401"})
				s.mu.Unlock()
			}
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
	s.received++
	n, act, on, release := s.received, s.fault.action(), s.onCreate, s.release
	s.mu.Unlock()
	if on != nil {
		act = on(n, form)
	}
	var cbStatus int
	var cbErr error
	record := func(answer, sid string) {
		s.mu.Lock()
		s.creates = append(s.creates, Create{Form: form, At: time.Now(), AuthOK: true, Answer: answer, SID: sid,
			CallbackStatus: cbStatus, CallbackErr: cbErr})
		s.mu.Unlock()
	}
	switch {
	case act.Status != 0:
		record(strconv.Itoa(act.Status), "")
		if act.Raw != "" {
			w.WriteHeader(act.Status)
			fmt.Fprint(w, act.Raw)
			return
		}
		writeError(w, act.Status, act.Code, act.Message)
		return
	case act.Stall:
		record("stalled", "")
		s.stall(w, r, release)
		return
	}
	if form.Get("To") == "" || (form.Get("From") == "" && form.Get("MessagingServiceSid") == "") {
		record("400", "")
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number and a 'From' or 'MessagingServiceSid' are required.")
		return
	}
	m := Message{From: form.Get("From"), To: form.Get("To"), Body: form.Get("Body"), Direction: "outbound-api",
		Service: form.Get("MessagingServiceSid"), StatusCallback: form.Get("StatusCallback")}
	if act.Queued {
		m.Status = "queued"
	}
	m = s.Add(m)
	if act.Callback != "" && m.StatusCallback != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cbStatus, cbErr = PostStatus(ctx, m.StatusCallback, m.StatusCallback, m.SID, act.Callback)
		cancel()
	}
	if act.BeforeAnswer != nil {
		act.BeforeAnswer(m.SID)
	}
	switch {
	case act.StallAfterCreate:
		record("stalled after create", m.SID)
		s.stall(w, r, release)
		return
	case act.DropAfterCreate:
		record("dropped", m.SID)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	record("created", m.SID)
	if act.Latency > 0 {
		select {
		case <-time.After(act.Latency):
		case <-r.Context().Done():
			return
		}
	}
	answer := messageJSON(m)
	answer["status"], answer["date_sent"] = "queued", nil // as Twilio answers a create
	writeJSON(w, http.StatusCreated, answer)
}

// newSID is a random Message SID, as Twilio's are: a test's own inbound SIDs must
// not collide with it.
func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}

// stall answers nothing until the client gives up, the fault changes or the server
// stops, and at most a minute (NewForTest: 10s, then the test fails); then it
// closes the connection, still unanswered.
func (s *Server) stall(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
	limit := time.Minute
	if s.tb != nil {
		limit = testStallLimit
	}
	select {
	case <-r.Context().Done():
	case <-release:
	case <-time.After(limit):
		if s.tb != nil {
			s.tb.Errorf("faketwilio: the client did not give up on a stalled request within %s", limit)
		}
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
			s.stall(w, r, release)
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
	if s.maxPage > 0 {
		size = min(size, s.maxPage)
	}
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
	sid := r.PathValue("sid")
	var media []Media
	if m, ok := s.Message(sid); ok {
		media = m.Media
	}
	out := []map[string]any{}
	for _, md := range media {
		out = append(out, map[string]any{
			"sid": md.SID, "parent_sid": sid, "account_sid": AccountSID, "content_type": md.ContentType,
			"uri": "/2010-04-01/Accounts/" + AccountSID + "/Messages/" + sid + "/Media/" + md.SID + ".json",
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"media_list": out, "page": 0, "page_size": 50, "next_page_uri": nil})
}

// messageJSON is a Message resource as the API writes it.
func messageJSON(m Message) map[string]any {
	var sent any
	if !m.Sent.IsZero() {
		sent = m.Sent.Format(time.RFC1123Z)
	}
	var service any
	if m.Service != "" {
		service = m.Service
	}
	return map[string]any{
		"sid": m.SID, "account_sid": m.AccountSID, "from": m.From, "to": m.To, "body": m.Body,
		"status": m.Status, "direction": m.Direction, "messaging_service_sid": service,
		"num_media": strconv.Itoa(len(m.Media)), "num_segments": "1", "api_version": "2010-04-01",
		"date_created": m.Created.Format(time.RFC1123Z), "date_updated": m.Created.Format(time.RFC1123Z),
		"date_sent": sent, "error_code": nil, "error_message": nil, "price": nil, "price_unit": "USD",
		"uri":              "/2010-04-01/Accounts/" + m.AccountSID + "/Messages/" + m.SID + ".json",
		"subresource_uris": map[string]any{"media": "/2010-04-01/Accounts/" + m.AccountSID + "/Messages/" + m.SID + "/Media.json"},
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
