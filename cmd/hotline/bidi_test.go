package main

// A minimal WebDriver BiDi client, enough to drive a headless Firefox (started by
// newFirefox, firefox_test.go) in the browser tests. Modern Firefox speaks no DevTools protocol and
// there is no geckodriver here: Firefox started with --remote-debugging-port
// serves BiDi on a websocket itself (https://w3c.github.io/webdriver-bidi/).
// Commands are JSON {id, method, params}; replies carry the id; events (here only
// log.entryAdded, what the page logs) carry a method and no id.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// firefox is one headless Firefox with a fresh profile and a BiDi session on its
// first tab. Its methods fail the test on error, saying what was being done.
type firefox struct {
	t       *testing.T
	conn    *websocket.Conn
	tab     string // the browsing context of the first tab
	mu      sync.Mutex
	next    int
	pending map[int]chan bidiMessage
	console []string // what the page logged
	gone    error    // set when the connection dropped
}

// bidiMessage is a reply (type success or error, with the command's id) or an event.
type bidiMessage struct {
	Type    string          `json:"type"`
	ID      int             `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// read delivers replies to their callers and keeps what the page logs.
func (f *firefox) read() {
	for {
		_, data, err := f.conn.Read(context.Background())
		if err != nil {
			f.mu.Lock()
			f.gone = err
			for id, ch := range f.pending {
				close(ch)
				delete(f.pending, id)
			}
			f.mu.Unlock()
			return
		}
		var m bidiMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		f.mu.Lock()
		if m.Type == "event" {
			if m.Method == "log.entryAdded" {
				var e struct{ Level, Text string }
				_ = json.Unmarshal(m.Params, &e)
				f.console = append(f.console, e.Level+": "+e.Text)
			}
		} else if ch, ok := f.pending[m.ID]; ok {
			ch <- m
			delete(f.pending, m.ID)
		}
		f.mu.Unlock()
	}
}

// call sends a command and decodes its result into out (when not nil).
func (f *firefox) call(method string, params, out any) error {
	f.mu.Lock()
	if f.gone != nil {
		f.mu.Unlock()
		return fmt.Errorf("%s: the connection to Firefox is gone: %w", method, f.gone)
	}
	f.next++
	id := f.next
	ch := make(chan bidiMessage, 1)
	f.pending[id] = ch
	f.mu.Unlock()
	data, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: the connection to Firefox closed", method)
		}
		if m.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		delete(f.pending, id)
		f.mu.Unlock()
		return fmt.Errorf("%s: no answer in 20s", method)
	}
}

// must is call, failing the test with what was being done.
func (f *firefox) must(what, method string, params, out any) {
	f.t.Helper()
	if err := f.call(method, params, out); err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

// navigate loads url in the tab and waits for its load event.
func (f *firefox) navigate(url string) {
	f.t.Helper()
	f.must("opening "+url, "browsingContext.navigate", map[string]any{"context": f.tab, "url": url, "wait": "complete"}, nil)
}

// setViewport sizes the page's viewport in CSS pixels.
func (f *firefox) setViewport(width, height int) {
	f.t.Helper()
	f.must("sizing the viewport", "browsingContext.setViewport",
		map[string]any{"context": f.tab, "viewport": map[string]int{"width": width, "height": height}}, nil)
}

// addPreloadScript runs the function (JavaScript source) in every page before its
// own scripts.
func (f *firefox) addPreloadScript(fn string) {
	f.t.Helper()
	f.must("adding a preload script", "script.addPreloadScript", map[string]any{"functionDeclaration": fn}, nil)
}

// evaluate evaluates a JavaScript expression, awaiting a promise, and returns
// its remote value ({type, value, sharedId…}).
func (f *firefox) evaluate(expr string) (json.RawMessage, error) {
	var r struct {
		Type             string
		Result           json.RawMessage
		ExceptionDetails struct{ Text string }
	}
	err := f.call("script.evaluate", map[string]any{"expression": expr, "target": map[string]any{"context": f.tab},
		"awaitPromise": true, "resultOwnership": "none"}, &r)
	if err != nil {
		return nil, err
	}
	if r.Type == "exception" {
		return nil, errors.New(r.ExceptionDetails.Text)
	}
	return r.Result, nil
}

// eval evaluates a JavaScript expression (awaiting a promise) into out, through JSON.
func (f *firefox) eval(expr string, out any) {
	f.t.Helper()
	res, err := f.evaluate("(async () => JSON.stringify(await (" + expr + ")))()")
	var v struct{ Type, Value string }
	if err == nil {
		err = json.Unmarshal(res, &v)
	}
	if err == nil && v.Type != "string" {
		err = fmt.Errorf("the value is %s", v.Type)
	}
	if err == nil {
		err = json.Unmarshal([]byte(v.Value), out)
	}
	if err != nil {
		f.t.Fatalf("evaluating %s: %v", expr, err)
	}
}

// waitJS waits until the expression is true.
func (f *firefox) waitJS(what, expr string) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := f.evaluate("Boolean(" + expr + ")")
		var v struct{ Value bool }
		if err == nil && json.Unmarshal(res, &v) == nil && v.Value {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("waiting for %s: %s is still false (%v)", what, expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click scrolls the element into view and clicks its centre with the mouse.
func (f *firefox) click(selector string) {
	f.t.Helper()
	res, err := f.evaluate(`(() => { const el = document.querySelector(` + jsString(selector) + `);
		el?.scrollIntoView({block: 'nearest', inline: 'nearest'}); return el; })()`)
	var node struct{ Type, SharedID string }
	if err == nil {
		err = json.Unmarshal(res, &node)
	}
	if err == nil && node.Type != "node" {
		err = errors.New("no such element")
	}
	if err != nil {
		f.t.Fatalf("clicking %s: %v", selector, err)
	}
	origin := map[string]any{"type": "element", "element": map[string]string{"sharedId": node.SharedID}}
	f.actions("clicking "+selector, map[string]any{"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
		"actions": []map[string]any{
			{"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
			{"type": "pointerDown", "button": 0},
			{"type": "pointerUp", "button": 0},
		}})
}

// typeText types text into the focused element, one keyDown and keyUp a character.
func (f *firefox) typeText(text string) {
	f.t.Helper()
	var keys []map[string]any
	for _, r := range text {
		keys = append(keys, map[string]any{"type": "keyDown", "value": string(r)}, map[string]any{"type": "keyUp", "value": string(r)})
	}
	f.actions("typing "+text, map[string]any{"type": "key", "id": "keyboard", "actions": keys})
}

// press presses one key: "Enter", or a printable character.
func (f *firefox) press(key string) {
	f.t.Helper()
	value := key
	if key == "Enter" {
		value = "\uE007" // WebDriver's code for Enter
	}
	f.actions("pressing "+key, map[string]any{"type": "key", "id": "keyboard", "actions": []map[string]any{
		{"type": "keyDown", "value": value}, {"type": "keyUp", "value": value}}})
}

// actions performs one input source's actions in the tab.
func (f *firefox) actions(what string, source map[string]any) {
	f.t.Helper()
	f.must(what, "input.performActions", map[string]any{"context": f.tab, "actions": []any{source}}, nil)
}

// screenshot writes the whole page, as a PNG, to artifactsDir(t)/firefox.png.
func (f *firefox) screenshot() {
	dir := artifactsDir(f.t)
	var shot struct{ Data string }
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = f.call("browsingContext.captureScreenshot", map[string]any{"context": f.tab, "origin": "document"}, &shot)
	}
	var png []byte
	if err == nil {
		png, err = base64.StdEncoding.DecodeString(shot.Data)
	}
	file := filepath.Join(dir, "firefox.png")
	if err == nil {
		err = os.WriteFile(file, png, 0o644)
	}
	if err != nil {
		f.t.Logf("no Firefox screenshot: %v", err)
		return
	}
	f.t.Logf("screenshot of the Firefox tab: %s", file)
}
