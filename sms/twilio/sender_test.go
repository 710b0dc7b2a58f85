package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/sms/twilio"
)

const callbackURL = "https://hotline.example.org/webhooks/twilio/status"

func newSender(t *testing.T, f *faketwilio.Server, edit ...func(*twilio.Options)) *twilio.Sender {
	t.Helper()
	opts := twilio.Options{
		AccountSID: testAccount, AuthToken: testToken, APIURL: f.URL(), From: testFrom,
		StatusCallbackURL: callbackURL, RequestTimeout: 2 * time.Second,
	}
	for _, e := range edit {
		e(&opts)
	}
	s, err := twilio.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func text(to, body string) hotline.OutboundText {
	return hotline.OutboundText{ID: hotline.NewID(time.Now()), To: hotline.Address(to), Body: body}
}

func TestSend_CreatesAMessage(t *testing.T) {
	f := faketwilio.NewForTest(t)
	s := newSender(t, f)
	got, err := s.Send(t.Context(), text("+14155550100", "You have reached the hotline."))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	created := f.Outbound()
	if len(created) != 1 {
		t.Fatalf("the fake holds %d messages, want 1", len(created))
	}
	if want := (hotline.SendReceipt{SID: created[0].SID, Status: hotline.StatusSent}); got != want {
		t.Errorf("receipt = %+v, want %+v", got, want)
	}
	reqs := f.Creates()
	if len(reqs) != 1 {
		t.Fatalf("%d create requests, want 1", len(reqs))
	}
	if !reqs[0].AuthOK {
		t.Error("the create request was not authenticated with the account SID and auth token")
	}
	want := url.Values{
		"To": {"+14155550100"}, "Body": {"You have reached the hotline."},
		"From": {testFrom}, "StatusCallback": {callbackURL},
	}
	if got := reqs[0].Form; got.Encode() != want.Encode() {
		t.Errorf("create form = %v\nwant %v", got, want)
	}
}

func TestSend_WithAMessagingService(t *testing.T) {
	f := faketwilio.NewForTest(t)
	s := newSender(t, f, func(o *twilio.Options) { o.From, o.MessagingServiceSID, o.StatusCallbackURL = "", testService, "" })
	if _, err := s.Send(t.Context(), text("+14155550100", "hello")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	form := f.Creates()[0].Form
	if got := form.Get("MessagingServiceSid"); got != testService {
		t.Errorf("MessagingServiceSid = %q, want %q", got, testService)
	}
	if form.Has("From") || form.Has("StatusCallback") {
		t.Errorf("form %v has From or StatusCallback, want neither", form)
	}
}

func TestSend_APIURLWithAPathPrefix(t *testing.T) {
	f := faketwilio.NewForTest(t)
	var paths []string
	mux := http.NewServeMux()
	mux.HandleFunc("/proxy/", func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/proxy")
		f.Handler().ServeHTTP(w, r)
	})
	proxy := newServer(t, mux)
	s := newSender(t, f, func(o *twilio.Options) { o.APIURL = proxy + "/proxy/" })
	if _, err := s.Send(t.Context(), text("+14155550100", "hello")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if want := "/proxy/2010-04-01/Accounts/" + testAccount + "/Messages.json"; len(paths) != 1 || paths[0] != want {
		t.Errorf("paths = %q, want [%q]", paths, want)
	}
}

// TestSend_ClassifiesFailures is the table the dispatcher relies on: what is tried
// again, what ends the text, and what must be reconciled first.
func TestSend_ClassifiesFailures(t *testing.T) {
	const to = "+14155550100"
	tests := []struct {
		name      string
		act       faketwilio.Action
		retryable bool
		unknown   bool // wraps hotline.ErrOutcomeUnknown, not a *SendError
		code      int
		message   string // a part of the message
	}{
		{name: "500", act: faketwilio.Action{Status: 500, Code: 20500, Message: "Internal Server Error"}, retryable: true, code: 20500},
		{name: "503 page from a proxy", act: faketwilio.Action{Status: 503, Raw: "<html>Service Unavailable</html>"}, retryable: true, message: "HTTP 503"},
		{name: "504 from a proxy", act: faketwilio.Action{Status: 504, Raw: "<html>Gateway Timeout</html>"}, unknown: true},
		{name: "429", act: faketwilio.Action{Status: 429, Code: 20429, Message: "Too Many Requests"}, retryable: true, code: 20429},
		{name: "bare 429 from a proxy", act: faketwilio.Action{Status: 429, Raw: "Too Many Requests"}, retryable: true, message: "HTTP 429"},
		{name: "queue full", act: faketwilio.Action{Status: 400, Code: 21611, Message: "This 'From' number has exceeded the maximum number of queued messages"}, retryable: true, code: 21611},
		{name: "bad credentials", act: faketwilio.Action{Status: 401, Code: 20003, Message: "Authenticate"}, retryable: true, code: 20003, message: "twilio.auth_token"},
		{name: "opted out", act: faketwilio.Action{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}, code: 21610, message: "replied STOP"},
		{name: "invalid number", act: faketwilio.Action{Status: 400, Code: 21211, Message: "The 'To' number " + to + " is not a valid phone number."}, code: 21211, message: "not a valid phone number"},
		{name: "landline", act: faketwilio.Action{Status: 400, Code: 21614, Message: "'To' number " + to + " is not a mobile number"}, code: 21614, message: "not a mobile number"},
		{name: "region", act: faketwilio.Action{Status: 400, Code: 21408, Message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: " + to}, code: 21408, message: "Geographic Permissions"},
		{name: "other 4xx", act: faketwilio.Action{Status: 400, Code: 21612, Message: "The 'To' phone number: " + to + ", is not currently reachable"}, code: 21612, message: "error 21612"},
		{name: "timeout after create", act: faketwilio.Action{StallAfterCreate: true}, unknown: true},
		{name: "dropped after create", act: faketwilio.Action{DropAfterCreate: true}, unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := faketwilio.NewForTest(t)
			f.OnCreate(func(int, url.Values) faketwilio.Action { return tt.act })
			s := newSender(t, f, func(o *twilio.Options) { o.RequestTimeout = 100 * time.Millisecond })
			_, err := s.Send(t.Context(), text(to, "secret body"))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if strings.Contains(err.Error(), to) || strings.Contains(err.Error(), "secret body") {
				t.Errorf("error %q shows the number or the body", err)
			}
			var se *hotline.SendError
			isSendErr := errors.As(err, &se)
			if tt.unknown {
				if isSendErr || !errors.Is(err, hotline.ErrOutcomeUnknown) {
					t.Fatalf("error = %#v, want one wrapping ErrOutcomeUnknown and no *SendError", err)
				}
				return
			}
			if !isSendErr {
				t.Fatalf("error = %#v, want a *hotline.SendError", err)
			}
			if se.Retryable != tt.retryable || se.Code != tt.code {
				t.Errorf("SendError = %+v, want retryable %v, code %d", se, tt.retryable, tt.code)
			}
			if !strings.Contains(se.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", se.Message, tt.message)
			}
			if errors.Is(err, hotline.ErrOutcomeUnknown) {
				t.Error("a definite failure wraps ErrOutcomeUnknown")
			}
		})
	}
}

func TestSend_UnreachableIsRetryableNotUnknown(t *testing.T) {
	f := faketwilio.NewForTest(t)
	s := newSender(t, f)
	f.Stop() // nothing listens: the request cannot have been written
	_, err := s.Send(t.Context(), text("+14155550100", "hello"))
	var se *hotline.SendError
	if !errors.As(err, &se) || !se.Retryable {
		t.Fatalf("error = %v, want a retryable *SendError", err)
	}
	if errors.Is(err, hotline.ErrOutcomeUnknown) {
		t.Error("a connection refused is an unknown outcome; want a plain retry")
	}
}

func TestSend_HonoursCancellation(t *testing.T) {
	f := faketwilio.NewForTest(t)
	f.OnCreate(func(int, url.Values) faketwilio.Action { return faketwilio.Action{Stall: true} })
	s := newSender(t, f, func(o *twilio.Options) { o.RequestTimeout = time.Minute })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel) // a shutdown while the request is in flight
	start := time.Now()
	_, err := s.Send(ctx, text("+14155550100", "hello"))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send returned %s after its context ended", d)
	}
	if !errors.Is(err, hotline.ErrOutcomeUnknown) {
		t.Errorf("error = %v; a request cancelled after it was written has an unknown outcome", err)
	}
}

func TestNew_RefusesBadOptions(t *testing.T) {
	good := twilio.Options{AccountSID: testAccount, AuthToken: testToken, From: testFrom}
	tests := []struct {
		name string
		edit func(*twilio.Options)
		want string
	}{
		{"no account", func(o *twilio.Options) { o.AccountSID = "" }, "twilio.account_sid"},
		{"no token", func(o *twilio.Options) { o.AuthToken = "" }, "twilio.auth_token"},
		{"token with symbols", func(o *twilio.Options) { o.AuthToken = "a-b" }, "twilio.auth_token"},
		{"no sender", func(o *twilio.Options) { o.From = "" }, "twilio.from"},
		{"bad api url", func(o *twilio.Options) { o.APIURL = "api.twilio.com" }, "twilio.api_url"},
		{"bad callback", func(o *twilio.Options) { o.StatusCallbackURL = "/webhooks/twilio/status" }, "public_url"},
	}
	for _, tt := range tests {
		opts := good
		tt.edit(&opts)
		if _, err := twilio.New(opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error = %v, want one naming %s", tt.name, err, tt.want)
		}
	}
	if _, err := twilio.New(good); err != nil {
		t.Errorf("New(good) = %v", err)
	}
}
