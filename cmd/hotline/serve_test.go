package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/webhooks"
)

const testAuthToken = "test-auth-token-0123456789abcdef"

// startServe runs the real serve on a free port with a fresh data directory and
// returns its base URL and a stop function that waits for a clean shutdown.
func startServe(t *testing.T, dataDir string, environ ...string) (base string, cfg config.Config, stop func()) {
	t.Helper()
	environ = append([]string{
		"HOTLINE_LISTEN=127.0.0.1:0",
		"HOTLINE_DATA_DIR=" + dataDir,
		"HOTLINE_TWILIO__AUTH_TOKEN=" + testAuthToken,
		"HOTLINE_ADMIN__PASSWORD=correct horse battery staple",
		"HOTLINE_LOG__FORMAT=json",
	}, environ...)
	var stderr lockedBuffer
	e := env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, environ: environ}
	cfg, err := loadConfig(e, "", "")
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, newLogger(&stderr, cfg.Log), e, func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve stopped before it was ready: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start within 10s\n%s", stderr.String())
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve returned %v\n%s", err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Errorf("serve did not stop within 15s")
			}
		})
	}
	t.Cleanup(stop)
	return base, cfg, stop
}

// postInbound posts a correctly signed inbound webhook and returns the status.
func postInbound(t *testing.T, base string, params url.Values) (int, string) {
	t.Helper()
	body := params.Encode()
	req, _ := http.NewRequest(http.MethodPost, base+webhooks.InboundPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", webhooks.Sign(testAuthToken, base+webhooks.InboundPath, params))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST inbound: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func inboundParams(sid, from, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "AccountSid": {"AC" + strings.Repeat("0", 32)}, "From": {from},
		"To": {"+15005550006"}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}}
}

func TestServeEndToEndStoresEveryAcknowledgedMessageOnce(t *testing.T) {
	dataDir := t.TempDir()
	base, cfg, stop := startServe(t, dataDir, "HOTLINE_LISTEN=127.0.0.1:0")

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	const texters, perTexter = 8, 5
	acked := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range texters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := fmt.Sprintf("+1415555%04d", i)
			for j := range perTexter {
				sid := fmt.Sprintf("SM%030d%02d", i, j)
				status, body := postInbound(t, base, inboundParams(sid, from, fmt.Sprintf("message %d from texter %d 🙂", j, i)))
				if status != http.StatusOK || !strings.Contains(body, "<Response/>") {
					t.Errorf("inbound %s = %d %q, want 200 with empty TwiML", sid, status, body)
					continue
				}
				// Twilio retries: the same SID again must change nothing.
				if status, _ := postInbound(t, base, inboundParams(sid, from, "retried")); status != http.StatusOK {
					t.Errorf("retried inbound %s = %d, want 200", sid, status)
				}
				mu.Lock()
				acked[sid] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	// A forged request is refused and stores nothing.
	params := inboundParams("SMforged000000000000000000000000", "+14155550199", "forged")
	req, _ := http.NewRequest(http.MethodPost, base+webhooks.InboundPath, strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", webhooks.Sign("wrong-token", base+webhooks.InboundPath, params))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged inbound = %d, want 403", resp.StatusCode)
	}
	stop()

	st, err := store.Open(cfg.DBPath(), store.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatalf("reopen the store after shutdown: %v", err)
	}
	defer st.Close()
	if problems, err := st.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("store check after shutdown: %v %v", problems, err)
	}
	counts := map[string]int{}
	conversations := 0
	err = st.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Conversations(hotline.ConversationFilter{}, func(c hotline.Conversation) error {
			conversations++
			return tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
				if m.Direction == hotline.DirectionInbound {
					counts[m.TwilioSID]++
					if m.Body == "retried" {
						t.Errorf("a retried webhook replaced message %s", m.TwilioSID)
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := conversations, texters; got != want {
		t.Errorf("conversations = %d, want %d (one per texter)", got, want)
	}
	for sid := range acked {
		if counts[sid] != 1 {
			t.Errorf("acknowledged message %s stored %d times, want exactly once", sid, counts[sid])
		}
	}
	if got, want := len(counts), texters*perTexter; got != want {
		t.Errorf("stored %d distinct inbound messages, want %d", got, want)
	}
	if counts["SMforged000000000000000000000000"] != 0 {
		t.Errorf("the forged message was stored")
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
