package loadtest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/webhooks"
)

const testToken = "load-test-token-0123456789abcdef"

func startBaseline(t *testing.T) *Baseline {
	t.Helper()
	b, err := StartBaseline(testToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close the baseline: %v", err)
		}
	})
	return b
}

func TestRunAgainstTheBaseline(t *testing.T) {
	b := startBaseline(t)
	res, err := Run(context.Background(), Options{URL: b.URL(), AuthToken: testToken, Concurrency: 8, Requests: 200,
		RetryShare: 0.2, KeepSIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Requests, int64(200); got != want {
		t.Errorf("Requests = %d, want %d", got, want)
	}
	if res.Acked != res.Requests || res.ErrorCount() != 0 {
		t.Errorf("acked %d of %d, errors %v; want every request acknowledged", res.Acked, res.Requests, res.Errors)
	}
	if res.Retries < 10 || res.Retries > 70 {
		t.Errorf("Retries = %d, want about 20%% of 200", res.Retries)
	}
	if got, want := int64(len(res.SIDs)), res.Acked-res.Retries; got != want {
		t.Errorf("kept %d SIDs, want %d (acknowledged minus retries)", got, want)
	}
	if len(uniq(res.SIDs)) != len(res.SIDs) {
		t.Errorf("SIDs repeat: a retry was counted as a new text")
	}
	for _, sid := range res.SIDs {
		if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(sid) {
			t.Fatalf("SID %q is not SM and 32 hex digits", sid)
		}
	}
	if res.Latency.Count() != uint64(res.Acked) || res.RPS() <= 0 {
		t.Errorf("latency samples %d, rps %v; want one sample per acknowledged request", res.Latency.Count(), res.RPS())
	}
}

func TestRunCountsRefusalsByStatus(t *testing.T) {
	b := startBaseline(t)
	res, err := Run(context.Background(), Options{URL: b.URL(), AuthToken: "the-wrong-token", Concurrency: 4, Requests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != 0 || res.Errors["403"] != 20 {
		t.Errorf("acked %d, errors %v; want 20 × 403 for a wrong token", res.Acked, res.Errors)
	}
	if res.RPS() != 0 {
		t.Errorf("RPS = %v with nothing acknowledged, want 0", res.RPS())
	}

	res, err = Run(context.Background(), Options{URL: "http://127.0.0.1:1", AuthToken: testToken, Concurrency: 2, Requests: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["transport"] != 4 {
		t.Errorf("errors %v against a closed port, want 4 × transport", res.Errors)
	}
}

func TestRunSignsForThePublicURL(t *testing.T) {
	// A server behind a proxy checks signatures against its public URL, not the
	// address the tool connects to.
	public := "https://hotline.example.org"
	srv := httptest.NewServer(echoWith(BaselineHandler(public, []string{testToken})))
	defer srv.Close()
	res, err := Run(context.Background(), Options{URL: srv.URL, PublicURL: public + "/", AuthToken: testToken, Requests: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != 5 {
		t.Errorf("acked %d of 5 with --public-url, errors %v", res.Acked, res.Errors)
	}
	res, _ = Run(context.Background(), Options{URL: srv.URL, AuthToken: testToken, Requests: 5})
	if res.Errors["403"] != 5 {
		t.Errorf("signing for the connect URL: errors %v, want 5 × 403", res.Errors)
	}
}

func TestRunOpenLoopKeepsTheSchedule(t *testing.T) {
	b := startBaseline(t)
	start := time.Now()
	res, err := Run(context.Background(), Options{URL: b.URL(), AuthToken: testToken, Concurrency: 4, Requests: 50, Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	// Request 49 is due at 49/200 s = 245 ms.
	if took := time.Since(start); took < 245*time.Millisecond {
		t.Errorf("50 requests at 200/s took %v, want at least 245ms", took)
	}
	if res.Acked != 50 {
		t.Errorf("acked %d of 50", res.Acked)
	}
}

func TestRunStopsAtTheDurationAndOnCancel(t *testing.T) {
	b := startBaseline(t)
	start := time.Now()
	res, err := Run(context.Background(), Options{URL: b.URL(), AuthToken: testToken, Concurrency: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second || res.Acked == 0 {
		t.Errorf("a 200ms run took %v and acknowledged %d", took, res.Acked)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := Run(ctx, Options{URL: b.URL(), AuthToken: testToken, Rate: 1, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a cancelled run took %v to return", took)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, o := range []Options{
		{AuthToken: testToken},
		{URL: "http://127.0.0.1:1"},
		{URL: "http://127.0.0.1:1", AuthToken: testToken, RetryShare: 1},
		{URL: "http://127.0.0.1:1", AuthToken: testToken, Rate: -1},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) succeeded, want an error", o)
		}
	}
}

func TestGeneratedTextsAreWhatTwilioSends(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kinds := map[string]int{}
	for i := range 20000 {
		m := newMessage(r, 50, 0.01)
		body := m.text()
		switch {
		case m.body < 0:
			kinds["keyword"]++
		case utf8.RuneCountInString(body) > 160:
			kinds["long"]++
		default:
			kinds["short"]++
		}
		if i >= 1000 {
			continue // the distribution needs many texts; the checks below, a thousand
		}
		f := m.form(DefaultAccountSID)
		if f.Get("Body") != body || f.Get("MessageSid") != m.sid {
			t.Fatalf("form %v does not carry the text", f)
		}
		if n := utf8.RuneCountInString(body); n == 0 || n > hotline.MaxBodyRunes || !utf8.ValidString(body) {
			t.Fatalf("body of %d characters, want 1 to %d of UTF-8", n, hotline.MaxBodyRunes)
		}
		if f.Get("NumSegments") != strconv.Itoa(hotline.Segments(body)) {
			t.Fatalf("NumSegments %s for %q", f.Get("NumSegments"), body)
		}
		if _, err := hotline.NormalizeAddress(f.Get("From"), ""); err != nil {
			t.Fatalf("From %q is not a phone number", f.Get("From"))
		}
		if m.media && (f.Get("NumMedia") != "1" || f.Get("MediaUrl0") == "") {
			t.Fatalf("a text with an image has NumMedia %q, MediaUrl0 %q", f.Get("NumMedia"), f.Get("MediaUrl0"))
		}
		if _, err := url.ParseQuery(f.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	// 1% keywords, about 10% long, the rest short.
	if kinds["keyword"] < 100 || kinds["keyword"] > 300 || kinds["long"] < 1600 || kinds["long"] > 2400 {
		t.Errorf("of 20,000 texts: %v, want about 200 keywords and 2,000 long ones", kinds)
	}
	if n := utf8.RuneCountInString(longBodies[0]); n != hotline.MaxBodyRunes {
		t.Errorf("the longest text has %d characters, want %d", n, hotline.MaxBodyRunes)
	}
	if got := texterNumber(12345); got != "+1201555"+"2345" {
		t.Errorf("texterNumber(12345) = %q", got)
	}
	numbers := map[string]bool{}
	for i := range 30000 {
		numbers[texterNumber(i)] = true
	}
	if len(numbers) != 30000 {
		t.Errorf("30,000 texters have %d distinct numbers", len(numbers))
	}
}

// fakeHotline is a hotline as the console API shows it: it acknowledges webhooks
// the way the baseline does, remembers each SID it "stores" (dropping those that
// drop says to), and answers the lookup endpoint behind a login.
type fakeHotline struct {
	mu      sync.Mutex
	stored  map[string]int
	drop    func(sid string) bool
	lookups int
	maxSIDs int
}

const fakeCSRF = "csrf-123"

func (f *fakeHotline) echo(t *testing.T, publicURL func() string) *echo.Echo {
	e := echo.New()
	e.POST(webhooks.InboundPath, func(c echo.Context) error {
		if err := BaselineHandler(publicURL(), []string{testToken})(c); err != nil || c.Response().Status != http.StatusOK {
			return err
		}
		sid := c.Request().PostForm.Get("MessageSid")
		f.mu.Lock()
		defer f.mu.Unlock()
		if (f.drop == nil || !f.drop(sid)) && f.stored[sid] == 0 {
			f.stored[sid]++
		}
		return nil
	})
	e.POST("/api/v1/login", func(c echo.Context) error {
		var body struct{ Username, Password string }
		if err := c.Bind(&body); err != nil || body.Username != "coord" || body.Password != "s3cret" {
			return c.JSON(http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "EUNAUTHORIZED", "message": "Wrong username or password."}})
		}
		c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "session-1", HttpOnly: true, Secure: true})
		return c.JSON(http.StatusOK, map[string]any{"csrf_token": fakeCSRF, "user": map[string]string{"username": body.Username}})
	})
	e.POST("/api/v1/messages/lookup", func(c echo.Context) error {
		if ck, err := c.Cookie(SessionCookie); err != nil || ck.Value != "session-1" || c.Request().Header.Get("X-CSRF-Token") != fakeCSRF {
			return c.JSON(http.StatusForbidden, map[string]any{"error": map[string]string{"code": "EFORBIDDEN", "message": "CSRF"}})
		}
		var body struct {
			SIDs []string `json:"sids"`
		}
		if err := c.Bind(&body); err != nil || len(body.SIDs) > LookupBatch {
			return c.JSON(http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "EINVALID", "message": "at most 1000 sids"}})
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.lookups++
		f.maxSIDs = max(f.maxSIDs, len(body.SIDs))
		counts := map[string]int{}
		for _, sid := range body.SIDs {
			counts[sid] = f.stored[sid]
		}
		return c.JSON(http.StatusOK, map[string]any{"counts": counts})
	})
	return e
}

// startFakeHotline serves a fakeHotline on a test server.
func startFakeHotline(t *testing.T, drop func(string) bool) (*fakeHotline, string) {
	f := &fakeHotline{stored: map[string]int{}, drop: drop}
	var srv *httptest.Server
	srv = httptest.NewServer(f.echo(t, func() string { return srv.URL }))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestLookupVerifiesThroughTheConsoleAPI(t *testing.T) {
	f, base := startFakeHotline(t, nil)
	res, err := Run(context.Background(), Options{URL: base, AuthToken: testToken, Concurrency: 8, Requests: 2500, RetryShare: 0.1, KeepSIDs: true})
	if err != nil || res.Acked != 2500 {
		t.Fatalf("run: %v, acked %d, errors %v", err, res.Acked, res.Errors)
	}
	counts, err := Lookup{URL: base, Username: "coord", Password: "s3cret"}.Counts(context.Background(), res.SIDs)
	if err != nil {
		t.Fatal(err)
	}
	if v := VerifyCounts(res.SIDs, counts); !v.OK() || v.Acknowledged != len(res.SIDs) {
		t.Errorf("verification %+v, want OK for %d SIDs", v, len(res.SIDs))
	}
	if f.maxSIDs > LookupBatch || f.lookups != (len(res.SIDs)+LookupBatch-1)/LookupBatch {
		t.Errorf("%d lookups of up to %d SIDs for %d SIDs, want batches of at most %d", f.lookups, f.maxSIDs, len(res.SIDs), LookupBatch)
	}

	if _, err := (Lookup{URL: base, Username: "coord", Password: "wrong"}).Counts(context.Background(), res.SIDs); err == nil {
		t.Errorf("Counts with a wrong password succeeded")
	}
}

func TestVerifyFailsWhenAnAcknowledgedTextIsMissing(t *testing.T) {
	var dropped string
	var once sync.Once
	_, base := startFakeHotline(t, func(sid string) bool {
		drop := false
		once.Do(func() { dropped, drop = sid, true })
		return drop
	})
	res, err := Run(context.Background(), Options{URL: base, AuthToken: testToken, Concurrency: 4, Requests: 100, KeepSIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := Lookup{URL: base, Username: "coord", Password: "s3cret"}.Counts(context.Background(), res.SIDs)
	if err != nil {
		t.Fatal(err)
	}
	v := VerifyCounts(res.SIDs, counts)
	if v.OK() || v.Missing != 1 || !slices.Equal(v.Examples, []string{dropped}) {
		t.Errorf("verification %+v, want one missing SID, %s", v, dropped)
	}
}

func TestVerifyCounts(t *testing.T) {
	v := VerifyCounts([]string{"SMa", "SMb", "SMc", "SMa", "SMd"}, map[string]int{"SMa": 1, "SMb": 2, "SMd": 1, "SMz": 5})
	if v.Acknowledged != 4 || v.Missing != 1 || v.Duplicated != 1 || v.OK() {
		t.Errorf("VerifyCounts = %+v, want 4 acknowledged, SMc missing, SMb duplicated", v)
	}
	if !slices.Equal(v.Examples, []string{"SMb", "SMc"}) {
		t.Errorf("Examples = %v, want [SMb SMc]", v.Examples)
	}
	if v := VerifyCounts(nil, nil); !v.OK() {
		t.Errorf("nothing acknowledged, nothing to miss: %+v", v)
	}
}

func echoWith(h echo.HandlerFunc) *echo.Echo {
	e := echo.New()
	e.POST(webhooks.InboundPath, h)
	return e
}
