package main

// The new-text sound (shell.js's beep) and the tab title's count, in Chromium and
// in Firefox. Nobody can listen in a test: a script that runs before the page's own
// counts the oscillators the page creates and starts.

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// soundProbe wraps createOscillator and OscillatorNode's start to count their
// calls in window.__sound (and keep the audio context).
const soundProbe = `() => {
	window.__sound = {created: 0, started: 0, context: null};
	const create = BaseAudioContext.prototype.createOscillator;
	BaseAudioContext.prototype.createOscillator = function (...args) {
		window.__sound.created++;
		return create.apply(this, args);
	};
	const start = AudioScheduledSourceNode.prototype.start;
	OscillatorNode.prototype.start = function (...args) {
		window.__sound.started++;
		window.__sound.context = this.context;
		return start.apply(this, args);
	};
}`

// soundPage is a signed-in console in either browser.
type soundPage interface {
	click(selector string)
	waitJS(what, expr string)
	eval(expr string, out any)
}

// chromiumPage is a Chromium tab as a soundPage.
type chromiumPage struct {
	b   *browser
	ctx context.Context
}

func (p chromiumPage) click(selector string) {
	p.b.t.Helper()
	p.b.run(p.ctx, "clicking "+selector, chromedp.Click(chromedp.CSS(selector)))
}

func (p chromiumPage) waitJS(what, expr string) { p.b.t.Helper(); p.b.waitJS(p.ctx, what, expr) }

func (p chromiumPage) eval(expr string, out any) { p.b.t.Helper(); p.b.eval(p.ctx, expr, out) }

// checkNewTextSound: with one of Ana's conversations in the background, each new
// text in it raises the title's count; it makes a sound only while the sound
// button is on.
func checkNewTextSound(t *testing.T, p soundPage, base string) {
	t.Helper()
	var probed bool
	p.eval(`Boolean(window.__sound)`, &probed)
	if !probed {
		t.Fatal("the sound probe did not run before the page")
	}
	p.click("#availability")
	p.waitJS("available", `document.querySelector('#availability').getAttribute('aria-checked') === 'true'`)
	p.waitJS("the sound off, at first", `document.querySelector('#sound').getAttribute('aria-pressed') === 'false'`)

	// Ana accepts one texter, then opens another waiting in the queue.
	const number = "+15555550301"
	first := textHotline(t, base, number, "hello, can someone talk?")
	p.waitJS("the first texter in the queue", `document.querySelector('#queue-list .conv[data-id="`+first+`"]')`)
	p.click(`#queue-list .conv[data-id="` + first + `"]`)
	p.waitJS("the accept button", `!document.querySelector('#accept').hidden`)
	p.click("#accept")
	p.waitJS("the first accepted", `document.querySelector('#mine-list .conv[data-id="`+first+`"]')`)
	second := textHotline(t, base, "+15555550302", "hi, i need to ask something")
	p.waitJS("the second texter in the queue", `document.querySelector('#queue-list .conv[data-id="`+second+`"]')`)
	p.click(`#queue-list .conv[data-id="` + second + `"]`)
	p.waitJS("the second open", `!document.querySelector('#accept').hidden`)
	var title string
	p.eval(`document.title`, &title)

	type sound struct{ Created, Started int }
	// newText texts the first conversation and waits for the title to count n.
	newText := func(n int, body string) sound {
		t.Helper()
		p.eval(`(() => { window.__sound.created = window.__sound.started = 0; return true; })()`, new(bool))
		textHotline(t, base, number, body)
		// The page beeps as it counts the text: once the title counts it, the sound was made or not.
		p.waitJS("the title count", `document.title === `+jsString("("+strconv.Itoa(n)+") "+title))
		var s sound
		p.eval(`({created: window.__sound.created, started: window.__sound.started})`, &s)
		return s
	}

	if s := newText(1, "are you still there?"); s.Created != 0 || s.Started != 0 {
		t.Errorf("sound off: a new text created %d oscillators and started %d, want none", s.Created, s.Started)
	}
	p.click("#sound")
	p.waitJS("the sound on", `document.querySelector('#sound').getAttribute('aria-pressed') === 'true' && localStorage.getItem('hotline.sound') === 'on'`)
	if s := newText(2, "please answer"); s.Created < 1 || s.Started < 1 {
		t.Errorf("sound on: a new text created %d oscillators and started %d, want the chime", s.Created, s.Started)
	}
	p.waitJS("the audio context to run (the chime is heard)", `window.__sound.context?.state === 'running'`)
	p.click("#sound")
	p.waitJS("the sound off", `document.querySelector('#sound').getAttribute('aria-pressed') === 'false'`)
	if s := newText(3, "hello??"); s.Created != 0 || s.Started != 0 {
		t.Errorf("sound off again: a new text created %d oscillators and started %d, want none", s.Created, s.Started)
	}
	p.waitJS("the unread count", `document.querySelector('#mine-list .conv[data-id="`+first+`"] .unread')?.textContent === '3 new'`)
}

// TestBrowserNewTextSound: in Chromium a new text raises the title's count and,
// with the sound button on, plays the chime; off, it does not.
func TestBrowserNewTextSound(t *testing.T) {
	needBrowser(t)
	base, _, _ := startConsole(t)
	b := newBrowser(t, 1280, 800)
	b.run(b.ctx, "adding the sound probe", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: "(" + soundProbe + ")()"})
		return err
	}))
	b.signInAs(b.ctx, base, "ana")
	checkNewTextSound(t, chromiumPage{b, b.ctx}, base)
}

// TestBrowserFirefoxNewTextSound is TestBrowserNewTextSound in Firefox.
func TestBrowserFirefoxNewTextSound(t *testing.T) {
	needFirefox(t)
	base, _, _ := startConsole(t)
	f := newFirefox(t, 1280, 800)
	f.addPreloadScript(soundProbe)
	f.signInAs(base, "ana")
	checkNewTextSound(t, f, base)
}
