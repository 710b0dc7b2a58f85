package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

// TestRoutes_DenyByDefault builds the real server for each provider and metrics
// setting, enumerates Echo's route table, and proves that every route but the
// allowlist answers 401 without a session (and with a forged one), and that the
// allowlist names only routes that are mounted.
func TestRoutes_DenyByDefault(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*config.Config)
	}{
		{"simulator with webhooks", func(c *config.Config) { c.Twilio.AuthToken = testAuthToken }},
		{"simulator without webhooks, public metrics", func(c *config.Config) { c.Metrics.Public = true }},
		{"twilio", func(c *config.Config) {
			c.SMS.Provider = config.ProviderTwilio
			c.PublicURLSetting = "https://hotline.example.org"
			c.Twilio.AccountSID = "AC" + strings.Repeat("0", 32)
			c.Twilio.AuthToken = "0123456789abcdef0123456789abcdef"
			c.Twilio.From = "+15005550006"
			c.Twilio.APIURL = "http://127.0.0.1:1" // never called: no worker runs
			c.Crypto.AllowPlaintext = true         // the test's store is a plaintext one
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			tt.mod(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			a := buildApp(t, cfg)
			public := publicRoutes(cfg)
			mounted := map[console.Route]bool{}
			for _, r := range a.echo.Routes() {
				if r.Method != echo.RouteNotFound {
					mounted[console.Route{Method: r.Method, Path: r.Path}] = true
				}
			}
			for _, p := range public {
				if !mounted[p] {
					t.Errorf("the allowlist names %s %s, which is not mounted", p.Method, p.Path)
				}
			}
			guarded := 0
			for r := range mounted {
				if strings.HasPrefix(r.Path, "/simulator") && cfg.SMS.Provider == config.ProviderSimulator && !slices.Contains(public, r) {
					t.Errorf("simulator route %s %s is not on the allowlist: add it to simulatorRoutes, or the simulator page breaks", r.Method, r.Path)
				}
				if slices.Contains(public, r) {
					continue
				}
				guarded++
				for _, cookie := range []string{"", console.CookieName + "=forged-forged-forged-forged-forged-forged-123"} {
					status, code := request(t, a.echo, r, cookie)
					if status != http.StatusUnauthorized || code != hotline.EUNAUTHORIZED {
						t.Errorf("%s %s with cookie %q = %d %s, want 401 EUNAUTHORIZED", r.Method, r.Path, cookie, status, code)
					}
				}
			}
			if guarded < 20 {
				t.Errorf("only %d guarded routes: is the console mounted?", guarded)
			}
			if status, _ := request(t, a.echo, console.Route{Method: "GET", Path: "/healthz"}, ""); status != http.StatusOK {
				t.Errorf("GET /healthz without a session = %d, want 200", status)
			}
			if status, code := requestWith(t, a.echo, console.Route{Method: "POST", Path: "/api/v1/login"}, "", "{"); status != http.StatusBadRequest {
				t.Errorf("POST /api/v1/login with a broken body = %d %s, want 400 from the handler itself", status, code)
			}
			status, _ := request(t, a.echo, console.Route{Method: "GET", Path: "/metrics"}, "")
			if got, want := status == http.StatusUnauthorized, !cfg.Metrics.Public; got != want {
				t.Errorf("GET /metrics = %d with metrics.public %v", status, cfg.Metrics.Public)
			}
			status, _ = request(t, a.echo, console.Route{Method: "GET", Path: "/no/such/page"}, "")
			if status != http.StatusUnauthorized {
				t.Errorf("an unknown path without a session = %d, want 401", status)
			}
		})
	}
}

// buildApp wires the real server over a throwaway store, as serve does.
func buildApp(t *testing.T, cfg config.Config) *app {
	t.Helper()
	st := storetest.MustOpen(t)
	e := env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	a, err := newApp(context.Background(), cfg, zerolog.Nop(), st, e)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	t.Cleanup(func() {
		for _, c := range a.closers {
			_ = c()
		}
	})
	return a
}

// request sends one request for the route, its parameters filled in, and returns the
// status and the error code of the answer.
func request(t *testing.T, e *echo.Echo, r console.Route, cookie string) (int, string) {
	return requestWith(t, e, r, cookie, "{}")
}

// requestWith is request with a body.
func requestWith(t *testing.T, e *echo.Echo, r console.Route, cookie, body string) (int, string) {
	t.Helper()
	segs := strings.Split(r.Path, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":"):
			segs[i] = hotline.NewID(time.Now()).String()
		case s == "*":
			segs[i] = "x"
		}
	}
	req := httptest.NewRequest(r.Method, strings.Join(segs, "/"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var answer struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &answer)
	return rec.Code, answer.Error.Code
}
