package main

// A browser test of hostile content on every page (issue 9): the other browser
// tests check hostile message bodies in the responder's thread and display names
// holding <img>/<b> in a few places; this one puts <script>, javascript: links, HTML
// and overlong words in every field a person controls — message bodies, notes, the
// display names of a responder and of the coordinator, a canned response — and
// visits every page of the console (console.Pages, so a page added later is visited
// too). Helpers are in browser_test.go.

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotlinehq/hotline/console"
)

// hostileText holds a script, markup, a javascript: link and a word far longer than
// any column.
func hostileText(label string) string {
	return label + ` <script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><b>bold</b>` +
		` <a href="javascript:window.__pwned=1">tap</a> javascript:window.__pwned=1 ` + strings.Repeat("W", 120)
}

// hostileName is hostileText within n characters (a display name may have 100, a
// canned response's title 80).
func hostileName(label string, n int) string {
	s := label + ` <script>window.__pwned=1</script><a href="javascript:1">x</a>`
	return s + strings.Repeat("W", n-len([]rune(s)))
}

// hostileCheck is what the page under test must show: nothing injected, nothing
// run, no javascript: link, no horizontal scrolling.
type hostileCheck struct {
	Pwned    bool    `json:"pwned"`
	Injected int     `json:"injected"`
	JSLinks  int     `json:"jsLinks"`
	Overflow float64 `json:"overflow"`
	Text     string  `json:"text"`
}

const hostileCheckJS = `(() => ({
	pwned: Boolean(window.__pwned),
	injected: document.querySelectorAll('main script, body script:not([src]), img[src="x"], [onerror], [onclick], b').length,
	jsLinks: document.querySelectorAll('a[href^="javascript:" i], a[href^=" javascript:" i]').length,
	overflow: document.documentElement.scrollWidth - window.innerWidth,
	text: document.body.innerText,
}))()`

func (b *browser) checkHostile(ctx context.Context, t *testing.T, where string, mustShow ...string) {
	t.Helper()
	var c hostileCheck
	b.eval(ctx, hostileCheckJS, &c)
	if c.Pwned || c.Injected != 0 || c.JSLinks != 0 {
		t.Errorf("%s: script ran %v, %d injected elements, %d javascript: links; want none", where, c.Pwned, c.Injected, c.JSLinks)
	}
	if c.Overflow > 1 {
		t.Errorf("%s: the page scrolls sideways by %.0f px: an overlong word breaks the layout", where, c.Overflow)
	}
	for _, s := range mustShow {
		if !strings.Contains(c.Text, s) {
			t.Errorf("%s: the page does not show %q as text", where, s)
		}
	}
}

// TestBrowserHostileContentOnEveryPage: with hostile names, bodies and notes in the
// store, every console page, as the coordinator and as the responder, shows them as
// text, runs nothing and keeps its layout.
func TestBrowserHostileContentOnEveryPage(t *testing.T) {
	needBrowser(t)
	base, _, _ := startServe(t, t.TempDir(), "HOTLINE_ADMIN__PASSWORD="+browserPassword, "HOTLINE_ROUTING__MODE=pull")
	admin := signIn(t, base, "admin")
	var me struct{ User struct{ ID string } }
	admin.call("GET", "/api/v1/me", nil, &me)
	coordName := hostileName("Cy", 100)
	admin.call("PATCH", "/api/v1/users/"+me.User.ID, map[string]any{"display_name": coordName}, nil)
	anaName := hostileName("Ana", 100)
	addResponder(t, admin, "ana", anaName)
	admin.call("POST", "/api/v1/canned-responses", map[string]any{"title": hostileName("Title", 80), "body": hostileText("Canned")}, nil)

	// A texter writes hostile text; Ana takes it, replies and notes in kind.
	body, reply, note := hostileText("Texter"), hostileText("Reply"), hostileText("Note")
	conv := textHotline(t, base, "+15555550177", body)
	ana := signIn(t, base, "ana")
	ana.call("POST", "/api/v1/conversations/"+conv+"/accept", nil, nil)
	ana.call("POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"body": reply}, nil)
	ana.call("POST", "/api/v1/conversations/"+conv+"/notes", map[string]string{"body": note}, nil)

	b := newBrowser(t, 1024, 768)
	coord := b.tab("coordinator")
	b.signInAs(coord, base, "admin")
	for _, p := range console.Pages {
		b.run(coord, "opening "+p.Path, chromedp.Navigate(base+p.Path))
		b.waitJS(coord, p.Path+" ready", `document.body.dataset.ready === 'true'`)
		var show []string
		switch p.Path {
		case "/coordinator/responders":
			show = []string{"Ana <script>window.__pwned=1</script>"}
		case "/coordinator/canned":
			show = []string{"Title <script>"}
		}
		for _, text := range show { // lists load after the page is ready
			b.waitJS(coord, p.Path+" showing "+text, `document.body.innerText.includes(`+jsString(text)+`)`)
		}
		b.checkHostile(coord, t, "the coordinator's "+p.Path, show...)
	}

	// The coordinator reads Ana's conversation: bodies, note and names as text.
	b.run(coord, "opening the console", chromedp.Navigate(base+"/"))
	b.waitJS(coord, "Ana's conversation", `document.body.dataset.ready === 'true' && document.querySelector('#team-list .conv[data-id="`+conv+`"]')`)
	b.run(coord, "opening Ana's conversation", chromedp.Click(chromedp.CSS(`#team-list .conv[data-id="`+conv+`"]`)))
	b.waitJS(coord, "the thread", `[...document.querySelectorAll('#messages .msg-body')].some(e => e.textContent === `+jsString(reply)+`)`)
	b.checkHostile(coord, t, "the coordinator's view of the thread", "Texter <script>", "Reply <script>", "Note <script>")

	// Ana, in her own console, with the thread open.
	resp := b.tab("responder")
	b.signInAs(resp, base, "ana")
	b.waitJS(resp, "her conversation", `document.querySelector('#mine-list .conv[data-id="`+conv+`"]')`)
	b.run(resp, "opening it", chromedp.Click(chromedp.CSS(`#mine-list .conv[data-id="`+conv+`"]`)))
	b.waitJS(resp, "the thread", `[...document.querySelectorAll('#messages .msg-body')].some(e => e.textContent === `+jsString(note)+`)`)
	b.checkHostile(resp, t, "the responder's thread", "Ana <script>", "Texter <script>")
	b.run(resp, "opening the transfer dialog", chromedp.Click(chromedp.CSS("#transfer")))
	b.waitJS(resp, "the transfer dialog", `document.querySelector('#transfer-dialog').open`)
	b.checkHostile(resp, t, "the transfer dialog", "Cy <script>")
}
