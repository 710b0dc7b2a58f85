package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCoordinatorPages opens the coordinators' pages in a real browser: the
// dashboard shows the waiting texter and draws both charts, an export form with a
// bad filter shows the server's message, an edited text is saved, a responder is
// added, and a rotation appears in the week.
func TestBrowserCoordinatorPages(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	base, _, _ := startConsole(t)
	if status, _ := postInbound(t, base, inboundParams(fmt.Sprintf("SM%032d", 1), "+14155550111", "he took my passport")); status != 200 {
		t.Fatalf("inbound = %d", status)
	}
	ctx := b.tab("coordinator")
	b.signInAs(ctx, base, "admin")

	b.run(ctx, "opening the dashboard", chromedp.Navigate(base+"/coordinator/dashboard"))
	b.waitJS(ctx, "the waiting texter", `document.querySelector('#stat-waiting').textContent === '1' && document.querySelector('#waiting tr.urgent') !== null`)
	b.waitJS(ctx, "the live conversation", `document.querySelectorAll('#live tr').length === 1`)
	b.run(ctx, "opening it read-only", chromedp.Click(chromedp.CSS(`#live button`)))
	b.waitJS(ctx, "its thread", `!document.querySelector('#viewer').hidden && document.querySelector('#viewer-messages').textContent.includes('he took my passport')`)
	b.waitJS(ctx, "both charts", `['#chart-tph', '#chart-wait'].every((s) => { const i = document.querySelector(s); return i.complete && i.naturalWidth > 0; })`)

	b.run(ctx, "opening the exports", chromedp.Navigate(base+"/coordinator/exports"))
	b.waitJS(ctx, "the exports page", `document.body.dataset.ready === 'true'`)
	b.setValue(ctx, "#ids", "not-an-id")
	b.run(ctx, "asking for a bad export", chromedp.Click(chromedp.CSS(`#export-form button[type=submit]`)))
	b.waitJS(ctx, "the server's message", `document.querySelector('#export-error').textContent.includes('not a valid id')`)

	b.run(ctx, "opening the texts", chromedp.Navigate(base+"/coordinator/texts"))
	b.waitJS(ctx, "the texts", `document.querySelector('#t-es-welcome') !== null`)
	b.setValue(ctx, "#t-es-welcome", "Hola, le respondemos pronto. En peligro, llame al 911.")
	b.run(ctx, "saving", chromedp.Click(chromedp.CSS(`#texts-form button[type=submit]`)))
	b.waitJS(ctx, "the saved language", `document.querySelector('[data-lang="es"] legend').textContent.includes('edited')`)

	b.run(ctx, "opening the responders", chromedp.Navigate(base+"/coordinator/responders"))
	b.waitJS(ctx, "the users", `document.querySelectorAll('#users tr').length === 2`)
	b.setValue(ctx, "#username", "bo")
	b.setValue(ctx, "#display_name", "Bo")
	b.setValue(ctx, "#languages", "en, es")
	b.setValue(ctx, "#password", browserPassword)
	b.run(ctx, "adding a responder", chromedp.Click(chromedp.CSS(`#user-save`)))
	b.waitJS(ctx, "the new responder", `document.querySelectorAll('#users tr').length === 3`)

	b.run(ctx, "opening the schedule", chromedp.Navigate(base+"/coordinator/schedule"))
	b.waitJS(ctx, "the week", `document.querySelectorAll('#week .week-day').length === 7 && document.querySelector('#rot-who option') !== null`)
	b.run(ctx, "adding a rotation", chromedp.Click(chromedp.CSS(`#rot-form button[type=submit]`)))
	b.waitJS(ctx, "the rotation in the week", `document.querySelector('#week .week-day').textContent.includes('09:00')`)

	for _, page := range []string{"retention", "audit"} {
		b.run(ctx, "opening "+page, chromedp.Navigate(base+"/coordinator/"+page))
		b.waitJS(ctx, "the "+page+" page", `document.body.dataset.ready === 'true'`)
	}
	b.waitJS(ctx, "the audit entries", `document.querySelectorAll('#entries tr').length > 3`)
}
