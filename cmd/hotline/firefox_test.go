package main

// The console in Firefox: a responder's shift driven through WebDriver BiDi
// (bidi_test.go) with real mouse and keyboard input, and the layout at a laptop's
// and a tablet's size. Like the Chromium tests they skip without a Firefox and
// fail instead with CI=true.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// needFirefox returns the Firefox to run, or skips the test (fails it under CI).
func needFirefox(t *testing.T) string {
	t.Helper()
	return requireBrowser(t, "Firefox", "apt-get install -y firefox-esr", "HOTLINE_FIREFOX", "firefox-esr", "firefox")
}

// firefoxPrefs keep a test profile quiet and fast (Firefox also applies
// remote.prefs.recommended when BiDi is on) and let the page play sound, to a
// mock audio device (without one, as on a server, an AudioContext never runs).
var firefoxPrefs = map[string]any{
	"app.normandy.enabled":                              false,
	"app.shield.optoutstudies.enabled":                  false,
	"app.update.auto":                                   false,
	"app.update.disabledForTesting":                     true,
	"browser.aboutwelcome.enabled":                      false,
	"browser.newtabpage.activity-stream.feeds.topsites": false,
	"browser.safebrowsing.malware.enabled":              false,
	"browser.safebrowsing.phishing.enabled":             false,
	"browser.sessionstore.resume_from_crash":            false,
	"browser.shell.checkDefaultBrowser":                 false,
	"browser.startup.homepage_override.mstone":          "ignore",
	"browser.tabs.warnOnClose":                          false,
	"datareporting.healthreport.uploadEnabled":          false,
	"datareporting.policy.dataSubmissionEnabled":        false,
	"extensions.update.enabled":                         false,
	"intl.accept_languages":                             "en-US",
	"media.autoplay.block-webaudio":                     false,
	"media.autoplay.default":                            0,
	"media.cubeb.force_mock_context":                    true,
	"messaging-system.rsexperimentloader.enabled":       false,
	"network.captive-portal-service.enabled":            false,
	"network.connectivity-service.enabled":              false,
	"startup.homepage_welcome_url":                      "",
	"toolkit.telemetry.enabled":                         false,
	"toolkit.telemetry.reportingpolicy.firstRun":        false,
}

// newFirefox starts Firefox with a width×height viewport; it is closed when the
// test ends, after a screenshot and the page's log if the test failed.
func newFirefox(t *testing.T, width, height int) *firefox {
	t.Helper()
	path := needFirefox(t)
	profile, err := os.MkdirTemp("", "hotline-firefox-")
	if err != nil {
		t.Fatal(err)
	}
	var prefs strings.Builder
	for k, v := range firefoxPrefs {
		val, _ := json.Marshal(v)
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", k, val)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0",
		"--width", fmt.Sprint(width), "--height", fmt.Sprint(height), "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1")
	output := &firefoxLog{url: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = output, output
	cmd.WaitDelay = 5 * time.Second // if its child processes hold stderr open
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	f := &firefox{t: t, pending: map[int]chan bidiMessage{}}
	t.Cleanup(func() {
		if f.conn != nil {
			if t.Failed() {
				f.screenshot()
				f.mu.Lock()
				for _, m := range f.console {
					t.Logf("firefox console: %s", m)
				}
				f.mu.Unlock()
			}
			_ = f.call("browser.close", struct{}{}, nil) // ends the session and quits
			f.conn.CloseNow()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = os.RemoveAll(profile)
	})
	fail := func(format string, args ...any) {
		t.Fatalf("starting Firefox (%s): %s\n%s", path, fmt.Sprintf(format, args...), output)
	}
	var ws string
	select {
	case ws = <-output.url:
	case <-exited:
		fail("it exited")
	case <-time.After(30 * time.Second):
		fail("no \"WebDriver BiDi listening\" within 30s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, ws+"/session", nil)
	if err != nil {
		fail("connecting to %s/session: %v", ws, err)
	}
	conn.SetReadLimit(64 << 20) // screenshots
	f.conn = conn
	go f.read()
	if err := f.call("session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		fail("%v", err)
	}
	if err := f.call("session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		fail("%v", err)
	}
	var tree struct{ Contexts []struct{ Context string } }
	if err := f.call("browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil || len(tree.Contexts) == 0 {
		fail("no tab: %v", err)
	}
	f.tab = tree.Contexts[0].Context
	f.setViewport(width, height)
	return f
}

// firefoxLog is what Firefox writes to stdout and stderr: it finds where BiDi
// listens and keeps the start, for a failure.
type firefoxLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	url   chan string // gets the websocket's address once
	found bool
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)\n`)

func (l *firefoxLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < 64<<10 {
		l.buf.Write(p)
	}
	if m := bidiListening.FindSubmatch(l.buf.Bytes()); m != nil && !l.found {
		l.found = true
		l.url <- string(m[1])
	}
	return len(p), nil
}

func (l *firefoxLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// signInAs signs in through the sign-in page, first with a wrong password, typing
// with the keyboard, and waits for the console to start.
func (f *firefox) signInAs(base, username string) {
	f.t.Helper()
	f.navigate(base + "/")
	f.waitJS("the sign-in form", `document.querySelector('#login-form')`)
	var url string
	f.eval(`location.href`, &url)
	if !strings.HasSuffix(url, "/login?next=%2F") {
		f.t.Errorf("signed out, / went to %s, want the sign-in page", url)
	}
	f.click("#username")
	f.typeText(username)
	f.click("#password")
	f.typeText("not the password")
	f.press("Enter")
	f.waitJS("the sign-in error", `document.querySelector('#login-error').textContent.includes('Wrong username, password or code')`)
	// The page selects the wrong password and focuses it: typing replaces it.
	f.typeText(browserPassword)
	f.click("#login-submit")
	f.waitJS("the console to start", `document.body?.dataset.ready === 'true'`)
	f.waitJS("the live connection", `document.querySelector('#connection').dataset.state === 'live'`)
}

// checkLayout checks, with a thread open, that the page does not scroll sideways
// and that the queue, the thread and the composer are on screen, not covered.
func (f *firefox) checkLayout(size string) {
	f.t.Helper()
	var l struct {
		Width, Height, PageWidth float64
		Boxes                    map[string][4]float64 // left, top, right, bottom
		Covered                  []string
	}
	f.eval(`(() => {
		const els = {
			queue: document.querySelector('#queue-list').closest('section'),
			thread: document.querySelector('#thread'),
			messages: document.querySelector('#messages'),
			composer: document.querySelector('#composer'),
			field: document.querySelector('#body'),
			send: document.querySelector('#send'),
		};
		const boxes = {}, covered = [];
		for (const [name, el] of Object.entries(els)) {
			const r = el.getBoundingClientRect();
			boxes[name] = [r.left, r.top, r.right, r.bottom];
			const at = document.elementFromPoint((r.left + r.right) / 2, (r.top + Math.min(r.bottom, innerHeight)) / 2);
			if (!at || !(el === at || el.contains(at))) covered.push(name + ' (under ' + (at ? at.tagName + '#' + at.id + '.' + at.className : 'nothing') + ')');
		}
		return {width: innerWidth, height: innerHeight, pageWidth: document.documentElement.scrollWidth, boxes, covered};
	})()`, &l)
	if l.PageWidth > l.Width {
		f.t.Errorf("at %s the page scrolls sideways: %.0f px wide in a %.0f px viewport", size, l.PageWidth, l.Width)
	}
	for name, b := range l.Boxes {
		left, top, right, bottom := b[0], b[1], b[2], b[3]
		whole := name == "composer" || name == "field" || name == "send" // the rest may scroll
		if right-left < 1 || bottom-top < 1 || left < 0 || right > l.Width+0.5 || top < 0 || top >= l.Height || (whole && bottom > l.Height+0.5) {
			f.t.Errorf("at %s (viewport %.0f×%.0f) the %s is not on screen: left %.0f top %.0f right %.0f bottom %.0f",
				size, l.Width, l.Height, name, left, top, right, bottom)
		}
	}
	if len(l.Covered) > 0 {
		f.t.Errorf("at %s something covers the %s", size, strings.Join(l.Covered, ", "))
	}
}

// TestBrowserFirefoxShift is TestBrowserResponderShift in Firefox: sign in, go
// available, a text appears in the queue live, accept, reply with Enter (the
// phone gets it, delivered), a note (never sent), a hostile second text live in the
// open thread shown as text, the layout at 1280×800 and 820×1180, the tab title's
// count for a text in a conversation not open, and close with a disposition.
func TestBrowserFirefoxShift(t *testing.T) {
	needFirefox(t)
	base, admin, anaName := startConsole(t)
	f := newFirefox(t, 1280, 800) // after the server: its failure screenshot comes first
	f.signInAs(base, "ana")

	var who string
	f.eval(`document.querySelector('.who-name').textContent`, &who)
	if who != anaName {
		t.Errorf("the top bar shows %q, want the display name as text %q", who, anaName)
	}

	// Go available.
	f.click("#availability")
	f.waitJS("the switch to show available", `document.querySelector('#availability').getAttribute('aria-checked') === 'true'`)

	// A text arrives: it shows in the queue without a reload.
	const number = "+15555550201"
	texter := watchPhone(t, base, number)
	conv := textHotline(t, base, number, "hello, is anyone there? they took my passport")
	sel := fmt.Sprintf(`#queue-list .conv[data-id=%q]`, conv)
	f.waitJS("the text in the queue", `document.querySelector(`+jsString(sel)+`)`)

	// Accept it.
	f.click(sel)
	f.waitJS("the accept button", `!document.querySelector('#accept').hidden`)
	f.click("#accept")
	f.waitJS("the thread", `[...document.querySelectorAll('#messages .msg.inbound .msg-body')].some(e => e.textContent.includes('is anyone there'))`)
	f.waitJS("the conversation in my list", `document.querySelector('#mine-list .conv[data-id="`+conv+`"]')`)

	// Reply with the Enter key; the texter's phone gets it, and the tick says delivered.
	const reply = "I am here with you. Are you somewhere safe right now?"
	f.click("#body")
	f.typeText(reply)
	f.press("Enter")
	f.waitJS("the reply in the thread", `[...document.querySelectorAll('#messages .msg.outbound .msg-body')].some(e => e.textContent === `+jsString(reply)+`)`)
	waitUntil(t, "the simulated phone to receive the reply", func() bool { return texter.received(reply, false) })
	f.waitJS("the delivered tick", `[...document.querySelectorAll('#messages .msg.outbound')].some(li => li.querySelector('.msg-body').textContent === `+jsString(reply)+` && li.querySelector('.status').textContent.includes('Delivered'))`)
	var composer string
	f.eval(`document.querySelector('#body').value`, &composer)
	if composer != "" {
		t.Errorf("the composer holds %q after sending, want it empty", composer)
	}

	// An internal note: in the thread, never on the phone.
	const note = "Texter mentioned a passport: ask about documents next."
	f.click(`#composer input[value="note"]`)
	f.click("#body")
	f.typeText(note)
	f.press("Enter")
	f.waitJS("the note in the thread", `[...document.querySelectorAll('#messages .msg.note .msg-body')].some(e => e.textContent === `+jsString(note)+`)`)

	// A second text, hostile, arrives live in the open thread and is shown as text.
	hostile := `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><b>bold</b> <a href="javascript:alert(1)">tap</a> javascript:alert(1) ` + strings.Repeat("W", 600)
	textHotline(t, base, number, hostile)
	f.waitJS("the second text in the open thread", `[...document.querySelectorAll('#messages .msg.inbound .msg-body')].some(e => e.textContent === `+jsString(hostile)+`)`)
	var check struct {
		Injected int
		Pwned    bool
		JSLinks  int
		MaxRight float64
		Width    float64
	}
	f.eval(`(() => {
		const msgs = document.querySelector('#messages');
		return {
			injected: msgs.querySelectorAll('script, img, b, a').length + document.querySelectorAll('.topbar img:not([alt=""])').length,
			pwned: Boolean(window.__pwned),
			jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
			maxRight: Math.max(...[...msgs.querySelectorAll('.msg')].map(e => e.getBoundingClientRect().right)),
			width: innerWidth,
		};
	})()`, &check)
	if check.Injected != 0 || check.Pwned || check.JSLinks != 0 {
		t.Errorf("hostile text: %d injected elements, script ran %v, %d javascript: links; want none", check.Injected, check.Pwned, check.JSLinks)
	}
	if check.MaxRight > check.Width {
		t.Errorf("the long word breaks the layout: a message's right edge is at %.0f in a %.0f px viewport", check.MaxRight, check.Width)
	}

	// The layout, with that thread open, at a laptop's and a tablet's size.
	f.checkLayout("1280×800")
	f.setViewport(820, 1180)
	f.checkLayout("820×1180")
	f.setViewport(1280, 800)

	// Another texter's conversation is open; a text in the first counts in the title.
	other := textHotline(t, base, "+15555550202", "hello from another texter")
	otherSel := fmt.Sprintf(`#queue-list .conv[data-id=%q]`, other)
	f.waitJS("the other texter in the queue", `document.querySelector(`+jsString(otherSel)+`)`)
	f.click(otherSel)
	f.waitJS("the other conversation open", `!document.querySelector('#accept').hidden && !document.querySelector('#preview').hidden`)
	var title string
	f.eval(`document.title`, &title)
	if strings.HasPrefix(title, "(") {
		t.Errorf("the title is %q before any new text, want no count", title)
	}
	textHotline(t, base, number, "are you still there?")
	f.waitJS("the unread count", `document.querySelector('#mine-list .conv[data-id="`+conv+`"] .unread')?.textContent === '1 new'`)
	f.waitJS("the title count", `document.title === '(1) ' + `+jsString(title))
	f.click(`#mine-list .conv[data-id="` + conv + `"]`)
	f.waitJS("read", `[...document.querySelectorAll('#messages .msg.inbound')].some(e => e.textContent.includes('are you still there?'))
		&& !document.querySelector('#mine-list .conv[data-id="`+conv+`"] .unread') && document.title === `+jsString(title))

	// Close with a disposition.
	f.click("#close")
	f.waitJS("the close dialog", `document.querySelector('#close-dialog').open`)
	f.eval(`(() => { const s = document.querySelector('#disposition'); s.value = 'Referred to services';
		s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()`, new(string))
	f.click(`#close-form button[type="submit"]`)
	f.waitJS("the closed banner", `!document.querySelector('#closed-banner').hidden && !document.querySelector('#mine-list .conv')`)
	var closed struct {
		Conversation struct{ State, Disposition string }
	}
	admin.call("GET", "/api/v1/conversations/"+conv, nil, &closed)
	if c := closed.Conversation; c.State != "closed" || c.Disposition != "Referred to services" {
		t.Errorf("after closing: %+v", c)
	}
	if texter.sawText(note) || texter.sawText("Texter mentioned") {
		t.Error("the texter's phone received the internal note")
	}
}
