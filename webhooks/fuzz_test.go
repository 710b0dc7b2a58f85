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

// FuzzInboundForm posts arbitrary bodies to the inbound webhook, signed whenever they
// parse so that the fuzzer reaches the handler. The handler must never panic, answer
// only 200, 400, 403 or 413, and never hand the service a string that is not UTF-8.
func FuzzInboundForm(f *testing.F) {
	f.Add(inboundParams().Encode(), true)
	f.Add("MessageSid=SM1&From=%2B14155550100&Body=%FF", true)
	f.Add("MessageSid=SM1&From=%2B14155550100&NumMedia=99999999999999999999", true)
	f.Add("MessageSid=SM1&From=whatsapp%3A%2B14155550100&NumMedia=1&MediaUrl0=https%3A%2F%2Fx", true)
	f.Add("Body=a&Body=b", true)
	f.Add("%zz", false)

	svc := &fakeService{}
	svc.ReceiveInboundFn = func(_ context.Context, in hotline.InboundMessage) (hotline.InboundResult, error) {
		strs := []string{in.SID, in.AccountSID, string(in.From), string(in.To), in.Body}
		for _, m := range in.Media {
			strs = append(strs, m.URL, m.ContentType)
		}
		for k, v := range in.Extra {
			strs = append(strs, k, v)
		}
		for _, s := range strs {
			if !utf8.ValidString(s) {
				f.Errorf("ReceiveInbound got invalid UTF-8 %q in %+v", s, in)
			}
		}
		svc.mu.Lock()
		svc.inbound = svc.inbound[:0] // keep a long run's memory flat
		svc.mu.Unlock()
		if in.SID == "" || in.From == "" {
			f.Errorf("ReceiveInbound got a message without MessageSid or From: %+v", in)
		}
		return hotline.InboundResult{}, nil
	}
	cfg := testConfig()
	cfg.AccountSID = ""
	log := zerolog.New(io.Discard).Level(zerolog.DebugLevel) // every line encoded, none kept
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(log)
	if err := Register(e, svc, cfg, log); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, body string, sign bool) {
		req := httptest.NewRequest(http.MethodPost, InboundPath, strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		if p, err := url.ParseQuery(body); err == nil && sign {
			req.Header.Set(SignatureHeader, Sign(testToken, testPublicURL+InboundPath, p))
		}
		switch rec := serve(e, req); rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("status %d for body %q, want 200, 400, 403 or 413", rec.Code, body)
		}
	})
}

// FuzzSignature checks that a signature Sign makes always verifies, with the
// default port added or removed too, and that nothing else does.
func FuzzSignature(f *testing.F) {
	f.Add(vectorToken, vectorURL, vectorParams().Encode(), vectorSignature)
	f.Add("t", "https://example.org:443/sms", "Body=a&Body=b", "")
	f.Add("t", "http://[::1]:80/x?y", "", "AAAA")
	f.Add("", "https://example.org", "A=1", "x")

	f.Fuzz(func(t *testing.T, token, webhookURL, body, signature string) {
		params, err := url.ParseQuery(body)
		if err != nil {
			params = nil
		}
		good := Sign(token, webhookURL, params)
		alt, hasAlt := defaultPortVariant(webhookURL)
		if token == "" {
			if ValidSignature([]string{token}, webhookURL, params, good) {
				t.Fatalf("an empty token verified a signature")
			}
			return
		}
		if !ValidSignature([]string{"other", token}, webhookURL, params, good) {
			t.Fatalf("Sign(%q, %q) = %q does not verify", token, webhookURL, good)
		}
		if hasAlt && !ValidSignature([]string{token}, alt, params, good) {
			t.Fatalf("signature for %q does not verify for %q", webhookURL, alt)
		}
		want := signature == good || (hasAlt && signature == Sign(token, alt, params))
		if got := ValidSignature([]string{token}, webhookURL, params, signature); got != want {
			t.Fatalf("ValidSignature(%q) = %v, want %v", signature, got, want)
		}
	})
}
