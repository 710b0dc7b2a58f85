package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserScreenshots takes screenshots of the console's main screens, for people
// to look at when they change the console: set HOTLINE_SCREENSHOTS to a directory.
// Without it the test skips.
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv("HOTLINE_SCREENSHOTS")
	if dir == "" {
		t.Skip("set HOTLINE_SCREENSHOTS=dir to write screenshots of the console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	needBrowser(t)
	base, admin, _ := startConsole(t)
	b := newBrowser(t, 1366, 820)
	ctx := b.ctx
	shot := func(name string) {
		t.Helper()
		time.Sleep(150 * time.Millisecond) // let transitions settle
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", filepath.Join(dir, name+".png"))
	}
	setMode := func(mode string) {
		resp, err := http.Post(base+"/simulator/mode", "application/json", strings.NewReader(`{"mode":"`+mode+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	admin.call("POST", "/api/v1/canned-responses", map[string]any{"title": "Ask about safety", "language": "en",
		"body": "Thank you for reaching out, {{handle}}. Before anything else: are you somewhere safe to talk right now?"}, nil)
	admin.call("POST", "/api/v1/canned-responses", map[string]any{"title": "Pregunta de seguridad", "language": "es",
		"body": "Gracias por escribir. ¿Está en un lugar seguro para hablar ahora?"}, nil)

	b.run(ctx, "opening the sign-in page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	shot("01-sign-in")
	b.run(ctx, "a wrong password", chromedp.SendKeys(chromedp.CSS("#username"), "ana"), chromedp.SendKeys(chromedp.CSS("#password"), "nope"),
		chromedp.Click(chromedp.CSS("#login-submit")))
	b.waitJS(ctx, "the error", `document.querySelector('#login-error').textContent`)
	shot("02-sign-in-error")
	b.signInAs(ctx, base, "ana")
	shot("03-empty")
	b.run(ctx, "going available", chromedp.Click(chromedp.CSS("#availability")))

	a := textHotline(t, base, "+15555550111", "hi")
	textHotline(t, base, "+15555550112", "my boss took my passport and i cant leave the farm")
	textHotline(t, base, "+15555550113", "AYUDA")
	b.waitJS(ctx, "three in the queue", `document.querySelectorAll('#queue-list .conv').length === 3`)
	shot("04-queue")

	b.run(ctx, "opening one", chromedp.Click(chromedp.CSS(`#queue-list .conv[data-id="`+a+`"]`)))
	b.waitJS(ctx, "the preview", `!document.querySelector('#accept').hidden`)
	shot("05-preview")
	b.run(ctx, "accepting", chromedp.Click(chromedp.CSS("#accept")))
	b.waitJS(ctx, "the composer", `!document.querySelector('#composer').hidden`)
	b.run(ctx, "replying", chromedp.SendKeys(chromedp.CSS("#body"), "Hi, I am here. You can tell me what is going on, at your own pace."))
	b.press(ctx, "Enter")
	textHotline(t, base, "+15555550111", "i dont know if i should be texting this. someone is watching my phone sometimes")
	b.waitJS(ctx, "the second text", `document.querySelectorAll('#messages .msg.inbound').length === 2`)
	b.run(ctx, "a note", chromedp.Click(chromedp.CSS(`#composer input[value="note"]`)), chromedp.Focus(chromedp.CSS("#body")), chromedp.SendKeys(chromedp.CSS("#body"), "Phone may be monitored: keep messages short and neutral."))
	b.press(ctx, "Enter")
	setMode("fail-permanent")
	b.run(ctx, "a reply that fails", chromedp.Click(chromedp.CSS(`#composer input[value="reply"]`)), chromedp.Focus(chromedp.CSS("#body")), chromedp.SendKeys(chromedp.CSS("#body"), "Understood. Reply SAFE when you can talk."))
	b.press(ctx, "Enter")
	b.waitJS(ctx, "the failure", `document.querySelector('#messages .status.failed')`)
	setMode("normal")
	b.run(ctx, "a long draft", chromedp.Focus(chromedp.CSS("#body")), chromedp.SendKeys(chromedp.CSS("#body"), strings.Repeat("We can help you find a safe place to stay tonight. ", 4)+"🙂"))
	shot("06-thread")

	b.setValue(ctx, "#body", "")
	b.press(ctx, "/")
	b.waitJS(ctx, "the picker", `document.querySelector('#canned-list [role=option]')`)
	shot("07-canned")
	b.run(ctx, "closing the picker", chromedp.KeyEvent("\x1b"))
	b.run(ctx, "transfer", chromedp.Click(chromedp.CSS("#transfer")))
	b.waitJS(ctx, "the transfer dialog", `document.querySelector('#transfer-dialog').open`)
	shot("08-transfer")
	b.run(ctx, "cancel", chromedp.Click(chromedp.CSS("#transfer-dialog button.cancel")))
	b.run(ctx, "close", chromedp.Click(chromedp.CSS("#close")))
	b.waitJS(ctx, "the close dialog", `document.querySelector('#close-dialog').open`)
	shot("09-close")
	b.run(ctx, "cancel", chromedp.Click(chromedp.CSS("#close-dialog button.cancel")))
	b.run(ctx, "help", chromedp.Click(chromedp.CSS("#help-button")))
	b.waitJS(ctx, "the help", `document.querySelector('#help-dialog').open`)
	shot("10-help")
	b.run(ctx, "close help", chromedp.Click(chromedp.CSS("#help-dialog button")))

	textHotline(t, base, "+15555550111", "STOP")
	b.waitJS(ctx, "the opt-out banner", `!document.querySelector('#opted-out').hidden`)
	shot("11-opted-out")

	b.run(ctx, "tablet", chromedp.EmulateViewport(820, 1180))
	b.run(ctx, "reload", chromedp.Reload())
	b.waitJS(ctx, "ready", `document.body.dataset.ready === 'true'`)
	b.run(ctx, "open", chromedp.Click(chromedp.CSS(`#mine-list .conv`)))
	b.waitJS(ctx, "thread", `!document.querySelector('#thread').hidden`)
	shot("12-tablet")
	b.run(ctx, "narrow", chromedp.EmulateViewport(600, 900))
	shot("13-narrow-thread")

	// The coordinator's view of the same page (signing in replaces Ana's session).
	b.run(ctx, "laptop", chromedp.EmulateViewport(1366, 820))
	b.run(ctx, "sign out", chromedp.Click(chromedp.CSS("#sign-out")))
	b.waitJS(ctx, "the sign-in page", `document.querySelector('#login-form')`)
	b.signInAs(ctx, base, "admin")
	b.run(ctx, "open a conversation of Ana's", chromedp.Click(chromedp.CSS(`#team-list .conv`)))
	b.waitJS(ctx, "the thread", `document.querySelectorAll('#messages .msg').length > 3`)
	shot("14-coordinator")

	// Revealing the number (audited), and the coordinators' pages of canned
	// responses, dispositions and tags, and retention with its legal holds.
	b.run(ctx, "asking to reveal", chromedp.Click(chromedp.CSS("#reveal")))
	b.waitJS(ctx, "the reveal dialog", `document.querySelector('#reveal-dialog').open`)
	shot("15-reveal")
	b.run(ctx, "cancelling", chromedp.Click(chromedp.CSS("#reveal-cancel")))
	for i, page := range []string{"canned", "dispositions", "retention"} {
		b.run(ctx, "opening "+page, chromedp.Navigate(base+"/coordinator/"+page))
		b.waitJS(ctx, "the "+page+" page", `document.body.dataset.ready === 'true'`)
		shot(fmt.Sprintf("%02d-%s", 16+i, page))
	}
}
