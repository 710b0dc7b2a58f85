package webhooks

import (
	"bytes"
	"context"
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
)

const (
	testPublicURL = "https://hotline.example.org"
	testToken     = "primary-auth-token"
	testToken2    = "secondary-auth-token"
	testAccount   = "AC00000000000000000000000000000001"
	testSID       = "SM0123456789abcdef0123456789abcdef"
	testFrom      = "+14155550100"
	testBody      = "i am not safe, please help"
)

var testConversationID = hotline.NewID(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))

// fakeService is a Service whose behaviour each test chooses. It records calls; a
// nil func succeeds.
type fakeService struct {
	ReceiveInboundFn func(context.Context, hotline.InboundMessage) (hotline.InboundResult, error)
	RecordStatusFn   func(context.Context, hotline.StatusUpdate) error

	mu       sync.Mutex
	inbound  []hotline.InboundMessage
	statuses []hotline.StatusUpdate
}

func (s *fakeService) ReceiveInbound(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error) {
	s.mu.Lock()
	s.inbound = append(s.inbound, in)
	s.mu.Unlock()
	if s.ReceiveInboundFn != nil {
		return s.ReceiveInboundFn(ctx, in)
	}
	return hotline.InboundResult{ConversationID: testConversationID, MessageID: hotline.NewID(time.Now())}, nil
}

func (s *fakeService) RecordStatus(ctx context.Context, u hotline.StatusUpdate) error {
	s.mu.Lock()
	s.statuses = append(s.statuses, u)
	s.mu.Unlock()
	if s.RecordStatusFn != nil {
		return s.RecordStatusFn(ctx, u)
	}
	return nil
}

// calls returns how many times the service was called, either method.
func (s *fakeService) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inbound) + len(s.statuses)
}

// logBuffer is a bytes.Buffer safe for the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testConfig is a working configuration with both tokens and an account SID.
func testConfig() Config {
	return Config{PublicURL: testPublicURL, AuthTokens: []string{testToken, testToken2}, AccountSID: testAccount}
}

// mustServer returns an Echo server with the webhooks registered as cmd/hotline
// does, and the buffer its logs (debug and up) go to.
func mustServer(tb testing.TB, svc Service, cfg Config) (*echo.Echo, *logBuffer) {
	tb.Helper()
	logs := &logBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(log)
	if err := Register(e, svc, cfg, log); err != nil {
		tb.Fatalf("Register: %v", err)
	}
	return e, logs
}

// inboundParams is a form as Twilio posts it for an SMS, location fields included.
func inboundParams() url.Values {
	return url.Values{
		"ToCountry":     {"US"},
		"ToState":       {"CA"},
		"SmsMessageSid": {testSID},
		"NumMedia":      {"0"},
		"ToCity":        {"SAN FRANCISCO"},
		"FromZip":       {"94105"},
		"SmsSid":        {testSID},
		"FromState":     {"CA"},
		"SmsStatus":     {"received"},
		"FromCity":      {"SAN FRANCISCO"},
		"Body":          {testBody},
		"FromCountry":   {"US"},
		"To":            {"+15005550006"},
		"ToZip":         {"94105"},
		"NumSegments":   {"1"},
		"MessageSid":    {testSID},
		"AccountSid":    {testAccount},
		"From":          {testFrom},
		"ApiVersion":    {"2010-04-01"},
	}
}

// statusParams is a status callback as Twilio posts it.
func statusParams(status string) url.Values {
	return url.Values{
		"SmsSid":        {testSID},
		"SmsStatus":     {status},
		"MessageStatus": {status},
		"To":            {testFrom},
		"MessageSid":    {testSID},
		"AccountSid":    {testAccount},
		"From":          {"+15005550006"},
		"ApiVersion":    {"2010-04-01"},
	}
}

// signedRequest is a POST of params to path, signed with token as Twilio would.
func signedRequest(path string, params url.Values, token string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(params.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set(SignatureHeader, Sign(token, testPublicURL+path, params))
	return req
}

// serve runs req through e and returns the recorded response.
func serve(e *echo.Echo, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}
