package webhooks

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/httpx"
)

// Twilio's published example (https://www.twilio.com/docs/usage/security).
const (
	vectorToken     = "12345"
	vectorURL       = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vectorSignature = "vOEb5UThFn24KEfnOFLQY2AE5FY="
)

func vectorParams() url.Values {
	return url.Values{
		"Digits":                {"1234"},
		"CallSid":               {"CA1234567890ABCDE"},
		"To":                    {"+18005551212"},
		"Caller":                {"+14158675309"},
		"From":                  {"+14158675309"},
		"ReasonConferenceEnded": {"test"},
		"Reason":                {"Participant"},
	}
}

func TestSign_TwilioVector(t *testing.T) {
	if got, want := Sign(vectorToken, vectorURL, vectorParams()), vectorSignature; got != want {
		t.Fatalf("Sign(Twilio's example) = %q, want %q", got, want)
	}
}

func TestValidSignature(t *testing.T) {
	withParam := func(name, value string) url.Values {
		p := vectorParams()
		p.Set(name, value)
		return p
	}
	repeated := url.Values{"Tag": {"b", "a"}}
	tests := []struct {
		name      string
		tokens    []string
		url       string
		params    url.Values
		signature string
		want      bool
	}{
		{"Twilio's example", []string{vectorToken}, vectorURL, vectorParams(), vectorSignature, true},
		{"default port added to what Twilio signed", []string{vectorToken}, "https://mycompany.com:443/myapp.php?foo=1&bar=2", vectorParams(), vectorSignature, true},
		{"default port removed from what Twilio signed", []string{vectorToken}, vectorURL,
			vectorParams(), Sign(vectorToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", vectorParams()), true},
		{"http and port 80", []string{"t"}, "http://example.org:80/sms", nil, Sign("t", "http://example.org/sms", nil), true},
		{"other port is not the default", []string{"t"}, "https://example.org/sms", nil, Sign("t", "https://example.org:8443/sms", nil), false},
		{"missing other port", []string{"t"}, "https://example.org:8443/sms", nil, Sign("t", "https://example.org/sms", nil), false},
		{"url with port signed as such", []string{"t"}, "https://example.org:8443/sms", nil, Sign("t", "https://example.org:8443/sms", nil), true},
		{"https default port is not http's", []string{"t"}, "https://example.org/sms", nil, Sign("t", "https://example.org:80/sms", nil), false},
		{"secondary token", []string{"old", vectorToken}, vectorURL, vectorParams(), vectorSignature, true},
		{"wrong token", []string{"54321"}, vectorURL, vectorParams(), vectorSignature, false},
		{"no token", nil, vectorURL, vectorParams(), vectorSignature, false},
		{"empty token never verifies", []string{""}, vectorURL, vectorParams(), Sign("", vectorURL, vectorParams()), false},
		{"empty signature", []string{vectorToken}, vectorURL, vectorParams(), "", false},
		{"tampered parameter", []string{vectorToken}, vectorURL, withParam("Digits", "1235"), vectorSignature, false},
		{"added parameter", []string{vectorToken}, vectorURL, withParam("Extra", ""), vectorSignature, false},
		{"tampered query", []string{vectorToken}, "https://mycompany.com/myapp.php?foo=1&bar=3", vectorParams(), vectorSignature, false},
		{"other host", []string{vectorToken}, "https://evil.example/myapp.php?foo=1&bar=2", vectorParams(), vectorSignature, false},
		{"all values of a repeated parameter", []string{"t"}, "https://example.org/", repeated, Sign("t", "https://example.org/", repeated), true},
		{"repeated parameter signs every value", []string{"t"}, "https://example.org/", repeated, Sign("t", "https://example.org/", url.Values{"Tag": {"a"}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidSignature(tt.tokens, tt.url, tt.params, tt.signature); got != tt.want {
				t.Errorf("ValidSignature(%q, %q) = %v, want %v", tt.tokens, tt.url, got, tt.want)
			}
		})
	}
}

func TestSign_repeatedValuesAsTwilioLibraries(t *testing.T) {
	// twilio-python and twilio-node sign each distinct value of a parameter, sorted.
	a := Sign("t", "https://example.org/", url.Values{"A": {"2", "1", "2"}, "B": {"x"}})
	b := Sign("t", "https://example.org/", url.Values{"A": {"1", "2"}, "B": {"x"}})
	if a != b {
		t.Errorf("Sign with values 2,1,2 = %q, want the signature of 1,2 (%q)", a, b)
	}
}

func TestDefaultPortVariant(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://example.org/sms?a=1", "https://example.org:443/sms?a=1", true},
		{"https://example.org:443/sms?a=1", "https://example.org/sms?a=1", true},
		{"http://example.org/sms", "http://example.org:80/sms", true},
		{"http://example.org:80", "http://example.org", true},
		{"HTTPS://example.org/a%2Fb?x=%20", "HTTPS://example.org:443/a%2Fb?x=%20", true},
		{"https://user:pa:ss@example.org/x", "https://user:pa:ss@example.org:443/x", true},
		{"https://[2001:db8::1]/x", "https://[2001:db8::1]:443/x", true},
		{"https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x", true},
		{"https://example.org:8443/sms", "", false},
		{"https://example.org:/sms", "", false},
		{"ftp://example.org/sms", "", false},
		{"/sms", "", false},
		{"https:///sms", "", false},
		{"http://:80", "", false},
		{"http://u@:80/x", "", false},
		{"https://::443", "", false},
		{"https://a:b:443", "", false},
	}
	for _, tt := range tests {
		got, ok := defaultPortVariant(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("defaultPortVariant(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestVerifySignature_arbitraryURL runs the middleware on Twilio's own example: the
// public URL and the request's path and query together make the signed URL.
func TestVerifySignature_arbitraryURL(t *testing.T) {
	tests := []struct {
		name      string
		publicURL string
		signature string
		want      int
	}{
		{"Twilio's example", "https://mycompany.com", vectorSignature, http.StatusNoContent},
		{"public URL with a trailing slash", "https://mycompany.com/", vectorSignature, http.StatusNoContent},
		{"public URL with the default port", "https://mycompany.com:443", vectorSignature, http.StatusNoContent},
		{"other public URL", "https://mycompany.org", vectorSignature, http.StatusForbidden},
		{"wrong signature", "https://mycompany.com", "vOEb5UThFn24KEfnOFLQY2AE5FZ=", http.StatusForbidden},
		{"no signature", "https://mycompany.com", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			log := zerolog.New(logs)
			e := echo.New()
			e.HTTPErrorHandler = httpx.ErrorHandler(log)
			called := false
			e.POST("/myapp.php", func(c echo.Context) error {
				called = true
				return c.NoContent(http.StatusNoContent)
			}, readForm(DefaultMaxBodyBytes, nil), verifySignature(tt.publicURL, []string{vectorToken}, log))

			req := httptest.NewRequest(http.MethodPost, "/myapp.php?foo=1&bar=2", strings.NewReader(vectorParams().Encode()))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			if tt.signature != "" {
				req.Header.Set(SignatureHeader, tt.signature)
			}
			rec := serve(e, req)
			if got := rec.Code; got != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", got, tt.want, rec.Body)
			}
			if got, want := called, tt.want == http.StatusNoContent; got != want {
				t.Errorf("handler called = %v, want %v", got, want)
			}
			if tt.want != http.StatusForbidden {
				return
			}
			out := logs.String()
			for _, want := range []string{`"level":"warn"`, `"path":"/myapp.php"`, `"remote_ip":"192.0.2.1"`, `"from":"+1******5309"`} {
				if !strings.Contains(out, want) {
					t.Errorf("warning %s lacks %s", out, want)
				}
			}
			if strings.Contains(out, "+14158675309") {
				t.Errorf("warning %s shows the full number", out)
			}
		})
	}
}
