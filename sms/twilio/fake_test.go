package twilio_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test credentials: twilio-go accepts only letters and digits.
const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "secrettoken0123456789abcdef0123"
	testFrom    = "+15005550006"
	testService = "MG0123456789abcdef0123456789abcdef"
)

// fakeTwilio is the part of the Twilio REST API the hotline uses, on loopback:
// creating a Message, listing Messages with the To, From and DateSent filters and
// paging, and listing a Message's Media. It records every create request, and its
// answers to them can be scripted with onCreate.
type fakeTwilio struct {
	t   testing.TB
	srv *httptest.Server
	// stop ends stalled requests when the test ends.
	stop chan struct{}

	mu       sync.Mutex
	messages []*fakeMessage
	creates  []fakeCreate
	// onCreate decides how to answer create request n (1 for the first); nil creates.
	onCreate func(n int, form url.Values) createAction
	// maxPage caps the page size of lists, to exercise paging.
	maxPage int
	seq     int
}

// fakeCreate is one create request as the fake received it.
type fakeCreate struct {
	Form   url.Values
	AuthOK bool
}

// createAction scripts the answer to one create request.
type createAction struct {
	// Status, with Code and Message, answers with a Twilio error; Raw replaces the
	// JSON body (a proxy's error page).
	Status  int
	Code    int
	Message string
	Raw     string
	// Stall answers nothing, creating nothing, until the client gives up.
	Stall bool
	// StallAfterCreate creates the message, then answers nothing until the client
	// gives up: the timeout after which only a lookup can tell.
	StallAfterCreate bool
	// DropAfterCreate creates the message, then closes the connection unanswered.
	DropAfterCreate bool
	// Queued leaves the message in Twilio's queue: listed without a date_sent.
	Queued bool
	// BeforeAnswer runs after the message is created and before the answer: a
	// status callback that beats the answer.
	BeforeAnswer func(sid string)
}

// fakeMessage is a Message resource.
type fakeMessage struct {
	SID, AccountSID, From, To, Body, Direction, Status, Service string
	Created                                                     time.Time
	Sent                                                        time.Time // zero while queued
	Media                                                       []fakeMedia
	seq                                                         int
}

type fakeMedia struct{ SID, ContentType string }

func newFakeTwilio(t testing.TB) *fakeTwilio {
	f := &fakeTwilio{t: t, stop: make(chan struct{})}
	mux := http.NewServeMux()
	base := "/2010-04-01/Accounts/" + testAccount
	mux.HandleFunc("POST "+base+"/Messages.json", f.create)
	mux.HandleFunc("GET "+base+"/Messages.json", f.list)
	mux.HandleFunc("GET "+base+"/Messages/{sid}/Media.json", f.listMedia)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	f.srv = httptest.NewServer(f.auth(mux))
	t.Cleanup(func() {
		close(f.stop)
		f.srv.Close()
	})
	return f
}

// URL is the fake's base URL, for Options.APIURL.
func (f *fakeTwilio) URL() string { return f.srv.URL }

func (f *fakeTwilio) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Messages.json") {
			_ = r.ParseForm()
			f.mu.Lock()
			f.creates = append(f.creates, fakeCreate{Form: r.PostForm, AuthOK: ok && user == testAccount && pass == testToken})
			f.mu.Unlock()
		}
		if !ok || user != testAccount || pass != testToken {
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeTwilio) create(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	f.mu.Lock()
	n := len(f.creates)
	on := f.onCreate
	f.mu.Unlock()
	var act createAction
	if on != nil {
		act = on(n, form)
	}
	switch {
	case act.Raw != "":
		w.WriteHeader(act.Status)
		fmt.Fprint(w, act.Raw)
		return
	case act.Status != 0:
		writeError(w, act.Status, act.Code, act.Message)
		return
	case act.Stall:
		f.stall(r)
		return
	}
	if form.Get("To") == "" || (form.Get("From") == "" && form.Get("MessagingServiceSid") == "") {
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number and a 'From' or 'MessagingServiceSid' are required.")
		return
	}
	m := f.add(fakeMessage{
		From: form.Get("From"), To: form.Get("To"), Body: form.Get("Body"),
		Direction: "outbound-api", Service: form.Get("MessagingServiceSid"),
	}, act.Queued)
	if act.BeforeAnswer != nil {
		act.BeforeAnswer(m.SID)
	}
	switch {
	case act.StallAfterCreate:
		f.stall(r)
		return
	case act.DropAfterCreate:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	answer := messageJSON(m)
	answer["status"], answer["date_sent"] = "queued", nil // as Twilio answers a create
	writeJSON(w, http.StatusCreated, answer)
}

// add stores a message as Twilio would and returns a copy.
func (f *fakeTwilio) add(m fakeMessage, queued bool) fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	m.seq = f.seq
	if m.SID == "" {
		m.SID = fmt.Sprintf("SM%032x", f.seq)
	}
	if m.AccountSID == "" {
		m.AccountSID = testAccount
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
	if queued {
		m.Status, m.Sent = "queued", time.Time{}
	}
	f.messages = append(f.messages, &m)
	return m
}

// stall answers nothing until the client gives up or the test ends.
func (f *fakeTwilio) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.stop:
	case <-time.After(10 * time.Second):
		f.t.Error("the client did not give up on a stalled request within 10s")
	}
}

func (f *fakeTwilio) list(w http.ResponseWriter, r *http.Request) {
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
	page, _ := strconv.Atoi(q.Get("Page"))
	f.mu.Lock()
	if f.maxPage > 0 {
		size = min(size, f.maxPage)
	}
	var match []fakeMessage
	for _, m := range f.messages {
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
	f.mu.Unlock()
	slices.SortFunc(match, func(a, b fakeMessage) int { return b.seq - a.seq }) // newest first
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

func (f *fakeTwilio) listMedia(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("sid")
	f.mu.Lock()
	var media []fakeMedia
	for _, m := range f.messages {
		if m.SID == sid {
			media = m.Media
		}
	}
	f.mu.Unlock()
	out := []map[string]any{}
	for _, md := range media {
		out = append(out, map[string]any{
			"sid": md.SID, "parent_sid": sid, "account_sid": testAccount, "content_type": md.ContentType,
			"uri": "/2010-04-01/Accounts/" + testAccount + "/Messages/" + sid + "/Media/" + md.SID + ".json",
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"media_list": out, "page": 0, "page_size": 50, "next_page_uri": nil})
}

// messageJSON is a Message resource as the API writes it.
func messageJSON(m fakeMessage) map[string]any {
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

// createRequests returns the create requests received so far.
func (f *fakeTwilio) createRequests() []fakeCreate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.creates)
}

// created returns the outbound messages the fake holds, oldest first.
func (f *fakeTwilio) created() []fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeMessage
	for _, m := range f.messages {
		if m.Direction != "inbound" {
			out = append(out, *m)
		}
	}
	return out
}

func (f *fakeTwilio) script(on func(n int, form url.Values) createAction) {
	f.mu.Lock()
	f.onCreate = on
	f.mu.Unlock()
}
