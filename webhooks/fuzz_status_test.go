package webhooks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/httpx"
)

// FuzzStatusForm posts arbitrary bodies to the status callback webhook, signed
// whenever they parse. The handler must never panic, answer only 200, 400, 403 or
// 413, and hand the service only a status update with a SID, a known status and
// UTF-8 text.
func FuzzStatusForm(f *testing.F) {
	f.Add(url.Values{"MessageSid": {testSID}, "AccountSid": {testAccount}, "MessageStatus": {"delivered"}}.Encode(), true)
	f.Add("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30008&ErrorMessage=%FF", true)
	f.Add("MessageSid=SM1&MessageStatus=DELIVERED&ErrorCode=-1", true)
	f.Add("MessageSid=SM1&MessageStatus=read&MessageStatus=failed", true)
	f.Add("MessageSid=&MessageStatus=sent", true)
	f.Add("MessageSid=SM1&MessageStatus=sent", false)

	svc := &fakeService{}
	svc.RecordStatusFn = func(_ context.Context, u hotline.StatusUpdate) error {
		if u.SID == "" || u.Status == "" {
			f.Errorf("RecordStatus got %+v: no SID or no status", u)
		}
		for _, s := range []string{u.SID, string(u.Status), u.ErrorMessage, u.DoneAt} {
			if !utf8.ValidString(s) {
				f.Errorf("RecordStatus got invalid UTF-8 %q", s)
			}
		}
		if u.ErrorCode < 0 {
			f.Errorf("RecordStatus got a negative error code %d", u.ErrorCode)
		}
		svc.mu.Lock()
		svc.statuses = svc.statuses[:0] // keep a long run's memory flat
		svc.mu.Unlock()
		return nil
	}
	cfg := testConfig()
	cfg.AccountSID = ""
	log := zerolog.New(io.Discard).Level(zerolog.DebugLevel)
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(log)
	if err := Register(e, svc, cfg, log); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, body string, sign bool) {
		req := httptest.NewRequest(http.MethodPost, StatusPath, strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		if p, err := url.ParseQuery(body); err == nil && sign {
			req.Header.Set(SignatureHeader, Sign(testToken, testPublicURL+StatusPath, p))
		}
		switch rec := serve(e, req); rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("status %d for body %q, want 200, 400, 403 or 413", rec.Code, body)
		}
	})
}
