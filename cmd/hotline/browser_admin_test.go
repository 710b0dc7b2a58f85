package main

// Browser tests of what coordinators manage and the actions around a thread:
// canned responses (made on their page, used in the composer), dispositions and
// tags edited without a restart, revealing a texter's number (audited), declining
// an offer, and the wording of a transfer. Helpers are in browser_test.go.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// addResponder creates a responder through the API and returns their ID.
func addResponder(t *testing.T, admin *apiClient, username, displayName string) string {
	t.Helper()
	var out struct{ User struct{ ID string } }
	admin.call("POST", "/api/v1/users", map[string]any{"username": username, "password": browserPassword, "role": "responder",
		"display_name": displayName, "languages": []string{"en"}, "capacity": 3}, &out)
	return out.User.ID
}

// auditHas reports whether the audit log holds an entry with the action (and the
// target, when not empty).
func auditHas(admin *apiClient, action, target string) bool {
	var out struct {
		Entries []struct {
			Action   string `json:"action"`
			TargetID string `json:"target_id"`
		} `json:"entries"`
	}
	admin.call("GET", "/api/v1/audit?limit=500", nil, &out)
	return slices.ContainsFunc(out.Entries, func(e struct {
		Action   string `json:"action"`
		TargetID string `json:"target_id"`
	}) bool {
		return e.Action == action && (target == "" || e.TargetID == target)
	})
}

// acceptFromQueue has the signed-in responder go available, waits for the
// conversation in the queue, opens and accepts it.
func (b *browser) acceptFromQueue(ctx context.Context, conv string) {
	b.t.Helper()
	sel := fmt.Sprintf(`#queue-list .conv[data-id=%q]`, conv)
	b.waitJS(ctx, "the text in the queue", `document.querySelector(`+jsString(sel)+`)`)
	b.run(ctx, "opening the queued conversation", chromedp.Click(chromedp.CSS(sel)))
	b.waitJS(ctx, "the accept button", `!document.querySelector('#accept').hidden`)
	b.run(ctx, "accepting", chromedp.Click(chromedp.CSS("#accept")))
	b.waitJS(ctx, "the composer", `!document.querySelector('#composer').hidden && document.querySelector('#mine-list .conv[data-id="`+conv+`"]')`)
}

// clickCentered scrolls the element to the middle of the window and clicks it:
// toasts at the bottom of the window would take a click meant for a button there.
func (b *browser) clickCentered(ctx context.Context, what, selector string) {
	b.t.Helper()
	var ok bool
	b.eval(ctx, `(() => { const el = document.querySelector(`+jsString(selector)+`); if (!el) return false;
		el.scrollIntoView({block: 'center'}); return true; })()`, &ok)
	if !ok {
		b.t.Fatalf("%s: no %s", what, selector)
	}
	b.run(ctx, what, chromedp.Click(chromedp.CSS(selector)))
}

// goAvailable flips the on-call switch of the signed-in user's console.
func (b *browser) goAvailable(ctx context.Context) {
	b.t.Helper()
	b.run(ctx, "going available", chromedp.Click(chromedp.CSS("#availability")))
	b.waitJS(ctx, "the switch to show available", `document.querySelector('#availability').getAttribute('aria-checked') === 'true'`)
}

// acceptConfirms makes window.confirm and window.prompt answer yes (with an empty
// reason) in the tab, as a person clicking OK.
func (b *browser) acceptConfirms(ctx context.Context) {
	b.t.Helper()
	var ok bool
	b.eval(ctx, `(() => { window.confirm = () => true; window.prompt = () => ''; return true; })()`, &ok)
}

// TestBrowserCannedResponsesPage: a coordinator adds a canned response on its page
// with the placeholder buttons (the preview fills them in), edits it, sees the
// server refuse an unknown placeholder and deletes another; a responder then
// inserts it with "/" and sends it, placeholders filled with her name and the
// texter's handle. Every change is audited.
func TestBrowserCannedResponsesPage(t *testing.T) {
	needBrowser(t)
	base, admin, anaName := startConsole(t)
	b := newBrowser(t, 1280, 900)

	coord := b.tab("coordinator")
	b.signInAs(coord, base, "admin")
	b.run(coord, "opening the canned responses", chromedp.Navigate(base+"/coordinator/canned"))
	b.waitJS(coord, "the list", `document.body.dataset.ready === 'true' && document.querySelectorAll('#canned-rows tr').length === 1`)
	b.acceptConfirms(coord)

	b.setValue(coord, "#canned-title", "Shelter tonight")
	b.setValue(coord, "#canned-body", "Hi ")
	b.run(coord, "inserting {{handle}}", chromedp.Click(chromedp.CSS(`[data-placeholder="handle"]`)))
	b.run(coord, "typing", chromedp.SendKeys(chromedp.CSS("#canned-body"), ", this is "))
	b.run(coord, "inserting {{responder}}", chromedp.Click(chromedp.CSS(`[data-placeholder="responder"]`)))
	b.run(coord, "typing", chromedp.SendKeys(chromedp.CSS("#canned-body"), ". A shelter bed is free tonight."))
	const body = "Hi {{handle}}, this is {{responder}}. A shelter bed is free tonight."
	var got string
	b.eval(coord, `document.querySelector('#canned-body').value`, &got)
	if got != body {
		t.Fatalf("the body reads %q, want %q", got, body)
	}
	b.waitJS(coord, "the preview", `document.querySelector('#canned-preview').textContent === `+
		jsString("Hi T-4821, this is Cy <b>Coordinator</b>. A shelter bed is free tonight.")+
		` && document.querySelector('#canned-segments').textContent.includes('1 SMS')`)
	var bold int
	b.eval(coord, `document.querySelectorAll('#canned-preview b, #canned-rows b').length`, &bold)
	if bold != 0 {
		t.Error("a display name became HTML in the preview")
	}
	b.clickCentered(coord, "adding it", "#canned-save")
	b.waitJS(coord, "the new row", `[...document.querySelectorAll('#canned-rows tr th')].some(e => e.textContent === 'Shelter tonight')`)

	// Edit its title.
	b.run(coord, "editing it", chromedp.Click(chromedp.CSS(`#canned-rows button[aria-label="Edit Shelter tonight"]`)))
	b.waitJS(coord, "the form filled in", `document.querySelector('#canned-body').value === `+jsString(body))
	b.setValue(coord, "#canned-title", "Shelter bed tonight")
	b.clickCentered(coord, "saving", "#canned-save")
	b.waitJS(coord, "the renamed row", `[...document.querySelectorAll('#canned-rows tr th')].some(e => e.textContent === 'Shelter bed tonight')
		&& document.querySelectorAll('#canned-rows tr').length === 2 && document.querySelector('#canned-save').textContent === 'Add'`)

	// An unknown placeholder: the page warns, the server refuses with its message.
	b.setValue(coord, "#canned-title", "Bad")
	b.setValue(coord, "#canned-body", "Hello {{name}}")
	b.waitJS(coord, "the warning", `document.querySelector('#canned-warning').textContent.includes('Not a placeholder')`)
	b.clickCentered(coord, "adding it", "#canned-save")
	b.waitJS(coord, "the server's message", `document.querySelector('#canned-error').textContent.includes('is not a placeholder')`)
	b.run(coord, "editing it again", chromedp.Click(chromedp.CSS(`#canned-rows button[aria-label="Edit Shelter bed tonight"]`)))
	b.clickCentered(coord, "cancelling", "#canned-cancel")
	b.waitJS(coord, "the empty form", `document.querySelector('#canned-body').value === '' && document.querySelector('#canned-cancel').hidden`)

	// Delete the other one.
	b.run(coord, "deleting Safety check", chromedp.Click(chromedp.CSS(`#canned-rows button[aria-label="Delete Safety check"]`)))
	b.waitJS(coord, "one row left", `document.querySelectorAll('#canned-rows tr').length === 1`)

	// Ana uses it in the composer.
	ctx := b.ctx
	b.signInAs(ctx, base, "ana")
	b.goAvailable(ctx)
	const number = "+15555550171"
	texter := watchPhone(t, base, number)
	conv := textHotline(t, base, number, "is there somewhere safe to sleep")
	b.acceptFromQueue(ctx, conv)
	b.run(ctx, "focusing the composer", chromedp.Focus(chromedp.CSS("#body")))
	b.press(ctx, "/")
	b.waitJS(ctx, "the picker", `document.querySelector('#canned-dialog').open && document.querySelector('#canned-list [role=option]')`)
	b.setValue(ctx, "#canned-search", "shelter")
	b.waitJS(ctx, "only the shelter response", `document.querySelectorAll('#canned-list [role=option]').length === 1
		&& document.querySelector('#canned-list .canned-title').textContent === 'Shelter bed tonight'`)
	b.run(ctx, "focusing the search", chromedp.Focus(chromedp.CSS("#canned-search")))
	b.press(ctx, "Enter")
	var handle string
	b.eval(ctx, `document.querySelector('#thread-title').textContent`, &handle)
	want := "Hi " + handle + ", this is " + anaName + ". A shelter bed is free tonight."
	b.waitJS(ctx, "the inserted text", `!document.querySelector('#canned-dialog').open && document.querySelector('#body').value === `+jsString(want))
	b.run(ctx, "focusing the composer", chromedp.Focus(chromedp.CSS("#body")))
	b.press(ctx, "Enter")
	waitUntil(t, "the phone to receive the canned response", func() bool { return texter.received(want, false) })

	for _, action := range []string{"canned_create", "canned_update", "canned_delete"} {
		if !auditHas(admin, action, "") {
			t.Errorf("no %s entry in the audit log", action)
		}
	}
}

// TestBrowserDispositionsAndTags: a responder's console is open when a coordinator
// adds a disposition and a tag on their page; without a reload her close dialog
// offers them, and closing with them works. The change is audited; a repeated entry
// is refused with the server's message, and going back to the configuration works.
func TestBrowserDispositionsAndTags(t *testing.T) {
	needBrowser(t)
	base, admin, _ := startConsole(t)
	b := newBrowser(t, 1280, 900)
	ctx := b.ctx
	b.signInAs(ctx, base, "ana")
	b.goAvailable(ctx)
	conv := textHotline(t, base, "+15555550172", "i got out, where can i go")
	b.acceptFromQueue(ctx, conv)

	coord := b.tab("coordinator")
	b.signInAs(coord, base, "admin")
	b.run(coord, "opening dispositions and tags", chromedp.Navigate(base+"/coordinator/dispositions"))
	b.waitJS(coord, "the configured lists", `document.body.dataset.ready === 'true' && document.querySelector('#dispositions').value.includes('Support given')
		&& document.querySelector('#lists-source').textContent.includes('configuration')`)
	b.acceptConfirms(coord)
	var disp, tags string
	b.eval(coord, `document.querySelector('#dispositions').value`, &disp)
	b.eval(coord, `document.querySelector('#tags').value`, &tags)

	b.setValue(coord, "#dispositions", disp+"\nsupport GIVEN")
	b.clickCentered(coord, "saving a repeated disposition", `#lists-form button[type=submit]`)
	b.waitJS(coord, "the server's message", `document.querySelector('#lists-error').textContent.includes('repeats')`)

	b.setValue(coord, "#dispositions", disp+"\nSafe at a shelter")
	b.setValue(coord, "#tags", tags+"\nshelter")
	b.clickCentered(coord, "saving", `#lists-form button[type=submit]`)
	b.waitJS(coord, "the saved lists", `document.querySelector('#lists-source').textContent.includes('edited') && document.querySelector('#lists-error').textContent === ''`)

	// Ana's console, open all along, offers the new entries.
	b.run(ctx, "opening the close dialog", chromedp.Click(chromedp.CSS("#close")))
	b.waitJS(ctx, "the new disposition and tag", `document.querySelector('#close-dialog').open
		&& document.querySelector('#disposition option[value="Safe at a shelter"]') && document.querySelector('#tag-choices input[value="shelter"]')`)
	b.setValue(ctx, "#disposition", "Safe at a shelter")
	b.run(ctx, "closing",
		chromedp.Click(chromedp.CSS(`#tag-choices input[value="shelter"]`)),
		chromedp.Click(chromedp.CSS(`#close-form button[type="submit"]`)))
	b.waitJS(ctx, "the closed banner", `!document.querySelector('#closed-banner').hidden && document.querySelector('#closed-banner').textContent.includes('Safe at a shelter')`)
	var closed struct {
		Conversation struct {
			State, Disposition string
			Tags               []string
		}
	}
	admin.call("GET", "/api/v1/conversations/"+conv, nil, &closed)
	if c := closed.Conversation; c.State != "closed" || c.Disposition != "Safe at a shelter" || strings.Join(c.Tags, ",") != "shelter" {
		t.Errorf("after closing: %+v, want the new disposition and tag", c)
	}
	if !auditHas(admin, "close_lists_update", "close_lists") {
		t.Error("no close_lists_update entry in the audit log")
	}

	// Back to the configuration.
	b.clickCentered(coord, "going back to the configuration", "#lists-reset")
	b.waitJS(coord, "the configured lists", `document.querySelector('#lists-source').textContent.includes('come from the configuration')
		&& !document.querySelector('#dispositions').value.includes('Safe at a shelter')`)
	var settings struct{ Dispositions []string }
	admin.call("GET", "/api/v1/settings", nil, &settings)
	if slices.Contains(settings.Dispositions, "Safe at a shelter") {
		t.Errorf("after the reset the console still offers %q", settings.Dispositions)
	}
}

// TestBrowserRevealNumber: a coordinator reveals a texter's number from the thread
// after a dialog that says it is audited; the number is shown once in the dialog
// and gone from the page when it closes; the audit log has the reveal. A responder
// has no such button.
func TestBrowserRevealNumber(t *testing.T) {
	needBrowser(t)
	base, admin, _ := startConsole(t)
	b := newBrowser(t, 1280, 900)
	const number = "+15555550173"
	conv := textHotline(t, base, number, "please help")

	coord := b.tab("coordinator")
	b.signInAs(coord, base, "admin")
	sel := fmt.Sprintf(`#queue-list .conv[data-id=%q]`, conv)
	b.waitJS(coord, "the text in the queue", `document.querySelector(`+jsString(sel)+`)`)
	b.run(coord, "opening it", chromedp.Click(chromedp.CSS(sel)))
	b.waitJS(coord, "the reveal button", `!document.querySelector('#reveal').hidden`)
	b.run(coord, "asking to reveal", chromedp.Click(chromedp.CSS("#reveal")))
	b.waitJS(coord, "the dialog", `document.querySelector('#reveal-dialog').open && document.querySelector('#reveal-intro').textContent.includes('recorded in the audit log')
		&& document.querySelector('#reveal-number').textContent === '' && document.activeElement.id === 'reveal-cancel'`)
	if auditHas(admin, "reveal", conv) {
		t.Error("opening the dialog revealed the number already")
	}
	b.run(coord, "revealing", chromedp.Click(chromedp.CSS("#reveal-confirm")))
	b.waitJS(coord, "the number", `document.querySelector('#reveal-number').textContent === `+jsString(number))
	var copies int
	b.eval(coord, `document.documentElement.textContent.split(`+jsString(number)+`).length - 1`, &copies)
	if copies != 1 {
		t.Errorf("the number appears %d times in the page, want once (in the dialog)", copies)
	}
	if !auditHas(admin, "reveal", conv) {
		t.Error("no reveal entry for the conversation in the audit log")
	}
	b.run(coord, "closing the dialog", chromedp.Click(chromedp.CSS("#reveal-cancel")))
	b.waitJS(coord, "the number gone", `!document.querySelector('#reveal-dialog').open && !document.documentElement.textContent.includes(`+jsString(number)+`)`)

	// A responder sees no reveal button on her conversation.
	ctx := b.ctx
	b.signInAs(ctx, base, "ana")
	b.goAvailable(ctx)
	b.acceptFromQueue(ctx, conv)
	var hidden bool
	b.eval(ctx, `document.querySelector('#reveal').hidden`, &hidden)
	if !hidden {
		t.Error("a responder is offered the reveal button")
	}
}

// TestBrowserDeclineOffer: in offer mode a responder declines an offer with the
// button beside Accept; it leaves her console and routing offers it to the other
// available responder; the thread records the declined offer.
func TestBrowserDeclineOffer(t *testing.T) {
	needBrowser(t)
	base, admin, _ := startConsoleMode(t, "offer")
	boID := addResponder(t, admin, "bo", "Bo Baker")
	b := newBrowser(t, 1280, 900)
	ctx := b.ctx
	b.signInAs(ctx, base, "ana")
	b.goAvailable(ctx)
	conv := textHotline(t, base, "+15555550174", "hello? is anyone there")
	b.waitJS(ctx, "the offer", `document.querySelector('#offer-list .conv[data-id="`+conv+`"]') && document.querySelector('#offer-list button.decline')`)

	// Bo comes on call, then Ana declines.
	bo := signIn(t, base, "bo")
	bo.call("PUT", "/api/v1/me/availability", map[string]string{"status": "available"}, nil)
	b.run(ctx, "declining", chromedp.Click(chromedp.CSS("#offer-list button.decline")))
	b.waitJS(ctx, "the offer gone", `document.querySelector('#offers').hidden && !document.querySelector('.sidebar .conv[data-id="`+conv+`"]')`)

	var got struct {
		Conversation struct {
			AssigneeID     string  `json:"assignee_id"`
			OfferExpiresAt *string `json:"offer_expires_at"`
		}
		Messages []struct {
			Direction string  `json:"direction"`
			Body      string  `json:"body"`
			AuthorID  *string `json:"author_id"`
		}
	}
	waitUntil(t, "the offer to reach Bo", func() bool {
		admin.call("GET", "/api/v1/conversations/"+conv, nil, &got)
		return got.Conversation.AssigneeID == boID && got.Conversation.OfferExpiresAt != nil
	})
	if !slices.ContainsFunc(got.Messages, func(m struct {
		Direction string  `json:"direction"`
		Body      string  `json:"body"`
		AuthorID  *string `json:"author_id"`
	}) bool {
		return m.Direction == "system" && strings.Contains(m.Body, "declined") && m.AuthorID != nil
	}) {
		t.Errorf("the thread %+v has no event of the declined offer naming who declined", got.Messages)
	}
}

// TestBrowserTransferWording: a responder transfers a conversation to a colleague;
// the thread reads "Transferred to <name> by <name>", names as text.
func TestBrowserTransferWording(t *testing.T) {
	needBrowser(t)
	base, admin, anaName := startConsole(t)
	boID := addResponder(t, admin, "bo", "Bo Baker")
	bo := signIn(t, base, "bo")
	bo.call("PUT", "/api/v1/me/availability", map[string]string{"status": "available"}, nil)
	b := newBrowser(t, 1280, 900)
	ctx := b.ctx
	b.signInAs(ctx, base, "ana")
	b.goAvailable(ctx)
	conv := textHotline(t, base, "+15555550175", "can i talk to someone")
	b.acceptFromQueue(ctx, conv)

	b.run(ctx, "opening the transfer dialog", chromedp.Click(chromedp.CSS("#transfer")))
	radio := fmt.Sprintf(`input[name="transfer-to"][value=%q]`, boID)
	b.waitJS(ctx, "Bo, available", `document.querySelector('#transfer-dialog').open && document.querySelector(`+jsString(radio)+`) && !document.querySelector(`+jsString(radio)+`).disabled`)
	b.run(ctx, "transferring to Bo", chromedp.Click(chromedp.CSS(radio)), chromedp.Click(chromedp.CSS(`#transfer-form button[type="submit"]`)))
	b.waitJS(ctx, "the conversation gone from Ana's list", `!document.querySelector('#transfer-dialog').open && !document.querySelector('#mine-list .conv[data-id="`+conv+`"]')`)

	want := "Transferred to Bo Baker by " + anaName + "."
	coord := b.tab("coordinator")
	b.signInAs(coord, base, "admin")
	sel := fmt.Sprintf(`#team-list .conv[data-id=%q]`, conv)
	b.waitJS(coord, "the conversation with Bo", `document.querySelector(`+jsString(sel)+`)`)
	b.run(coord, "opening it", chromedp.Click(chromedp.CSS(sel)))
	b.waitJS(coord, "the transfer event", `[...document.querySelectorAll('#messages .msg.system .msg-body')].some(e => e.textContent === `+jsString(want)+`)`)
	var injected int
	b.eval(coord, `document.querySelectorAll('#messages img').length`, &injected)
	if injected != 0 {
		t.Error("a display name became HTML in the transfer event")
	}
	var thread struct {
		Messages []struct {
			Direction string  `json:"direction"`
			TargetID  *string `json:"target_id"`
		}
	}
	admin.call("GET", "/api/v1/conversations/"+conv, nil, &thread)
	if !slices.ContainsFunc(thread.Messages, func(m struct {
		Direction string  `json:"direction"`
		TargetID  *string `json:"target_id"`
	}) bool {
		return m.Direction == "system" && m.TargetID != nil && *m.TargetID == boID
	}) {
		t.Errorf("no system message of the thread has target_id %s", boID)
	}
}

// TestBrowserLegalHoldsList: the retention page lists the conversations under a
// legal hold; a hold placed by ID appears there, and its Release button takes it off.
func TestBrowserLegalHoldsList(t *testing.T) {
	needBrowser(t)
	base, admin, _ := startConsole(t)
	b := newBrowser(t, 1280, 900)
	conv := textHotline(t, base, "+15555550176", "evidence")
	coord := b.tab("coordinator")
	b.signInAs(coord, base, "admin")
	b.run(coord, "opening retention", chromedp.Navigate(base+"/coordinator/retention"))
	b.waitJS(coord, "no holds", `document.body.dataset.ready === 'true' && !document.querySelector('#held-empty').hidden`)
	b.acceptConfirms(coord)
	b.setValue(coord, "#hold-id", conv)
	b.setValue(coord, "#hold-reason", "subpoena 2026-17")
	b.clickCentered(coord, "placing the hold", "#hold-place")
	row := fmt.Sprintf(`#held-rows tr[data-id=%q]`, conv)
	b.waitJS(coord, "the held conversation listed", `document.querySelector(`+jsString(row)+`) && document.querySelector('#held-empty').hidden
		&& document.querySelector('#held-count').textContent === '(1)'`)
	var holds struct{ Holds []struct{ ID string } }
	admin.call("GET", "/api/v1/holds", nil, &holds)
	if len(holds.Holds) != 1 || holds.Holds[0].ID != conv {
		t.Errorf("GET /api/v1/holds = %+v, want %s", holds.Holds, conv)
	}
	b.clickCentered(coord, "releasing it", row+" button")
	b.waitJS(coord, "the list empty", `!document.querySelector(`+jsString(row)+`) && !document.querySelector('#held-empty').hidden`)
	if !auditHas(admin, "legal_hold_release", conv) {
		t.Error("no legal_hold_release entry in the audit log")
	}
}
