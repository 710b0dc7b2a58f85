package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/loadtest"
	"github.com/hotlinehq/hotline/webhooks"
)

// runLoadCmd runs `hotline load args…` in-process and returns its exit code,
// standard output and standard error.
func runLoadCmd(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: environ}
	code := run(context.Background(), e, append([]string{"load"}, args...))
	return code, stdout.String(), stderr.String()
}

// loadReport is `hotline load --json` as a machine reads it.
type loadReport struct {
	Hotline      map[string]any             `json:"hotline"`
	Baseline     map[string]any             `json:"baseline"`
	Ratio        *float64                   `json:"ratio"`
	Verified     *bool                      `json:"verified"`
	Verification *loadtest.Verification     `json:"verification"`
	Raw          map[string]json.RawMessage `json:"-"`
}

func parseLoadReport(t *testing.T, stdout string) loadReport {
	t.Helper()
	if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Fatalf("--json printed more than one line:\n%s", stdout)
	}
	var r loadReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--json printed %q: %v", stdout, err)
	}
	if err := json.Unmarshal([]byte(stdout), &r.Raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"hotline", "baseline", "ratio", "verified"} {
		if _, ok := r.Raw[key]; !ok {
			t.Errorf("the JSON report lacks %q: %s", key, stdout)
		}
	}
	for _, key := range []string{"requests", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors"} {
		if _, ok := r.Hotline[key].(float64); !ok {
			t.Errorf("hotline.%s = %v, want a number", key, r.Hotline[key])
		}
	}
	return r
}

func TestLoadInProcessStoresEveryAcknowledgedTextOnce(t *testing.T) {
	code, stdout, stderr := runLoadCmd(t, nil, "--requests", "200", "--concurrency", "8", "--retry-share", "0.2",
		"--texters", "20", "--verify", "--json")
	if code != 0 {
		t.Fatalf("hotline load exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r := parseLoadReport(t, stdout)
	if r.Verified == nil || !*r.Verified {
		t.Errorf("verified = %v, want true; verification %+v", r.Verified, r.Verification)
	}
	if got := r.Hotline["requests"]; got != 200.0 {
		t.Errorf("requests = %v, want 200", got)
	}
	if got := r.Hotline["errors"]; got != 0.0 {
		t.Errorf("errors = %v (%v), want 0", got, r.Hotline["errors_by_status"])
	}
	retries, _ := r.Hotline["retries"].(float64)
	if retries == 0 || r.Verification == nil || r.Verification.Acknowledged != 200-int(retries) {
		t.Errorf("retries %v, verification %+v: want every new text checked and some retries", retries, r.Verification)
	}
	if r.Verification != nil && r.Verification.InboundStored != r.Verification.Acknowledged {
		t.Errorf("%d inbound messages stored for %d acknowledged texts: a retry was stored again",
			r.Verification.InboundStored, r.Verification.Acknowledged)
	}
	if string(r.Raw["baseline"]) != "null" || string(r.Raw["ratio"]) != "null" {
		t.Errorf("without --baseline: baseline %s, ratio %s; want null", r.Raw["baseline"], r.Raw["ratio"])
	}
}

func TestLoadWithBaselineReportsTheRatio(t *testing.T) {
	code, stdout, stderr := runLoadCmd(t, nil, "--baseline", "--plaintext", "--requests", "100", "--concurrency", "4", "--json")
	if code != 0 {
		t.Fatalf("hotline load exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r := parseLoadReport(t, stdout)
	for _, key := range []string{"requests", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors"} {
		if _, ok := r.Baseline[key].(float64); !ok {
			t.Errorf("baseline.%s = %v, want a number", key, r.Baseline[key])
		}
	}
	if r.Ratio == nil || *r.Ratio <= 0 {
		t.Errorf("ratio = %v, want hotline rps / baseline rps", r.Ratio)
	}
	if r.Verified == nil || *r.Verified {
		t.Errorf("verified = %v without --verify, want false", r.Verified)
	}

	// The table for people.
	code, stdout, _ = runLoadCmd(t, nil, "--baseline", "--requests", "20")
	if code != 0 || !strings.Contains(stdout, "ratio hotline/baseline") || !strings.Contains(stdout, "baseline") {
		t.Errorf("hotline load --baseline exited %d and printed:\n%s", code, stdout)
	}
}

// TestLoadVerifyFailsAgainstAServerThatStoresNothing loads the baseline server,
// which acknowledges every webhook and stores nothing, behind a fake of the console
// API's lookup: verification must fail, and the tool exit 1.
func TestLoadVerifyFailsAgainstAServerThatStoresNothing(t *testing.T) {
	const token = "remote-token-0123456789"
	var mu sync.Mutex
	var looked []string
	var srv *httptest.Server
	e := echo.New()
	e.POST(webhooks.InboundPath, func(c echo.Context) error {
		return loadtest.BaselineHandler(srv.URL, []string{token})(c)
	})
	e.POST("/api/v1/login", func(c echo.Context) error {
		var body struct{ Username, Password string }
		if err := c.Bind(&body); err != nil || body.Username != "coordinator" || body.Password != "pw-from-env" {
			return c.JSON(http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "EUNAUTHORIZED", "message": "no"}})
		}
		c.SetCookie(&http.Cookie{Name: loadtest.SessionCookie, Value: "s"})
		return c.JSON(http.StatusOK, map[string]string{"csrf_token": "t"})
	})
	e.POST("/api/v1/messages/lookup", func(c echo.Context) error {
		var body struct {
			SIDs []string `json:"sids"`
		}
		if err := c.Bind(&body); err != nil || c.Request().Header.Get("X-CSRF-Token") != "t" {
			return c.NoContent(http.StatusBadRequest)
		}
		mu.Lock()
		looked = append(looked, body.SIDs...)
		mu.Unlock()
		return c.JSON(http.StatusOK, map[string]any{"counts": map[string]int{}}) // stored nowhere
	})
	srv = httptest.NewServer(e)
	defer srv.Close()

	environ := []string{"HOTLINE_PASSWORD=pw-from-env"}
	code, stdout, stderr := runLoadCmd(t, environ, "--url", srv.URL, "--auth-token", token, "--requests", "30",
		"--concurrency", "3", "--verify", "--username", "coordinator", "--json")
	if code != 1 {
		t.Errorf("hotline load --verify against a server that stores nothing exited %d, want 1\nstderr: %s", code, stderr)
	}
	r := parseLoadReport(t, stdout)
	if r.Verified == nil || *r.Verified {
		t.Errorf("verified = %v, want false", r.Verified)
	}
	if r.Verification == nil || r.Verification.Missing != r.Verification.Acknowledged || r.Verification.Acknowledged == 0 {
		t.Errorf("verification %+v, want every acknowledged SID missing", r.Verification)
	}
	if len(looked) == 0 {
		t.Errorf("the lookup endpoint was never called")
	}
	if !strings.Contains(stderr, "verification failed") {
		t.Errorf("stderr %q does not say verification failed", stderr)
	}

	// Without the password the tool says what to set.
	code, _, stderr = runLoadCmd(t, nil, "--url", srv.URL, "--auth-token", token, "--requests", "1", "--verify")
	if code == 0 || !strings.Contains(stderr, "HOTLINE_PASSWORD") {
		t.Errorf("--verify --url without HOTLINE_PASSWORD exited %d: %s", code, stderr)
	}
}

// TestLoadVerifiesARunningHotlineThroughTheConsoleAPI loads a hotline started by
// serve, as an operator would with --url, and verifies through the real
// POST /api/v1/messages/lookup as the first coordinator.
func TestLoadVerifiesARunningHotlineThroughTheConsoleAPI(t *testing.T) {
	base, _, _ := startServe(t, t.TempDir())
	environ := []string{"HOTLINE_PASSWORD=correct horse battery staple", "HOTLINE_TWILIO__AUTH_TOKEN=" + testAuthToken}
	code, stdout, stderr := runLoadCmd(t, environ, "--url", base, "--requests", "150", "--concurrency", "6",
		"--retry-share", "0.2", "--verify", "--json")
	if code != 0 {
		t.Fatalf("hotline load --url --verify exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r := parseLoadReport(t, stdout)
	if r.Verified == nil || !*r.Verified || r.Verification == nil || r.Verification.Acknowledged == 0 {
		t.Errorf("verified %v, verification %+v; want every acknowledged text found", r.Verified, r.Verification)
	}
	if r.Verification != nil && r.Verification.InboundStored != -1 {
		t.Errorf("inbound_stored = %d through the API, want -1 (unknown)", r.Verification.InboundStored)
	}

	code, _, stderr = runLoadCmd(t, []string{"HOTLINE_PASSWORD=wrong password"}, "--url", base, "--auth-token", testAuthToken,
		"--requests", "1", "--verify")
	if code != 1 || !strings.Contains(stderr, "log in") {
		t.Errorf("--verify with a wrong password exited %d: %s", code, stderr)
	}
}

func TestLoadUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--min-ratio", "0.5"},
		{"--retry-share", "1"},
		{"--concurrency", "0"},
		{"--public-url", "https://example.org"},
		{"--url", "http://127.0.0.1:1"}, // no auth token
		{"--url", "http://127.0.0.1:1", "--auth-token", "x", "--data-dir", "d"},
		{"--url", "http://127.0.0.1:1", "--auth-token", "x", "--plaintext"},
		{"extra"},
	} {
		if code, _, stderr := runLoadCmd(t, nil, args...); code != 2 {
			t.Errorf("hotline load %v exited %d, want 2 (usage)\n%s", args, code, stderr)
		}
	}
}
