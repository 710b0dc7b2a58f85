package main

// Browser tests: the real server (serve, on 127.0.0.1:0, with the simulator) driven
// by a real headless Chromium through the DevTools protocol (chromedp). They are
// ordinary tests, named TestBrowser… so that `go test -run Browser ./...` runs them
// alone. Without a browser they skip, saying so; with CI=true they fail instead.
// On failure each open page's screenshot is written to $TEST_ARTIFACTS, else to
// cmd/hotline/browser-failures, and its path logged.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hotlinehq/hotline/hotline"
)

const browserPassword = "correct horse battery staple"

// findBrowser returns $envVar when set, else the first of names on the PATH, or "".
func findBrowser(envVar string, names ...string) string {
	if p := os.Getenv(envVar); p != "" {
		return p
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireBrowser returns the browser findBrowser finds, or skips the test with a
// message naming where it looked and how to install one (fails it under CI=true).
func requireBrowser(t *testing.T, what, install, envVar string, names ...string) string {
	t.Helper()
	p := findBrowser(envVar, names...)
	if p == "" {
		msg := fmt.Sprintf("no %s found (looked for $%s, %s): install it (%s) to run the browser tests",
			what, envVar, strings.Join(names, ", "), install)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	return p
}

// needBrowser returns the Chromium to run, or skips the test (fails it under CI).
func needBrowser(t *testing.T) string {
	t.Helper()
	return requireBrowser(t, "Chromium", "apt-get install -y chromium", "HOTLINE_CHROMIUM",
		"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell")
}

// artifactsDir is where failure screenshots go.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("TEST_ARTIFACTS")
	if dir == "" {
		dir = "browser-failures"
	}
	dir, _ = filepath.Abs(filepath.Join(dir, t.Name()))
	return dir
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t       *testing.T
	ctx     context.Context // the first tab
	mu      sync.Mutex
	tabs    map[string]context.Context
	console []string // what the pages logged
}

// newBrowser starts Chromium for the test; it is closed when the test ends, after
// a screenshot of every tab if the test failed.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	path := needBrowser(t)
	profile, err := os.MkdirTemp("", "hotline-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "en-US"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(func(string, ...any) {}))
	b := &browser{t: t, ctx: ctx, tabs: map[string]context.Context{"main": ctx}}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshots()
			b.mu.Lock()
			for _, m := range b.console {
				t.Logf("browser console: %s", m)
			}
			b.mu.Unlock()
		}
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("starting %s: %v", path, err)
	}
	b.watchConsole(ctx, "main")
	return b
}

// tab opens another tab, with its own cookies (another person at another computer).
func (b *browser) tab(name string) context.Context {
	ctx, _ := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.tabs[name] = ctx
	b.mu.Unlock()
	b.watchConsole(ctx, name)
	return ctx
}

// watchConsole keeps what the tab logs, to show when the test fails.
func (b *browser) watchConsole(ctx context.Context, tab string) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s %s: %s", tab, m.Type, m.Text))
			b.mu.Unlock()
		}
	}()
}

// screenshots writes a full-page screenshot of every tab.
func (b *browser) screenshots() {
	dir := artifactsDir(b.t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, ctx := range b.tabs {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			b.t.Logf("screenshot of tab %s failed: %v", name, err)
			continue
		}
		file := filepath.Join(dir, name+".png")
		if err := os.WriteFile(file, png, 0o644); err == nil {
			b.t.Logf("screenshot of tab %s: %s", name, file)
		}
	}
}

// run runs actions on a tab, failing the test (with what was being done) on error.
func (b *browser) run(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func (b *browser) eval(ctx context.Context, expr string, out any) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[json.RawMessage]("(async () => JSON.stringify(await ("+expr+")))()", chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		b.t.Fatalf("evaluating %s: %v in %s", expr, err, raw)
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		b.t.Fatalf("evaluating %s: %v in %s", expr, err, text)
	}
}

// waitJS waits until the expression is true.
func (b *browser) waitJS(ctx context.Context, what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %s is still false (%v)", what, expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setValue sets a field's value as if typed (input and change events fire).
func (b *browser) setValue(ctx context.Context, selector, value string) {
	b.t.Helper()
	var ok bool
	b.eval(ctx, `(() => { const el = document.querySelector(`+jsString(selector)+`); if (!el) return false;
		el.value = `+jsString(value)+`; el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, &ok)
	if !ok {
		b.t.Fatalf("no %s to set", selector)
	}
}

// press presses one key on the focused element the way a keyboard does: one
// keydown that carries the text (so a handler that cancels it cancels the
// character too), then a keyup. key is "Enter" or a printable character.
func (b *browser) press(ctx context.Context, key string) {
	b.t.Helper()
	down := input.DispatchKeyEventParams{Type: kb.KeyDown, Key: key, Text: key}
	switch key {
	case "Enter":
		down.Code, down.Text, down.WindowsVirtualKeyCode, down.NativeVirtualKeyCode = "Enter", "\r", 13, 13
	case "/":
		down.Code, down.WindowsVirtualKeyCode, down.NativeVirtualKeyCode = "Slash", 191, 191
	}
	up := down
	up.Type, up.Text = kb.KeyUp, ""
	b.run(ctx, "pressing "+key, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, p := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	}))
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// apiClient is a signed-in API client, for setting things up.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func signIn(t *testing.T, base, username string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.call("POST", "/api/v1/login", map[string]string{"username": username, "password": browserPassword}, &out)
	c.csrf = out.CSRFToken
	return c
}

func (c *apiClient) call(method, path string, body, out any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// textHotline texts the hotline through the simulator and returns the conversation.
func textHotline(t *testing.T, base, from, body string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"from": from, "body": body})
	resp, err := http.Post(base+"/simulator/messages", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /simulator/messages = %d, %v", resp.StatusCode, err)
	}
	return out.ConversationID
}

// phone is what a simulated phone receives, from GET /simulator/events.
type phone struct {
	mu     sync.Mutex
	events []struct{ Type, Direction, Body, Status string }
	cancel context.CancelFunc
}

func watchPhone(t *testing.T, base, number string) *phone {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/simulator/events?number="+number, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET /simulator/events: %v", err)
	}
	p := &phone{cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev struct{ Type, Direction, Body, Status string }
			if json.Unmarshal([]byte(data), &ev) == nil {
				p.mu.Lock()
				p.events = append(p.events, ev)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// received reports whether the phone got a text with the body (delivered, when
// delivered is set).
func (p *phone) received(body string, delivered bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	got := false
	for _, ev := range p.events {
		if ev.Body == body && ev.Direction == "to_phone" {
			got = true
		}
	}
	return got
}

// sawText reports whether any event of the phone holds s.
func (p *phone) sawText(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range p.events {
		if strings.Contains(ev.Body, s) {
			return true
		}
	}
	return false
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startConsole runs the real server in pull mode with a responder (ana, whose
// display name holds HTML) and a canned response, and returns its URL and the
// coordinator's API client.
func startConsole(t *testing.T) (base string, admin *apiClient, ana string) {
	t.Helper()
	// Pull mode: the shift below takes texts from the queue (with the default, offer,
	// the router would offer each to Ana as soon as she is available).
	return startConsoleMode(t, "pull")
}

// startConsoleMode is startConsole with routing.mode set to mode.
func startConsoleMode(t *testing.T, mode string) (base string, admin *apiClient, ana string) {
	t.Helper()
	base, _, _ = startServe(t, t.TempDir(), "HOTLINE_ADMIN__PASSWORD="+browserPassword, "HOTLINE_ROUTING__MODE="+mode)
	admin = signIn(t, base, "admin")
	var me struct{ User struct{ ID string } }
	admin.call("GET", "/api/v1/me", nil, &me)
	admin.call("PATCH", "/api/v1/users/"+me.User.ID, map[string]any{"display_name": `Cy <b>Coordinator</b>`}, nil)
	ana = `Ana <img src=x onerror="window.__pwned=1"> Responder`
	admin.call("POST", "/api/v1/users", map[string]any{"username": "ana", "password": browserPassword, "role": "responder",
		"display_name": ana, "languages": []string{"en", "es"}, "capacity": 3}, nil)
	admin.call("POST", "/api/v1/canned-responses", map[string]any{"title": "Safety check",
		"body": "Hi, I am {{responder}}. Are you safe right now, {{handle}}?"}, nil)
	return base, admin, ana
}

// signInAs signs in through the sign-in page and waits for the console to start.
func (b *browser) signInAs(ctx context.Context, base, username string) {
	b.t.Helper()
	b.run(ctx, "opening the console",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")))
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	if !strings.HasSuffix(url, "/login?next=%2F") {
		b.t.Errorf("signed out, / went to %s, want the sign-in page", url)
	}
	b.run(ctx, "signing in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("#login-submit")))
	b.waitJS(ctx, "the sign-in error", `document.querySelector('#login-error').textContent.includes('Wrong username, password or code')`)
	b.setValue(ctx, "#password", "")
	b.run(ctx, "signing in",
		chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
		chromedp.Click(chromedp.CSS("#login-submit")))
	b.waitJS(ctx, "the console to start", `document.body.dataset.ready === 'true'`)
	b.waitJS(ctx, "the live connection", `document.querySelector('#connection').dataset.state === 'live'`)
}

// TestBrowserResponderShift is a responder's shift in a real browser: sign in, go
// available, a text appears in the queue live, accept, reply (the texter's phone
// gets it, delivered), a canned response, a note (never sent), a second text live in
// the open thread, hostile content shown as text, and close with a disposition.
func TestBrowserResponderShift(t *testing.T) {
	needBrowser(t)
	base, admin, anaName := startConsole(t)
	b := newBrowser(t, 1280, 800) // after the server: its failure screenshots come first
	ctx := b.ctx
	b.signInAs(ctx, base, "ana")

	// The display name is text, in the server's template.
	var who string
	b.eval(ctx, `document.querySelector('.who-name').textContent`, &who)
	if who != anaName {
		t.Errorf("the top bar shows %q, want the display name as text %q", who, anaName)
	}

	// Go available.
	b.run(ctx, "going available", chromedp.Click(chromedp.CSS("#availability")))
	b.waitJS(ctx, "the switch to show available", `document.querySelector('#availability').getAttribute('aria-checked') === 'true'`)
	var me struct{ User struct{ Availability string } }
	ana := signIn(t, base, "ana")
	ana.call("GET", "/api/v1/me", nil, &me)
	if me.User.Availability != "available" {
		t.Errorf("availability = %q after the switch, want available", me.User.Availability)
	}

	// A text arrives: it shows in the queue without a reload.
	const number = "+15555550101"
	texter := watchPhone(t, base, number)
	conv := textHotline(t, base, number, "hello, is anyone there? they took my passport")
	sel := fmt.Sprintf(`#queue-list .conv[data-id=%q]`, conv)
	b.waitJS(ctx, "the text in the queue", `document.querySelector(`+jsString(sel)+`)`)
	var row string
	b.eval(ctx, `document.querySelector(`+jsString(sel)+`).textContent`, &row)
	if strings.Contains(row, "hello") || !strings.Contains(row, "took my passport") || !strings.Contains(row, "Urgent") {
		t.Errorf("the queue row reads %q: want the urgent triage term and no body", row)
	}

	// Accept it.
	b.run(ctx, "opening the queued conversation", chromedp.Click(chromedp.CSS(sel)))
	b.waitJS(ctx, "the accept button", `!document.querySelector('#accept').hidden`)
	b.run(ctx, "accepting", chromedp.Click(chromedp.CSS("#accept")))
	b.waitJS(ctx, "the thread", `[...document.querySelectorAll('#messages .msg.inbound .msg-body')].some(e => e.textContent.includes('is anyone there'))`)
	b.waitJS(ctx, "the conversation in my list", `document.querySelector('#mine-list .conv[data-id="`+conv+`"]')`)

	// Reply with Enter; the texter's phone gets it, and the tick says delivered.
	const reply = "I am here with you. Are you somewhere safe right now?"
	b.run(ctx, "typing a reply", chromedp.Focus(chromedp.CSS("#body")), chromedp.SendKeys(chromedp.CSS("#body"), reply))
	b.press(ctx, "Enter")
	b.waitJS(ctx, "the reply in the thread", `[...document.querySelectorAll('#messages .msg.outbound .msg-body')].some(e => e.textContent === `+jsString(reply)+`)`)
	waitUntil(t, "the simulated phone to receive the reply", func() bool { return texter.received(reply, false) })
	b.waitJS(ctx, "the delivered tick", `[...document.querySelectorAll('#messages .msg.outbound')].some(li => li.querySelector('.msg-body').textContent === `+jsString(reply)+` && li.querySelector('.status').textContent.includes('Delivered'))`)
	var composer string
	b.eval(ctx, `document.querySelector('#body').value`, &composer)
	if composer != "" {
		t.Errorf("the composer holds %q after sending, want it empty", composer)
	}

	// A canned response: "/" opens the picker, Enter inserts it with the
	// placeholders filled in.
	b.run(ctx, "focusing the composer", chromedp.Focus(chromedp.CSS("#body")))
	b.press(ctx, "/")
	b.waitJS(ctx, "the picker", `document.querySelector('#canned-dialog').open && document.querySelector('#canned-list [role=option]')`)
	b.press(ctx, "Enter")
	b.waitJS(ctx, "the inserted text", `!document.querySelector('#canned-dialog').open && document.querySelector('#body').value.startsWith('Hi, I am ')`)
	var handle, inserted string
	b.eval(ctx, `document.querySelector('#thread-title').textContent`, &handle)
	b.eval(ctx, `document.querySelector('#body').value`, &inserted)
	if want := "Hi, I am " + anaName + ". Are you safe right now, " + handle + "?"; inserted != want {
		t.Errorf("canned response inserted %q, want %q", inserted, want)
	}
	b.setValue(ctx, "#body", "")

	// An internal note: in the thread, never on the phone.
	const note = "Texter mentioned a passport: ask about documents next."
	b.run(ctx, "writing a note",
		chromedp.Click(chromedp.CSS(`#composer input[value="note"]`)),
		chromedp.Focus(chromedp.CSS("#body")),
		chromedp.SendKeys(chromedp.CSS("#body"), note))
	b.press(ctx, "Enter")
	b.waitJS(ctx, "the note in the thread", `[...document.querySelectorAll('#messages .msg.note .msg-body')].some(e => e.textContent === `+jsString(note)+`)`)

	// A second text, hostile, arrives live in the open thread and is shown as text.
	long := strings.Repeat("W", 600)
	hostile := `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><b>bold</b> <a href="javascript:alert(1)">tap</a> javascript:alert(1) ` + long
	textHotline(t, base, number, hostile)
	b.waitJS(ctx, "the second text in the open thread", `[...document.querySelectorAll('#messages .msg.inbound .msg-body')].some(e => e.textContent === `+jsString(hostile)+`)`)
	var check struct {
		Injected   int     `json:"injected"`
		Pwned      bool    `json:"pwned"`
		JSLinks    int     `json:"jsLinks"`
		MaxWidth   float64 `json:"maxWidth"`
		Viewport   float64 `json:"viewport"`
		PageScroll float64 `json:"pageScroll"`
		BodyWidth  float64 `json:"bodyWidth"`
	}
	b.eval(ctx, `(() => {
		const msgs = document.querySelector('#messages');
		const body = [...msgs.querySelectorAll('.msg-body')].find(e => e.textContent.includes('javascript:alert'));
		return {
			injected: msgs.querySelectorAll('script, img, b, a').length + document.querySelectorAll('.topbar img:not([alt=""])').length,
			pwned: Boolean(window.__pwned),
			jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
			maxWidth: Math.max(...[...msgs.querySelectorAll('.msg')].map(e => e.getBoundingClientRect().right)),
			viewport: window.innerWidth,
			pageScroll: document.documentElement.scrollWidth,
			bodyWidth: body.getBoundingClientRect().width,
		};
	})()`, &check)
	if check.Injected != 0 || check.Pwned || check.JSLinks != 0 {
		t.Errorf("hostile text: %d injected elements, script ran %v, %d javascript: links; want none", check.Injected, check.Pwned, check.JSLinks)
	}
	if check.MaxWidth > check.Viewport || check.PageScroll > check.Viewport || check.BodyWidth > check.Viewport {
		t.Errorf("the long word breaks the layout: message right edge %.0f, page width %.0f, body %.0f, viewport %.0f",
			check.MaxWidth, check.PageScroll, check.BodyWidth, check.Viewport)
	}

	// The transfer dialog shows the coordinator's display name as text.
	b.run(ctx, "opening the transfer dialog", chromedp.Click(chromedp.CSS("#transfer")))
	b.waitJS(ctx, "the transfer dialog", `document.querySelector('#transfer-dialog').open`)
	var names []string
	b.eval(ctx, `[...document.querySelectorAll('#transfer-targets .choice span:not(.choice-note)')].map(e => e.textContent)`, &names)
	if !strings.Contains(strings.Join(names, "|"), "Cy <b>Coordinator</b>") {
		t.Errorf("transfer targets %q, want the coordinator's name as text", names)
	}
	var bold int
	b.eval(ctx, `document.querySelectorAll('#transfer-dialog b').length`, &bold)
	if bold != 0 {
		t.Error("a display name became HTML in the transfer dialog")
	}
	b.run(ctx, "cancelling the transfer", chromedp.Click(chromedp.CSS("#transfer-dialog button.cancel")))

	// Close with a disposition and a tag.
	b.run(ctx, "opening the close dialog", chromedp.Click(chromedp.CSS("#close")))
	b.waitJS(ctx, "the close dialog", `document.querySelector('#close-dialog').open`)
	b.setValue(ctx, "#disposition", "Referred to services")
	b.run(ctx, "closing",
		chromedp.Click(chromedp.CSS(`#tag-choices input[value="labor trafficking"]`)),
		chromedp.Click(chromedp.CSS(`#close-form button[type="submit"]`)))
	b.waitJS(ctx, "the closed banner", `!document.querySelector('#closed-banner').hidden && !document.querySelector('#mine-list .conv')`)
	var closed struct {
		Conversation struct {
			State, Disposition string
			Tags               []string
		}
	}
	admin.call("GET", "/api/v1/conversations/"+conv, nil, &closed)
	if c := closed.Conversation; c.State != "closed" || c.Disposition != "Referred to services" || strings.Join(c.Tags, ",") != "labor trafficking" {
		t.Errorf("after closing: %+v", c)
	}
	if texter.sawText(note) || texter.sawText("Texter mentioned") {
		t.Error("the texter's phone received the internal note")
	}
}

// TestBrowserSegmentCounterMatchesGo checks that the composer's segment counter
// (segments.js) agrees with hotline.CountSegments on a table of texts.
func TestBrowserSegmentCounterMatchesGo(t *testing.T) {
	needBrowser(t)
	base, _, _ := startServe(t, t.TempDir(), "HOTLINE_ADMIN__PASSWORD="+browserPassword)
	b := newBrowser(t, 1024, 700)
	texts := []string{
		"", "hello", strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("a", 306), strings.Repeat("a", 307),
		"price: 5€", strings.Repeat("€", 80), strings.Repeat("€", 81), "[brackets] {braces} ~tilde^ |pipe| \\",
		"héllo wörld, Straße, Ça va? ¿Qué? ¡Sí! ñ ü à", "ç is not GSM", "line\nbreak\r\nand \f", "Привет",
		strings.Repeat("ж", 70), strings.Repeat("ж", 71), "🙂", strings.Repeat("🙂", 35), strings.Repeat("🙂", 36),
		strings.Repeat("a", 159) + "🙂", "ğ", "`backtick`", "tab\there", "«quotes» and “curly” and ‘single’", "日本語のテキスト",
		strings.Repeat("x", 1600), strings.Repeat("é", 1600), "👩‍👩‍👧‍👦 family",
	}
	in, _ := json.Marshal(texts)
	b.run(b.ctx, "opening a page of the console", chromedp.Navigate(base+"/login"), chromedp.WaitReady(chromedp.CSS("body")))
	var got []struct {
		Encoding string `json:"encoding"`
		Units    int    `json:"units"`
		Segments int    `json:"segments"`
	}
	b.eval(b.ctx, `import('/assets/js/segments.js').then(m => `+string(in)+`.map(s => m.countSegments(s)))`, &got)
	if len(got) != len(texts) {
		t.Fatalf("got %d answers for %d texts", len(got), len(texts))
	}
	for i, s := range texts {
		want := hotline.CountSegments(s)
		if got[i].Encoding != string(want.Encoding) || got[i].Units != want.Units || got[i].Segments != want.Segments {
			t.Errorf("text %d (%.30q): JavaScript %+v, Go %+v", i, s, got[i], want)
		}
	}
}

// TestBrowserTakeNextAndOffers: in pull mode "Take next" opens the top of the
// queue; in offer mode the console shows the offer with its countdown, and
// accepting it opens the thread.
func TestBrowserTakeNextAndOffers(t *testing.T) {
	t.Run("pull", func(t *testing.T) {
		needBrowser(t)
		base, _, _ := startConsoleMode(t, "pull")
		b := newBrowser(t, 1280, 800)
		ctx := b.ctx
		b.signInAs(ctx, base, "ana")
		b.run(ctx, "going available", chromedp.Click(chromedp.CSS("#availability")))
		b.waitJS(ctx, "available", `document.querySelector('#availability').getAttribute('aria-checked') === 'true'`)
		conv := textHotline(t, base, "+15555550121", "is someone there")
		b.waitJS(ctx, "the text in the queue", `document.querySelector('#queue-list .conv[data-id="`+conv+`"]')`)
		b.run(ctx, "taking the next", chromedp.Click(chromedp.CSS("#take-next")))
		b.waitJS(ctx, "the thread with its composer", `!document.querySelector('#composer').hidden && document.querySelector('#mine-list .conv[data-id="`+conv+`"]')
			&& [...document.querySelectorAll('#messages .msg.inbound')].some(e => e.textContent.includes('is someone there'))`)
		b.waitJS(ctx, "the queue empty", `!document.querySelector('#queue-list .conv')`)
		b.run(ctx, "taking the next of nobody", chromedp.Click(chromedp.CSS("#take-next")))
		b.waitJS(ctx, "a plain answer", `document.querySelector('#take-next-error').textContent.length > 0`)

		// A second conversation is open; a text in the first counts as new: in its row,
		// in the tab's title, and for screen readers.
		second := textHotline(t, base, "+15555550123", "hello from another texter")
		b.waitJS(ctx, "the second in the queue", `document.querySelector('#queue-list .conv[data-id="`+second+`"]')`)
		b.run(ctx, "taking the second", chromedp.Click(chromedp.CSS("#take-next")))
		b.waitJS(ctx, "the second open", `document.querySelector('#thread-title') && [...document.querySelectorAll('#messages .msg.inbound')].some(e => e.textContent.includes('another texter'))`)
		textHotline(t, base, "+15555550121", "are you still there?")
		b.waitJS(ctx, "the unread count", `document.querySelector('#mine-list .conv[data-id="`+conv+`"] .unread')?.textContent === '1 new'`)
		b.waitJS(ctx, "the title count", `document.title.startsWith('(1) ')`)
		b.waitJS(ctx, "the announcement", `document.querySelector('#announcer').textContent.includes('are you still there?')`)
		b.run(ctx, "opening the first again", chromedp.Click(chromedp.CSS(`#mine-list .conv[data-id="`+conv+`"]`)))
		b.waitJS(ctx, "read", `!document.querySelector('#mine-list .conv[data-id="`+conv+`"] .unread') && !document.title.startsWith('(')`)

		// Transfer the second back to the queue, with a note for whoever takes it.
		b.run(ctx, "opening the second", chromedp.Click(chromedp.CSS(`#mine-list .conv[data-id="`+second+`"]`)))
		b.waitJS(ctx, "the second open", `[...document.querySelectorAll('#messages .msg.inbound')].some(e => e.textContent.includes('another texter'))`)
		b.run(ctx, "opening the transfer dialog", chromedp.Click(chromedp.CSS("#transfer")))
		b.waitJS(ctx, "the transfer dialog", `document.querySelector('#transfer-dialog').open`)
		b.run(ctx, "writing the note", chromedp.Focus(chromedp.CSS("#transfer-note")), chromedp.SendKeys(chromedp.CSS("#transfer-note"), "Asked for a Spanish speaker."),
			chromedp.Click(chromedp.CSS(`#transfer-form button[type="submit"]`)))
		b.waitJS(ctx, "the conversation back in the queue", `!document.querySelector('#transfer-dialog').open && !document.querySelector('#mine-list .conv[data-id="`+second+`"]')
			&& document.querySelector('#queue-list .conv[data-id="`+second+`"]')`)

		// The coordinator, at another computer, sees Ana's conversations under her
		// name, which holds HTML and is long: as text, and within the sidebar.
		ctx = b.tab("coordinator")
		b.signInAs(ctx, base, "admin")
		b.waitJS(ctx, "Ana's conversation", `document.querySelectorAll('#team-list .conv').length === 1 && document.querySelectorAll('#queue-list .conv').length === 1`)
		b.run(ctx, "opening the transferred one", chromedp.Click(chromedp.CSS(`#queue-list .conv[data-id="`+second+`"]`)))
		b.waitJS(ctx, "the transfer note and event", `[...document.querySelectorAll('#messages .msg.note .msg-body')].some(e => e.textContent === 'Asked for a Spanish speaker.')
			&& [...document.querySelectorAll('#messages .msg.system')].some(e => e.textContent.includes('queue') && e.textContent.includes('by Ana'))`)
		var fit struct {
			Overflow float64 `json:"overflow"`
			Injected int     `json:"injected"`
			With     string  `json:"with"`
		}
		b.eval(ctx, `(() => {
			const side = document.querySelector('.sidebar');
			const right = side.getBoundingClientRect().right;
			return {
				overflow: Math.max(side.scrollWidth - side.clientWidth, ...[...side.querySelectorAll('.conv')].map(e => e.getBoundingClientRect().right - right)),
				injected: side.querySelectorAll('img').length,
				with: side.querySelector('#team-list .conv-with').textContent,
			};
		})()`, &fit)
		if fit.Overflow > 0 || fit.Injected != 0 || !strings.Contains(fit.With, "<img src=x") {
			t.Errorf("the coordinator's sidebar: overflows by %.0f px, %d injected elements, reads %q", fit.Overflow, fit.Injected, fit.With)
		}
	})
	t.Run("offer", func(t *testing.T) {
		needBrowser(t)
		base, _, _ := startConsoleMode(t, "offer")
		b := newBrowser(t, 1280, 800)
		ctx := b.ctx
		b.signInAs(ctx, base, "ana")
		var hidden bool
		b.eval(ctx, `document.querySelector('#take-next').hidden`, &hidden)
		if !hidden {
			t.Error("Take next is shown in offer mode")
		}
		b.run(ctx, "going available", chromedp.Click(chromedp.CSS("#availability")))
		b.waitJS(ctx, "available", `document.querySelector('#availability').getAttribute('aria-checked') === 'true'`)
		conv := textHotline(t, base, "+15555550122", "hello? i need help")
		b.waitJS(ctx, "the offer", `!document.querySelector('#offers').hidden && document.querySelector('#offer-list .conv[data-id="`+conv+`"]')`)
		var left string
		b.eval(ctx, `document.querySelector('#offer-list .countdown').textContent`, &left)
		if ok, _ := regexp.MatchString(`^\d+:\d\d$`, left); !ok {
			t.Errorf("the offer's countdown reads %q, want m:ss", left)
		}
		b.run(ctx, "accepting the offer", chromedp.Click(chromedp.CSS("#offer-list button.primary")))
		b.waitJS(ctx, "the thread", `!document.querySelector('#composer').hidden && document.querySelector('#mine-list .conv[data-id="`+conv+`"]') && document.querySelector('#offers').hidden`)
	})
}
