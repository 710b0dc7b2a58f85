package simulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/httpx"
	"github.com/hotlinehq/hotline/sms/simulator"
	"github.com/hotlinehq/hotline/store/storetest"
)

// serve registers the simulator on an Echo server with the hotline's error handler.
func serve(t *testing.T, sim *simulator.Simulator) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	sim.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func postJSON(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestPostMessageGoesThroughInbound(t *testing.T) {
	var got []hotline.InboundMessage
	var mu sync.Mutex
	conv := hotline.NewID(time.Now())
	in := inboundFunc(func(_ context.Context, m hotline.InboundMessage) (hotline.InboundResult, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m)
		return hotline.InboundResult{ConversationID: conv}, nil
	})
	srv := serve(t, newSimulator(t, in, nil))

	res, b := postJSON(t, srv.URL+"/simulator/messages", `{"from":"(555) 555-0123","body":"hello"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	answer := decode[simulator.MessageResponse](t, b)
	if len(got) != 1 {
		t.Fatalf("ReceiveInbound called %d times, want 1", len(got))
	}
	m := got[0]
	if m.From != "+15555550123" {
		t.Errorf("From %q, want the normalised +15555550123", m.From)
	}
	if !sidPattern.MatchString(m.SID) || answer.SID != m.SID {
		t.Errorf("SID %q (answered %q), want a generated SM… SID, answered back", m.SID, answer.SID)
	}
	if m.To != "233733" || m.Body != "hello" || m.Segments != 1 {
		t.Errorf("message %+v, want to 233733, the body, one segment", m)
	}
	if answer.ConversationID != conv.String() || answer.Duplicate {
		t.Errorf("answer %+v, want conversation %s, not a duplicate", answer, conv)
	}
}

func TestPostMessageSameSIDTwiceIsADuplicate(t *testing.T) {
	svc := hotline.NewService(storetest.MustOpen(t), nil, nil, hotline.DefaultPolicy())
	srv := serve(t, newSimulator(t, svc, svc))

	body := `{"from":"+15555550124","body":"hello","sid":"SM00000000000000000000000000000001"}`
	_, b := postJSON(t, srv.URL+"/simulator/messages", body)
	first := decode[simulator.MessageResponse](t, b)
	_, b = postJSON(t, srv.URL+"/simulator/messages", body)
	second := decode[simulator.MessageResponse](t, b)
	if first.Duplicate || !second.Duplicate {
		t.Errorf("duplicate flags %v then %v, want false then true", first.Duplicate, second.Duplicate)
	}
	if first.ConversationID != second.ConversationID || first.ConversationID == "" {
		t.Errorf("conversations %q and %q, want the same one", first.ConversationID, second.ConversationID)
	}
}

func TestPostMessageErrorsUseTheDomainShape(t *testing.T) {
	srv := serve(t, newSimulator(t, inboundFunc(func(context.Context, hotline.InboundMessage) (hotline.InboundResult, error) {
		return hotline.InboundResult{}, nil
	}), nil))
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"bad number", "application/json", `{"from":"not a number","body":"hi"}`, 400, hotline.EINVALID},
		{"not JSON", "application/json", `{"from":`, 400, hotline.EINVALID},
		{"unknown field", "application/json", `{"from":"+15555550123","body":"hi","to":"x"}`, 400, hotline.EINVALID},
		{"form post", "application/x-www-form-urlencoded", `from=%2B15555550123&body=hi`, 400, hotline.EINVALID},
		{"too large", "application/json", `{"from":"+15555550123","body":"` + strings.Repeat("a", 40000) + `"}`, 413, hotline.ETOOLARGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := http.Post(srv.URL+"/simulator/messages", tc.contentType, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			if got := decode[httpx.ErrorBody](t, b); got.Error.Code != tc.code || got.Error.Message == "" {
				t.Errorf("error %+v, want code %s with a message", got.Error, tc.code)
			}
		})
	}
}

func TestModeEndpoints(t *testing.T) {
	sim := newSimulator(t, nil, nil)
	srv := serve(t, sim)
	res, b := postJSON(t, srv.URL+"/simulator/mode", `{"mode":"opted-out"}`)
	if res.StatusCode != http.StatusOK || decode[simulator.ModeBody](t, b).Mode != simulator.ModeOptedOut {
		t.Errorf("POST mode: %d %s", res.StatusCode, b)
	}
	if sim.Mode() != simulator.ModeOptedOut {
		t.Errorf("mode %q, want opted-out", sim.Mode())
	}
	res, b = postJSON(t, srv.URL+"/simulator/mode", `{"mode":"chaos"}`)
	if res.StatusCode != http.StatusBadRequest || decode[httpx.ErrorBody](t, b).Error.Code != hotline.EINVALID {
		t.Errorf("POST unknown mode: %d %s, want 400 EINVALID", res.StatusCode, b)
	}
	get, err := http.Get(srv.URL + "/simulator/mode")
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	b, _ = io.ReadAll(get.Body)
	if decode[simulator.ModeBody](t, b).Mode != simulator.ModeOptedOut {
		t.Errorf("GET mode: %s", b)
	}
}

// stream reads server-sent events from the simulator.
type stream struct {
	t      *testing.T
	events chan simulator.Event
}

func openStream(t *testing.T, srv *httptest.Server, number string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/simulator/events?number="+url.QueryEscape(number), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &stream{t: t, events: make(chan simulator.Event, 100)}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev simulator.Event
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Errorf("event %s: %v", data, err)
					return
				}
				s.events <- ev
			}
		}
	}()
	return s
}

func (s *stream) next() simulator.Event {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		s.t.Fatal("no event within 5s")
	}
	return simulator.Event{}
}

func TestEventsReplayHistoryThenStreamRepliesAndStatuses(t *testing.T) {
	sim := newSimulator(t, nil, &statusLog{})
	srv := serve(t, sim)
	ctx := context.Background()
	const evil = `<script>alert("hi")</script> & <b>bold</b>`

	before, err := sim.Send(ctx, text("+15555550125", "sent before the page opened"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // let it be delivered
	s := openStream(t, srv, "(555) 555-0125")
	if ev := s.next(); ev.Type != simulator.EventMessage || ev.SID != before.SID || ev.Status != hotline.StatusDelivered {
		t.Errorf("replayed %+v, want the earlier text, delivered", ev)
	}

	live, err := sim.Send(ctx, text("+15555550125", evil))
	if err != nil {
		t.Fatal(err)
	}
	ev := s.next()
	if ev.Type != simulator.EventMessage || ev.SID != live.SID || ev.Direction != simulator.DirectionToPhone || ev.Status != hotline.StatusSent {
		t.Errorf("live event %+v, want the reply to the phone, sent", ev)
	}
	if ev.Body != evil {
		t.Errorf("body %q, want it verbatim: %q", ev.Body, evil)
	}
	if ev := s.next(); ev.Type != simulator.EventStatus || ev.SID != live.SID || ev.Status != hotline.StatusDelivered {
		t.Errorf("then %+v, want its delivered status", ev)
	}
}

func TestEventsOfAnotherPhoneAreNotStreamed(t *testing.T) {
	sim := newSimulator(t, nil, nil)
	srv := serve(t, sim)
	s := openStream(t, srv, "+15555550126")
	if _, err := sim.Send(context.Background(), text("+15555550127", "for someone else")); err != nil {
		t.Fatal(err)
	}
	mine, err := sim.Send(context.Background(), text("+15555550126", "for me"))
	if err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.SID != mine.SID {
		t.Errorf("first event %+v, want only this phone's text", ev)
	}
}

func TestEventsRejectsABadNumber(t *testing.T) {
	srv := serve(t, newSimulator(t, nil, nil))
	res, err := http.Get(srv.URL + "/simulator/events?number=nope")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", res.StatusCode)
	}
}

func TestPageHasNoInlineScriptOrStyle(t *testing.T) {
	srv := serve(t, newSimulator(t, nil, nil))
	res, err := http.Get(srv.URL + "/simulator")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	page := string(b)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: a strict CSP would block it", bad)
		}
	}
	for _, want := range []string{`src="/simulator/app.js?v=`, `href="/simulator/app.css?v=`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not reference %s", want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q, want script-src 'self'", csp)
	}
	for _, name := range []string{"app.js", "app.css"} {
		res, err := http.Get(srv.URL + "/simulator/" + name)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, res.StatusCode)
		}
	}
}
