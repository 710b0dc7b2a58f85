package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/webhooks"
)

// TestHostileWebhooks_RightStatusAndNothingStored sends the real server (wired as
// serve wires it, over a real store) a table of bad inbound webhooks. Each must be
// answered with the status that tells Twilio (or whoever sent it) what was wrong,
// and leave the store byte for byte as it was: the test compares a backup of the
// whole database before and after each request, so any commit at all fails it.
func TestHostileWebhooks_RightStatusAndNothingStored(t *testing.T) {
	const publicURL = "https://hotline.example.org"
	for _, limit := range []int64{0, 1 << 20} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.PublicURLSetting = publicURL
		cfg.Twilio.AuthToken = testAuthToken
		cfg.Twilio.AccountSID = "AC" + strings.Repeat("0", 32)
		if limit > 0 {
			cfg.Webhooks.MaxBodyBytes = limit // an operator who raised it: the domain's own limit still holds
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		a := buildApp(t, cfg)
		signedFor := publicURL + webhooks.InboundPath

		good := func() url.Values { return inboundParams("SM"+strings.Repeat("a", 32), "+14155550100", "help") }
		with := func(edit func(url.Values)) url.Values {
			p := good()
			edit(p)
			return p
		}
		long := strings.Repeat("x", 100_000)
		bodyTooLarge := http.StatusRequestEntityTooLarge // the form's byte limit, or the domain's 1,600 characters

		for _, tt := range []struct {
			name        string
			contentType string
			raw         string     // the body, when it is not params encoded
			params      url.Values // signed when the body is their encoding
			sign        string     // how to sign: "" correctly, or "none", "wrong token", "other url", "other params"
			status      int
		}{
			{name: "oversized body", params: with(func(p url.Values) { p.Set("Padding", strings.Repeat("p", 2<<20)) }), status: http.StatusRequestEntityTooLarge},
			{name: "a Body of 100k characters", params: with(func(p url.Values) { p.Set("Body", long) }), status: bodyTooLarge},
			{name: "a Body of 1,601 characters", params: with(func(p url.Values) { p.Set("Body", strings.Repeat("é", 1601)) }), status: http.StatusRequestEntityTooLarge},
			{name: "JSON instead of a form", contentType: "application/json", raw: `{"MessageSid":"SM1","From":"+14155550100","Body":"help"}`, status: http.StatusBadRequest},
			{name: "a form as text/plain", contentType: "text/plain", params: good(), status: http.StatusBadRequest},
			{name: "a form as multipart", contentType: "multipart/form-data; boundary=x", params: good(), status: http.StatusBadRequest},
			{name: "a form in Latin-1", contentType: "application/x-www-form-urlencoded; charset=ISO-8859-1", params: good(), status: http.StatusBadRequest},
			{name: "no content type", contentType: "-", params: good(), status: http.StatusBadRequest},
			{name: "invalid UTF-8 in Body", raw: "MessageSid=SM1&AccountSid=AC" + strings.Repeat("0", 32) + "&From=%2B14155550100&Body=%FF%FE", status: http.StatusBadRequest},
			{name: "invalid UTF-8 in a parameter name", raw: "MessageSid=SM1&From=%2B14155550100&%FF=1", status: http.StatusBadRequest},
			{name: "a malformed escape", raw: "MessageSid=SM1&From=%2B14155550100&Body=%zz", status: http.StatusBadRequest},
			{name: "NumMedia far larger than the media sent", params: with(func(p url.Values) {
				p.Set("NumMedia", "5")
				p.Set("MediaUrl0", "https://api.twilio.com/x/Media/ME1")
			}), status: http.StatusBadRequest},
			{name: "NumMedia of a billion", params: with(func(p url.Values) { p.Set("NumMedia", "1000000000") }), status: http.StatusBadRequest},
			{name: "NumMedia that overflows", params: with(func(p url.Values) { p.Set("NumMedia", "99999999999999999999") }), status: http.StatusBadRequest},
			{name: "NumMedia negative", params: with(func(p url.Values) { p.Set("NumMedia", "-1") }), status: http.StatusBadRequest},
			{name: "media beyond NumMedia", params: with(func(p url.Values) { p.Set("MediaUrl3", "https://api.twilio.com/x/Media/ME1") }), status: http.StatusBadRequest},
			{name: "a javascript: media URL", params: with(func(p url.Values) {
				p.Set("NumMedia", "1")
				p.Set("MediaUrl0", "javascript:alert(1)")
			}), status: http.StatusBadRequest},
			{name: "duplicate Body", params: with(func(p url.Values) { p["Body"] = []string{"help", "ignore the first"} }), status: http.StatusBadRequest},
			{name: "duplicate MessageSid", params: with(func(p url.Values) { p["MessageSid"] = []string{"SM1", "SM2"} }), status: http.StatusBadRequest},
			{name: "duplicate From", params: with(func(p url.Values) { p["From"] = []string{"+14155550100", "+14155550101"} }), status: http.StatusBadRequest},
			{name: "duplicate NumMedia", params: with(func(p url.Values) { p["NumMedia"] = []string{"0", "1"} }), status: http.StatusBadRequest},
			{name: "missing MessageSid", params: with(func(p url.Values) { p.Del("MessageSid") }), status: http.StatusBadRequest},
			{name: "missing From", params: with(func(p url.Values) { p.Del("From") }), status: http.StatusBadRequest},
			{name: "missing AccountSid", params: with(func(p url.Values) { p.Del("AccountSid") }), status: http.StatusForbidden},
			{name: "another account", params: with(func(p url.Values) { p.Set("AccountSid", "AC"+strings.Repeat("1", 32)) }), status: http.StatusForbidden},
			{name: "an empty body", raw: "", status: http.StatusForbidden}, // no AccountSid: not this account's
			{name: "control characters in MessageSid", params: with(func(p url.Values) { p.Set("MessageSid", "SM\x00\x1b[2J") }), status: http.StatusBadRequest},
			{name: "control characters in From", params: with(func(p url.Values) { p.Set("From", "+1415\x00555\r\n0100") }), status: http.StatusBadRequest},
			{name: "control characters in To", params: with(func(p url.Values) { p.Set("To", "\x07\x08") }), status: http.StatusBadRequest},
			{name: "a MessageSid of 10,000 characters", params: with(func(p url.Values) { p.Set("MessageSid", "SM"+strings.Repeat("a", 10_000)) }), status: http.StatusBadRequest},
			{name: "a From that is not a number", params: with(func(p url.Values) { p.Set("From", "<script>alert(1)</script>") }), status: http.StatusBadRequest},
			{name: "NumSegments not a number", params: with(func(p url.Values) { p.Set("NumSegments", "1e9") }), status: http.StatusBadRequest},
			{name: "unsigned", sign: "none", params: good(), status: http.StatusForbidden},
			{name: "signed with another token", sign: "wrong token", params: good(), status: http.StatusForbidden},
			{name: "a valid signature for another URL", sign: "other url", params: good(), status: http.StatusForbidden},
			{name: "a valid signature for other parameters", sign: "other params", params: good(), status: http.StatusForbidden},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := backupBytes(t, a)
				body := tt.raw
				if tt.params != nil {
					body = tt.params.Encode()
				}
				req := httptest.NewRequest(http.MethodPost, webhooks.InboundPath, strings.NewReader(body))
				switch tt.contentType {
				case "":
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				case "-": // none
				default:
					req.Header.Set("Content-Type", tt.contentType)
				}
				if p, err := url.ParseQuery(body); err == nil {
					switch tt.sign {
					case "none":
					case "wrong token":
						req.Header.Set(webhooks.SignatureHeader, webhooks.Sign("not-the-token", signedFor, p))
					case "other url":
						req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(testAuthToken, "https://other-hotline.example.org"+webhooks.InboundPath, p))
					case "other params":
						p2 := url.Values{}
						for k, v := range p {
							p2[k] = v
						}
						p2.Set("Body", "something else")
						req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(testAuthToken, signedFor, p2))
					default:
						req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(testAuthToken, signedFor, p))
					}
				}
				rec := httptest.NewRecorder()
				a.echo.ServeHTTP(rec, req)
				if rec.Code != tt.status {
					t.Errorf("max_body_bytes %d: status %d (%s), want %d", limit, rec.Code, truncateText(rec.Body.String(), 200), tt.status)
				}
				if strings.Contains(rec.Body.String(), "<script") || strings.Contains(rec.Body.String(), "\x00") {
					t.Errorf("the answer echoes hostile input: %q", truncateText(rec.Body.String(), 200))
				}
				if after := backupBytes(t, a); !bytes.Equal(before, after) {
					t.Errorf("max_body_bytes %d: the request changed the store", limit)
				}
			})
		}

		// Control characters in the Body are a texter's words: never lost, stored as
		// sent (the console and exports show them as text).
		before := backupBytes(t, a)
		p := with(func(p url.Values) { p.Set("Body", "help\x00\x1b[31m\u202e\u0007 me") })
		req := httptest.NewRequest(http.MethodPost, webhooks.InboundPath, strings.NewReader(p.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(testAuthToken, signedFor, p))
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("a Body with control characters = %d %s, want 200: a texter's text is never refused for its characters", rec.Code, rec.Body)
		}
		if bytes.Equal(before, backupBytes(t, a)) {
			t.Error("a good text changed nothing in the store: the comparison cannot see commits")
		}
		err := a.store.View(context.Background(), func(tx hotline.ReadTx) error {
			m, err := tx.MessageBySID(p.Get("MessageSid"))
			if err == nil && m.Body != p.Get("Body") {
				t.Errorf("stored body %q, want %q as sent", m.Body, p.Get("Body"))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// backupBytes returns a copy of the whole database.
func backupBytes(t *testing.T, a *app) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := a.store.Backup(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
