package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// TestInbound is the inbound webhook's contract: which requests are stored and
// acknowledged, and which are refused with what status before anything is stored.
func TestInbound(t *testing.T) {
	// with returns Twilio's form changed by edit, signed as Twilio would sign it.
	with := func(edit func(p url.Values)) func() *http.Request {
		return func() *http.Request {
			p := inboundParams()
			edit(p)
			return signedRequest(InboundPath, p, testToken)
		}
	}
	// raw posts body as is, with contentType, signed over whatever parses from it.
	raw := func(contentType, body string) func() *http.Request {
		return func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, InboundPath, strings.NewReader(body))
			req.Header.Set(echo.HeaderContentType, contentType)
			p, _ := url.ParseQuery(body)
			req.Header.Set(SignatureHeader, Sign(testToken, testPublicURL+InboundPath, p))
			return req
		}
	}
	tests := []struct {
		name    string
		request func() *http.Request
		want    int
	}{
		{"Twilio's form", with(func(url.Values) {}), http.StatusOK},
		{"signed with the secondary token", func() *http.Request {
			return signedRequest(InboundPath, inboundParams(), testToken2)
		}, http.StatusOK},
		{"unknown parameters Twilio added", with(func(p url.Values) {
			p.Set("AddOns", `{"status":"successful"}`)
			p.Set("ReferralNumMedia", "0")
			p["NewRepeated"] = []string{"a", "b"}
		}), http.StatusOK},
		{"empty body with media", with(func(p url.Values) {
			p.Set("Body", "")
			p.Set("NumMedia", "1")
			p.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")
			p.Set("MediaContentType0", "image/jpeg")
		}), http.StatusOK},

		{"wrong token", func() *http.Request { return signedRequest(InboundPath, inboundParams(), "not-the-token") }, http.StatusForbidden},
		{"no signature", func() *http.Request {
			req := signedRequest(InboundPath, inboundParams(), testToken)
			req.Header.Del(SignatureHeader)
			return req
		}, http.StatusForbidden},
		{"tampered parameter", func() *http.Request {
			p := inboundParams()
			signature := Sign(testToken, testPublicURL+InboundPath, p)
			p.Set("Body", "something else")
			req := signedRequest(InboundPath, p, testToken)
			req.Header.Set(SignatureHeader, signature)
			return req
		}, http.StatusForbidden},
		{"signed for another URL", func() *http.Request {
			p := inboundParams()
			req := signedRequest(InboundPath, p, testToken)
			req.Header.Set(SignatureHeader, Sign(testToken, testPublicURL+StatusPath, p))
			return req
		}, http.StatusForbidden},
		{"another account", with(func(p url.Values) { p.Set("AccountSid", "AC00000000000000000000000000000002") }), http.StatusForbidden},
		{"no account", with(func(p url.Values) { p.Del("AccountSid") }), http.StatusForbidden},

		{"JSON", raw(echo.MIMEApplicationJSON, `{"MessageSid":"SM1"}`), http.StatusBadRequest},
		{"no content type", raw("", inboundParams().Encode()), http.StatusBadRequest},
		{"multipart", raw("multipart/form-data; boundary=x", inboundParams().Encode()), http.StatusBadRequest},
		{"form in Latin-1", raw(echo.MIMEApplicationForm+"; charset=ISO-8859-1", inboundParams().Encode()), http.StatusBadRequest},
		{"form with charset UTF-8", raw(echo.MIMEApplicationForm+"; charset=UTF-8", inboundParams().Encode()), http.StatusOK},
		{"malformed escape", raw(echo.MIMEApplicationForm, "MessageSid=SM1&From=%2B1415&Body=%zz"), http.StatusBadRequest},
		{"semicolon separator", raw(echo.MIMEApplicationForm, "MessageSid=SM1;From=%2B14155550100"), http.StatusBadRequest},
		{"invalid UTF-8 in Body", with(func(p url.Values) { p.Set("Body", "help \xff\xfe") }), http.StatusBadRequest},
		{"invalid UTF-8 in an unknown parameter", with(func(p url.Values) { p.Set("Whatever", "\xc3\x28") }), http.StatusBadRequest},
		{"invalid UTF-8 in a name", with(func(p url.Values) { p.Set("Bad\xffName", "x") }), http.StatusBadRequest},
		{"two Bodies", with(func(p url.Values) { p.Add("Body", "a second body") }), http.StatusBadRequest},
		{"two MessageSids", with(func(p url.Values) { p.Add("MessageSid", "SM2") }), http.StatusBadRequest},
		{"two Froms", with(func(p url.Values) { p.Add("From", "+14155550199") }), http.StatusBadRequest},
		{"two MediaUrl0", with(func(p url.Values) {
			p.Set("NumMedia", "1")
			p["MediaUrl0"] = []string{"https://example.org/a", "https://example.org/b"}
		}), http.StatusBadRequest},

		{"no MessageSid", with(func(p url.Values) { p.Del("MessageSid") }), http.StatusBadRequest},
		{"blank MessageSid", with(func(p url.Values) { p.Set("MessageSid", " ") }), http.StatusBadRequest},
		{"MessageSid with spaces inside", with(func(p url.Values) { p.Set("MessageSid", "SM 1") }), http.StatusBadRequest},
		{"no From", with(func(p url.Values) { p.Del("From") }), http.StatusBadRequest},
		{"From not a number", with(func(p url.Values) { p.Set("From", "call me maybe") }), http.StatusBadRequest},
		{"To not a number", with(func(p url.Values) { p.Set("To", "nowhere") }), http.StatusBadRequest},
		{"NumMedia without its MediaUrl", with(func(p url.Values) {
			p.Set("NumMedia", "2")
			p.Set("MediaUrl0", "https://example.org/a")
		}), http.StatusBadRequest},
		{"MediaUrl beyond NumMedia", with(func(p url.Values) {
			p.Set("NumMedia", "1")
			p.Set("MediaUrl0", "https://example.org/a")
			p.Set("MediaUrl1", "https://example.org/b")
		}), http.StatusBadRequest},
		{"MediaContentType beyond NumMedia", with(func(p url.Values) { p.Set("MediaContentType0", "image/png") }), http.StatusBadRequest},
		{"NumMedia above the cap", with(func(p url.Values) {
			p.Set("NumMedia", "11")
			for i := range 11 {
				p.Set(fmt.Sprintf("MediaUrl%d", i), "https://example.org/m")
			}
		}), http.StatusBadRequest},
		{"NumMedia not a number", with(func(p url.Values) { p.Set("NumMedia", "two") }), http.StatusBadRequest},
		{"NumMedia negative", with(func(p url.Values) { p.Set("NumMedia", "-1") }), http.StatusBadRequest},
		{"MediaUrl not http", with(func(p url.Values) {
			p.Set("NumMedia", "1")
			p.Set("MediaUrl0", "file:///etc/passwd")
		}), http.StatusBadRequest},
		{"NumSegments not a number", with(func(p url.Values) { p.Set("NumSegments", "1.5") }), http.StatusBadRequest},
		{"Body longer than Twilio allows", with(func(p url.Values) { p.Set("Body", strings.Repeat("a", hotline.MaxBodyRunes+1)) }), http.StatusRequestEntityTooLarge},

		{"body over the limit", with(func(p url.Values) { p.Set("Padding", strings.Repeat("x", DefaultMaxBodyBytes)) }), http.StatusRequestEntityTooLarge},
		{"body over the limit, length not announced", func() *http.Request {
			p := inboundParams()
			p.Set("Padding", strings.Repeat("x", DefaultMaxBodyBytes))
			req := signedRequest(InboundPath, p, testToken)
			req.ContentLength = -1
			return req
		}, http.StatusRequestEntityTooLarge},
		{"body over the limit, length understated", func() *http.Request {
			p := inboundParams()
			p.Set("Padding", strings.Repeat("x", DefaultMaxBodyBytes))
			req := signedRequest(InboundPath, p, testToken)
			req.ContentLength = 100
			return req
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeService{}
			if tt.want != http.StatusOK {
				svc.ReceiveInboundFn = func(context.Context, hotline.InboundMessage) (hotline.InboundResult, error) {
					t.Error("ReceiveInbound was called for a request that should be refused")
					return hotline.InboundResult{}, nil
				}
			}
			e, _ := mustServer(t, svc, testConfig())
			rec := serve(e, tt.request())
			if got := rec.Code; got != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", got, tt.want, rec.Body)
			}
			if tt.want == http.StatusOK {
				if got := svc.calls(); got != 1 {
					t.Errorf("service called %d times, want once", got)
				}
			} else if svc.calls() != 0 {
				t.Errorf("service called %d times for a refused request, want never", svc.calls())
			}
		})
	}
}

// TestInbound_stored checks what reaches the service and what Twilio gets back.
func TestInbound_stored(t *testing.T) {
	svc := &fakeService{}
	e, logs := mustServer(t, svc, testConfig())
	p := inboundParams()
	p.Set("From", "whatsapp:+14155550100")
	p.Set("To", "whatsapp:+15005550006")
	p.Set("NumMedia", "2")
	p.Set("MediaUrl0", "https://api.twilio.com/m/ME0")
	p.Set("MediaContentType0", "image/jpeg")
	p.Set("MediaUrl1", "https://api.twilio.com/m/ME1")
	p.Set("NumSegments", "")

	rec := serve(e, signedRequest(InboundPath, p, testToken))
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d (body %s)", got, want, rec.Body)
	}
	if got, want := rec.Body.String(), `<?xml version="1.0" encoding="UTF-8"?><Response/>`; got != want {
		t.Errorf("body = %q, want exactly %q", got, want)
	}
	if got, want := rec.Header().Get(echo.HeaderContentType), "text/xml"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	want := hotline.InboundMessage{
		SID: testSID, AccountSID: testAccount,
		From: "whatsapp:+14155550100", To: "whatsapp:+15005550006",
		Body: testBody, Segments: 1,
		Media: []hotline.Media{
			{URL: "https://api.twilio.com/m/ME0", ContentType: "image/jpeg"},
			{URL: "https://api.twilio.com/m/ME1"},
		},
	}
	if len(svc.inbound) != 1 {
		t.Fatalf("service got %d messages, want 1", len(svc.inbound))
	}
	got := svc.inbound[0]
	// The request is kept as evidence: every parameter, the signed URL and the
	// signature, which verifies again from what is kept.
	if w := got.Webhook; w == nil {
		t.Error("service got no webhook evidence")
	} else {
		if !reflect.DeepEqual(url.Values(w.Params), p) {
			t.Errorf("evidence params = %v, want every parameter sent: %v", w.Params, p)
		}
		if !ValidSignature([]string{testToken}, w.URL, url.Values(w.Params), w.Signature) {
			t.Errorf("evidence signature %q does not verify for %s", w.Signature, w.URL)
		}
	}
	got.Webhook = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("service got\n%+v\nwant\n%+v", got, want)
	}

	out := logs.String()
	for _, want := range []string{`"level":"info"`, `"component":"webhooks"`, `"message_sid":"` + testSID + `"`,
		`"conversation_id":"` + testConversationID.String() + `"`, `"from":"whatsapp:+1******0100"`, `"duplicate":false`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
	for _, secret := range []string{testBody, "4155550100"} {
		if strings.Contains(out, secret) {
			t.Errorf("log %s shows %q", out, secret)
		}
	}
}

func TestInbound_nationalNumberUsesDefaultRegion(t *testing.T) {
	svc := &fakeService{}
	cfg := testConfig()
	cfg.DefaultRegion = "GB"
	e, _ := mustServer(t, svc, cfg)
	p := inboundParams()
	p.Set("From", "07700 900123")
	if rec := serve(e, signedRequest(InboundPath, p, testToken)); rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %s)", rec.Code, rec.Body)
	}
	if got, want := svc.inbound[0].From, hotline.Address("+447700900123"); got != want {
		t.Errorf("From = %q, want %q", got, want)
	}
}

func TestInbound_locationFields(t *testing.T) {
	tests := []struct {
		keep bool
		want map[string]string
	}{
		{false, nil},
		{true, map[string]string{
			"FromCity": "SAN FRANCISCO", "FromState": "CA", "FromZip": "94105", "FromCountry": "US",
			"ToCity": "SAN FRANCISCO", "ToState": "CA", "ToZip": "94105", "ToCountry": "US",
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("keep=%v", tt.keep), func(t *testing.T) {
			svc := &fakeService{}
			cfg := testConfig()
			cfg.KeepLocationFields = tt.keep
			e, _ := mustServer(t, svc, cfg)
			if rec := serve(e, signedRequest(InboundPath, inboundParams(), testToken)); rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %s)", rec.Code, rec.Body)
			}
			if got := svc.inbound[0].Extra; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Extra = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestInbound_serviceResult checks that Twilio gets 200 only when the text is stored
// (or was stored before), and a status that sends it to the fallback URL otherwise.
func TestInbound_serviceResult(t *testing.T) {
	tests := []struct {
		name string
		res  hotline.InboundResult
		err  error
		want int
	}{
		{"stored", hotline.InboundResult{ConversationID: testConversationID}, nil, http.StatusOK},
		{"retried MessageSid", hotline.InboundResult{ConversationID: testConversationID, Duplicate: true}, nil, http.StatusOK},
		{"store unavailable", hotline.InboundResult{}, hotline.Errorf(hotline.EUNAVAILABLE, "The store is busy."), http.StatusServiceUnavailable},
		{"invalid", hotline.InboundResult{}, hotline.Errorf(hotline.EINVALID, "No."), http.StatusBadRequest},
		{"internal", hotline.InboundResult{}, errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeService{ReceiveInboundFn: func(context.Context, hotline.InboundMessage) (hotline.InboundResult, error) {
				return tt.res, tt.err
			}}
			e, logs := mustServer(t, svc, testConfig())
			rec := serve(e, signedRequest(InboundPath, inboundParams(), testToken))
			if got := rec.Code; got != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", got, tt.want, rec.Body)
			}
			if tt.want != http.StatusOK && strings.Contains(rec.Body.String(), "Response") {
				t.Errorf("error answer %q looks like TwiML", rec.Body)
			}
			if tt.res.Duplicate && !strings.Contains(logs.String(), `"duplicate":true`) {
				t.Errorf("log %s does not flag the duplicate", logs)
			}
		})
	}
}

// TestInbound_refusalsAreLoggedWithoutSecrets checks that a refused text leaves a
// trace an operator can act on, without its body or number.
func TestInbound_refusalsAreLoggedWithoutSecrets(t *testing.T) {
	e, logs := mustServer(t, &fakeService{}, testConfig())
	p := inboundParams()
	p.Set("NumMedia", "3")
	if rec := serve(e, signedRequest(InboundPath, p, testToken)); rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
	serve(e, signedRequest(InboundPath, inboundParams(), "wrong"))
	out := logs.String()
	for _, want := range []string{`"level":"warn"`, `"message_sid":"` + testSID + `"`, `"reason":"NumMedia is 3 but MediaUrl0 is missing."`,
		`"from":"+1******0100"`, `"status":400`, "without a valid Twilio signature"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
	for _, secret := range []string{testBody, url.QueryEscape(testBody), "4155550100"} {
		if strings.Contains(out, secret) {
			t.Errorf("log %s shows %q", out, secret)
		}
	}
}
