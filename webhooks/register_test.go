package webhooks

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/httpx"
)

func TestRegister_refusesConfigThatCannotWork(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no token", func(c *Config) { c.AuthTokens = nil }, "auth token"},
		{"blank tokens", func(c *Config) { c.AuthTokens = []string{"", " "} }, "auth token"},
		{"no public URL", func(c *Config) { c.PublicURL = "" }, "public_url"},
		{"relative public URL", func(c *Config) { c.PublicURL = "hotline.example.org" }, "public_url"},
		{"public URL with a query", func(c *Config) { c.PublicURL = "https://hotline.example.org/?x=1" }, "public_url"},
		{"ftp", func(c *Config) { c.PublicURL = "ftp://hotline.example.org" }, "public_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			e := echo.New()
			err := Register(e, &fakeService{}, cfg, zerolog.Nop())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Register error = %v, want one naming %s", err, tt.want)
			}
			if got := len(e.Routes()); got != 0 {
				t.Errorf("Register mounted %d routes with a broken config, want none", got)
			}
		})
	}
}

// TestRegister_group mounts the webhooks under a group with a prefix: the signed URL
// is the public URL plus the full path Twilio requested.
func TestRegister_group(t *testing.T) {
	svc := &fakeService{}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	cfg := testConfig()
	cfg.PublicURL = testPublicURL + "/"
	if err := Register(e.Group("/hotline"), svc, cfg, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	rec := serve(e, signedRequest("/hotline"+InboundPath, inboundParams(), testToken))
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d (body %s)", got, want, rec.Body)
	}
}

// TestRegister_loopback runs a real server whose public URL has a port, and signs
// with a query string in the webhook URL, as Twilio would post to it.
func TestRegister_loopback(t *testing.T) {
	svc := &fakeService{}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	srv := httptest.NewServer(e)
	defer srv.Close()
	cfg := testConfig()
	cfg.PublicURL = srv.URL // http://127.0.0.1:port
	if err := Register(e, svc, cfg, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	post := func(path string, params url.Values, signedURL string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(params.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		req.Header.Set(SignatureHeader, Sign(testToken, signedURL, params))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	path := InboundPath + "?hotline=main&x=%20y"
	resp := post(path, inboundParams(), srv.URL+path)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d (body %s)", got, want, body)
	}
	if got, want := string(body), EmptyTwiML; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}

	// The same request signed without the port is for another URL.
	withoutPort := strings.Replace(srv.URL, ":"+strings.Split(srv.URL, ":")[2], "", 1)
	resp = post(path, inboundParams(), withoutPort+path)
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("signed without the port: status = %d, want %d", got, want)
	}
	if got := svc.calls(); got != 1 {
		t.Errorf("service called %d times, want once", got)
	}
}
