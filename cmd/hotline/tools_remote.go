package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/export"
)

// apiTokenEnv holds a coordinator's API token for `hotline export|backup --server`.
const apiTokenEnv = "HOTLINE_API_TOKEN"

// remote is a client of a running hotline: with an API token (Authorization:
// Bearer), or signed in as a coordinator with a session cookie.
type remote struct {
	base   string
	token  string
	client *http.Client
	csrf   string
}

// connect prepares calls to the server at base: with the API token from the
// environment, else by signing in as username.
func connect(ctx context.Context, e env, base, username, totp string) (*remote, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("--server %q: write the hotline's URL, like https://hotline.example.org", base)}
	}
	r := &remote{base: strings.TrimRight(base, "/"), client: &http.Client{}}
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, apiTokenEnv+"="); ok && v != "" {
			r.token = v
		}
	}
	if r.token != "" && username == "" {
		return r, nil
	}
	if username == "" {
		return nil, usageError{"--server needs a coordinator's API token in " + apiTokenEnv + " (make one in the console or with POST /api/v1/tokens), or --username"}
	}
	r.token = ""
	password, err := readPassword(e, false)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	r.client.Jar = jar
	body, _ := json.Marshal(map[string]string{"username": username, "password": password, "totp": totp})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("signing in at %s: %w", r.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("signing in as %s: %s", username, apiError(resp))
	}
	var answer struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, fmt.Errorf("signing in: %w", err)
	}
	r.csrf = answer.CSRFToken
	return r, nil
}

// close signs out, when signed in.
func (r *remote) close() {
	if r.csrf == "" {
		return
	}
	req, err := http.NewRequest(http.MethodPost, r.base+"/api/v1/logout", nil)
	if err != nil {
		return
	}
	req.Header.Set(console.CSRFHeader, r.csrf)
	if resp, err := r.client.Do(req); err == nil {
		resp.Body.Close()
	}
}

// download GETs path into w and checks that the server said it was complete.
func (r *remote) download(ctx context.Context, path string, w io.Writer, onHeader func(http.Header)) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return 0, err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s", apiError(resp))
	}
	if onHeader != nil {
		onHeader(resp.Header)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("%w (%v)", errCutShort, err)
	}
	if resp.Trailer.Get(console.ExportStatusTrailer) != "complete" {
		return n, errCutShort
	}
	return n, nil
}

// apiError reads the server's {"error":{"code","message"}}.
func apiError(resp *http.Response) string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
		return fmt.Sprintf("%s (%d %s)", e.Error.Message, resp.StatusCode, e.Error.Code)
	}
	return resp.Status
}

func remoteExport(ctx context.Context, e env, server, username, totp string, f exportFlags) error {
	r, err := connect(ctx, e, server, username, totp)
	if err != nil {
		return err
	}
	defer r.close()
	q := url.Values{}
	for k, v := range map[string]string{"format": f.format, "from": f.from, "to": f.to, "state": f.states, "disposition": f.dispositions,
		"tag": f.tags, "responder": f.responders, "ids": f.ids} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, v := range map[string]bool{"notes": f.notes, "reveal": f.reveal, "mask_bodies": f.maskBodies} {
		if v {
			q.Set(k, "true")
		}
	}
	bar := newProgress(e, f.noProgress, "conversations")
	if bar != nil {
		q.Set("count", "1")
	}
	return writeOutput(f.out, e.stdout, func(w io.Writer) error {
		var counter io.Writer = io.Discard
		if bar != nil && f.format != string(export.FormatBundle) {
			counter = newConversationCounter(f.format, len(splitList(f.ids)) == 1, bar)
		}
		_, err := r.download(ctx, "/api/v1/export?"+q.Encode(), io.MultiWriter(w, counter), func(h http.Header) {
			if n, err := strconv.ParseInt(h.Get(console.ExportCountHeader), 10, 64); err == nil && bar != nil {
				bar.total = n
			}
		})
		bar.done()
		if err == nil {
			fmt.Fprintf(e.stderr, "export from %s written\n", r.base)
		}
		return err
	})
}

func remoteBackup(ctx context.Context, e env, server, username, totp, out string, noProgress bool) error {
	r, err := connect(ctx, e, server, username, totp)
	if err != nil {
		return err
	}
	defer r.close()
	bar := newProgress(e, noProgress, "bytes")
	err = writeOutput(out, e.stdout, func(w io.Writer) error {
		var counter io.Writer = io.Discard
		if bar != nil {
			counter = byteCounter{bar}
		}
		n, err := r.download(ctx, "/api/v1/admin/backup", io.MultiWriter(w, counter), nil)
		bar.done()
		if err == nil {
			fmt.Fprintf(e.stdout, "backup of %s written to %s (%d bytes); check it with: hotline check --data-dir DIR (with the file as DIR/hotline.db)\n", r.base, out, n)
		}
		return err
	})
	return err
}

// progress is a progress bar on standard error, drawn only on a terminal, at most
// five times a second.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	unit  string
	total int64
	n     int64
	last  time.Time
	start time.Time
}

// newProgress returns a progress bar, or nil when standard error is not a terminal
// (nil's methods do nothing).
func newProgress(e env, off bool, unit string) *progress {
	f, ok := e.stderr.(*os.File)
	if off || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: e.stderr, unit: unit, start: time.Now()}
}

func (p *progress) add(d int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.n += d
	p.draw(false)
	p.mu.Unlock()
}

func (p *progress) set(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.n = n
	p.draw(false)
	p.mu.Unlock()
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.draw(true)
	fmt.Fprintln(p.w)
	p.mu.Unlock()
}

func (p *progress) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Round(time.Second)
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s %s  %s ", humanCount(p.n, p.unit), p.unit, elapsed)
		return
	}
	const width = 30
	frac := min(1, float64(p.n)/float64(p.total))
	filled := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %s/%s %s  %s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		frac*100, humanCount(p.n, p.unit), humanCount(p.total, p.unit), p.unit, elapsed)
}

func humanCount(n int64, unit string) string {
	if unit == "bytes" && n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return strconv.FormatInt(n, 10)
}

type byteCounter struct{ p *progress }

func (b byteCounter) Write(p []byte) (int, error) { b.p.add(int64(len(p))); return len(p), nil }

// conversationCounter counts the conversations of an export as it streams by: JSON
// Lines has one per line; CSV rows start with the conversation ID (a line break
// inside a quoted body does not start a row); a zip of PDFs has one local file header
// per conversation; a single PDF is one.
type conversationCounter struct {
	format   string
	single   bool
	p        *progress
	inQuotes bool
	rowStart bool
	cur, id  []byte
	tail     []byte
	lines    int
}

func newConversationCounter(format string, singleID bool, p *progress) *conversationCounter {
	return &conversationCounter{format: format, single: singleID, p: p, rowStart: false}
}

func (c *conversationCounter) Write(b []byte) (int, error) {
	switch c.format {
	case "csv":
		for _, ch := range b {
			switch {
			case c.rowStart && len(c.cur) < 26:
				c.cur = append(c.cur, ch)
				if len(c.cur) == 26 {
					c.rowStart = false
					if !bytes.Equal(c.cur, c.id) {
						c.id = append(c.id[:0], c.cur...)
						c.p.add(1)
					}
				}
				if ch == '"' {
					c.inQuotes = !c.inQuotes
				}
			case ch == '"':
				c.inQuotes = !c.inQuotes
			case ch == '\n' && !c.inQuotes:
				c.rowStart, c.cur = true, c.cur[:0]
				if c.lines++; c.lines == 1 {
					c.id = c.id[:0] // the header row is not a conversation
				}
			}
		}
	case "pdf":
		if c.single {
			return len(b), nil
		}
		data := append(c.tail, b...)
		c.p.add(int64(bytes.Count(data, []byte("PK\x03\x04"))))
		keep := min(3, len(data))
		c.tail = append(c.tail[:0], data[len(data)-keep:]...)
	default:
		c.p.add(int64(bytes.Count(b, []byte{'\n'})))
	}
	return len(b), nil
}
