package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// seedStore writes conversations × perConversation messages straight into a new
// data directory's store, in big transactions: the fastest way to a large hotline.
// Conversation i is closed, created daysAgo days before now.
func seedStore(t testing.TB, dir string, conversations, perConversation int, daysAgo int) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "hotline.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	const perTx = 100
	for first := 0; first < conversations; first += perTx {
		err := st.Update(context.Background(), func(tx hotline.Tx) error {
			for i := first; i < min(first+perTx, conversations); i++ {
				at := start.Add(time.Duration(i) * time.Second)
				c := hotline.Contact{ID: hotline.NewID(at), Address: hotline.Address(fmt.Sprintf("+1202%07d", i)),
					Handle: fmt.Sprintf("T-%06d", i), FirstSeen: at, LastSeen: at}
				conv := hotline.Conversation{ID: hotline.NewID(at), ContactID: c.ID, Handle: c.Handle, State: hotline.StateClosed,
					Priority: hotline.PriorityNormal, Language: "en", CreatedAt: at, UpdatedAt: at, ClosedAt: at.Add(time.Minute),
					ClosedReason: "responder", Disposition: "Support given"}
				if err := tx.PutContact(c); err != nil {
					return err
				}
				if err := tx.PutConversation(conv); err != nil {
					return err
				}
				for j := range perConversation {
					m := hotline.Message{ID: hotline.NewID(at), ConversationID: conv.ID, Direction: hotline.DirectionInbound,
						Body: fmt.Sprintf("message %d of conversation %d: I need help, please 🙂", j, i), Status: hotline.StatusReceived,
						CreatedAt: at, UpdatedAt: at}
					if j%2 == 1 {
						m.Direction, m.Status, m.Purpose = hotline.DirectionOutbound, hotline.StatusDelivered, hotline.PurposeReply
					}
					if err := tx.PutMessage(m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// console is a signed-in coordinator's HTTP client.
type consoleClient struct {
	base string
	http *http.Client
	csrf string
}

func coordinatorSignIn(t *testing.T, base string) *consoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &consoleClient{base: base, http: &http.Client{Jar: jar}}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	if status := c.call(t, "POST", "/api/v1/login", map[string]string{"username": "admin", "password": "correct horse battery staple"}, &out); status != 200 {
		t.Fatalf("sign-in = %d", status)
	}
	c.csrf = out.CSRFToken
	return c
}

func (c *consoleClient) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func (c *consoleClient) newToken(t *testing.T) (token, id string) {
	t.Helper()
	var out struct {
		Token    string `json:"token"`
		APIToken struct {
			ID string `json:"id"`
		} `json:"api_token"`
	}
	if status := c.call(t, "POST", "/api/v1/tokens", map[string]any{"name": "test export"}, &out); status != 201 {
		t.Fatalf("POST /api/v1/tokens = %d", status)
	}
	return out.Token, out.APIToken.ID
}

// webhookLoad posts signed inbound texts from new numbers until stop is closed and
// returns each acknowledgement's status and latency.
func webhookLoad(t *testing.T, base string, workers int, stop <-chan struct{}) (results func() ([]int, []time.Duration)) {
	var mu sync.Mutex
	var statuses []int
	var latencies []time.Duration
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := n.Add(1)
				startAt := time.Now()
				status, _ := postInbound(t, base, inboundParams(fmt.Sprintf("SMload%04d%026d", w, i), fmt.Sprintf("+1303%07d", i), "help, are you there?"))
				mu.Lock()
				statuses, latencies = append(statuses, status), append(latencies, time.Since(startAt))
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return func() ([]int, []time.Duration) {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return statuses, latencies
	}
}

// TestExportOf100kMessagesWhileWebhooksAreAnswered seeds 100,000 messages, then
// exports them all through the API with the CLI (an API token) while signed
// webhooks keep arriving: every webhook is acknowledged with 200, quickly, because
// the export reads in short transactions; the export is complete and audited.
func TestExportOf100kMessagesWhileWebhooksAreAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 messages")
	}
	dir := t.TempDir()
	const conversations, perConversation = 2000, 50
	seedStore(t, dir, conversations, perConversation, 3)
	base, _, _ := startServe(t, dir)
	admin := coordinatorSignIn(t, base)
	token, _ := admin.newToken(t)

	stop := make(chan struct{})
	results := webhookLoad(t, base, 4, stop)
	out := filepath.Join(t.TempDir(), "all.jsonl")
	began := time.Now()
	code, _, errOut := runCmd(t, []string{apiTokenEnv + "=" + token}, "export", "--server", base, "--format", "jsonl", "--out", out, "--notes")
	took := time.Since(began)
	time.Sleep(100 * time.Millisecond) // a few more webhooks right after the export
	close(stop)
	statuses, latencies := results()
	if code != 0 {
		t.Fatalf("export --server = %d: %s", code, errOut)
	}

	// The export: every seeded conversation, every message.
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	lines, messages := 0, 0
	for sc.Scan() {
		var conv struct{ Messages []json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &conv); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		lines++
		messages += len(conv.Messages)
	}
	if lines < conversations || messages < conversations*perConversation {
		t.Errorf("exported %d conversations and %d messages, want at least %d and %d", lines, messages, conversations, conversations*perConversation)
	}

	// The webhooks during the export: all acknowledged, none slow.
	if len(statuses) < 10 {
		t.Fatalf("only %d webhooks ran during a %v export: the load did not overlap it", len(statuses), took)
	}
	slices.Sort(latencies)
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("webhook %d answered %d", i, s)
		}
	}
	p99 := latencies[len(latencies)*99/100]
	worst := latencies[len(latencies)-1]
	t.Logf("export of %d conversations (%d messages) took %v; %d webhooks during it: p50 %v, p99 %v, max %v",
		lines, messages, took, len(latencies), latencies[len(latencies)/2], p99, worst)
	if worst > 3*time.Second {
		t.Errorf("the slowest webhook acknowledgement took %v during the export, want well under Twilio's 15 s (bound 3 s)", worst)
	}

	// The audit log: the export, by the token's user, with its count.
	var audit struct {
		Entries []struct {
			Action        string            `json:"action"`
			ActorUsername string            `json:"actor_username"`
			Detail        map[string]string `json:"detail"`
		} `json:"entries"`
	}
	admin.call(t, "GET", "/api/v1/audit?limit=50", nil, &audit)
	found := false
	for _, e := range audit.Entries {
		if e.Action == "export" && e.Detail["status"] == "completed" && e.ActorUsername == "admin" {
			found = e.Detail["conversations"] == fmt.Sprint(lines) && e.Detail["messages"] == fmt.Sprint(messages)
		}
	}
	if !found {
		t.Errorf("no completed export with %d conversations in the audit log: %+v", lines, audit.Entries)
	}
}

// TestBackupUnderLoadChecksClean takes a backup through the admin API, signed in
// with a username and a password, while webhooks arrive; the copy opens and checks
// clean and holds at least what was there before.
func TestBackupUnderLoadChecksClean(t *testing.T) {
	dir := t.TempDir()
	seedStore(t, dir, 300, 20, 3)
	base, _, _ := startServe(t, dir)
	stop := make(chan struct{})
	results := webhookLoad(t, base, 2, stop)
	time.Sleep(50 * time.Millisecond)
	backupDir := t.TempDir()
	out := filepath.Join(backupDir, "hotline.db")
	code, stdout, errOut := runCmd(t, []string{passwordEnv + "=correct horse battery staple"}, "backup", "--server", base, "--username", "admin", "--out", out)
	close(stop)
	statuses, _ := results()
	if code != 0 {
		t.Fatalf("backup --server = %d: %s %s", code, stdout, errOut)
	}
	for _, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a webhook during the backup answered %d", s)
		}
	}
	if code, out, _ := runCmd(t, nil, "check", "--data-dir", backupDir); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("the backup does not check clean: %d %s", code, out)
	}
	st, err := store.Open(out, store.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, _ := st.Stats(context.Background())
	if stats.Messages < 300*20 || stats.SchemaVersion != store.SchemaVersion() {
		t.Errorf("backup stats = %+v, want at least the %d seeded messages", stats, 300*20)
	}
	// A wrong password is refused, and writes nothing.
	bad := filepath.Join(t.TempDir(), "bad.db")
	if code, _, errOut := runCmd(t, []string{passwordEnv + "=wrong wrong wrong"}, "backup", "--server", base, "--username", "admin", "--out", bad); code == 0 ||
		!strings.Contains(errOut, "Wrong username") {
		t.Errorf("backup with a wrong password = %d %q", code, errOut)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a refused backup left a file")
	}
}

// TestAPITokenScope: a token reaches the export and the backup only.
func TestAPITokenScope(t *testing.T) {
	dir := t.TempDir()
	base, _, _ := startServe(t, dir)
	admin := coordinatorSignIn(t, base)
	token, id := admin.newToken(t)
	get := func(method, path, tok string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/v1/export?format=csv", 200},
		{"GET", "/api/v1/admin/backup", 200},
		{"GET", "/api/v1/me", 403},
		{"GET", "/api/v1/conversations", 403},
		{"GET", "/api/v1/users", 403},
		{"GET", "/api/v1/audit", 403},
		{"GET", "/api/v1/dashboard", 403},
		{"POST", "/api/v1/tokens", 403},
		{"POST", "/api/v1/users", 403},
		{"DELETE", "/api/v1/tokens/" + id, 403},
		{"POST", "/api/v1/logout", 403},
	} {
		if got := get(tt.method, tt.path, token); got != tt.want {
			t.Errorf("%s %s with an API token = %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
	if got := get("GET", "/api/v1/export", "hlt_forged"); got != 401 {
		t.Errorf("a forged token = %d, want 401", got)
	}
	if status := admin.call(t, "DELETE", "/api/v1/tokens/"+id, nil, nil); status != 204 {
		t.Fatalf("revoke = %d", status)
	}
	if got := get("GET", "/api/v1/export", token); got != 401 {
		t.Errorf("a revoked token = %d, want 401", got)
	}
}

func TestPurgeOnAStoppedDataDir(t *testing.T) {
	dir := t.TempDir()
	seedStore(t, dir, 40, 3, 100) // closed 100 days ago
	code, out, errOut := runCmd(t, nil, "purge", "--dry-run", "--days", "30", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "would purge") || !strings.Contains(out, "40 conversations, 120 messages") {
		t.Fatalf("purge --dry-run = %d %q %q", code, out, errOut)
	}
	if code, out, _ := runCmd(t, nil, "purge", "--days", "90", "--data-dir", dir); code != 0 || !strings.Contains(out, "purged") ||
		!strings.Contains(out, "40 conversations") {
		t.Fatalf("purge = %d %q", code, out)
	}
	if code, out, _ := runCmd(t, nil, "check", "--data-dir", dir); code != 0 {
		t.Errorf("check after the purge = %d %s", code, out)
	}
	if code, out, _ := runCmd(t, nil, "purge", "--data-dir", dir); code != 0 || !strings.Contains(out, "kept forever") {
		t.Errorf("purge with retention.days 0 = %d %q", code, out)
	}
	if code, _, _ := runCmd(t, nil, "purge", "--days", "3", "--data-dir", dir); code != 2 {
		t.Errorf("purge --days 3 = %d, want a usage error", code)
	}
}

func TestConversationCounter(t *testing.T) {
	for _, tt := range []struct {
		format string
		data   string
		want   int64
	}{
		{"jsonl", "{\"id\":1}\n{\"id\":2}\n", 2},
		{"csv", "conversation_id,body\n01AAAAAAAAAAAAAAAAAAAAAAAA,\"a\nb\"\n01AAAAAAAAAAAAAAAAAAAAAAAA,c\n01BBBBBBBBBBBBBBBBBBBBBBBB,d\n", 2},
		{"pdf", "PK\x03\x04xxxxPK\x03\x04yyPK\x03", 2},
	} {
		p := &progress{w: io.Discard}
		c := newConversationCounter(tt.format, false, p)
		for i := range len(tt.data) { // one byte at a time: boundaries anywhere
			_, _ = c.Write([]byte{tt.data[i]})
		}
		if p.n != tt.want {
			t.Errorf("%s: counted %d conversations, want %d", tt.format, p.n, tt.want)
		}
	}
}
