package main

// Helpers for the tests that run the real hotline binary as a subprocess (crash and
// outage tests): build it once per test, start `hotline serve` with HOTLINE_*
// settings and a fake Twilio API, find its address in its JSON log, kill it.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/webhooks"
)

// buildHotline builds the hotline binary into a temporary directory and returns its
// path. The build cache makes every build after the first a link.
func buildHotline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hotline")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// twilioEnv is the environment of a hotline that sends through the fake Twilio API,
// with the outbox's first retry after 100ms instead of 2s so that a test's outage
// window is short, and no send rate limit to speak of.
func twilioEnv(fake *faketwilio.Server, dataDir string) []string {
	return []string{
		"HOTLINE_LISTEN=127.0.0.1:0",
		"HOTLINE_DATA_DIR=" + dataDir,
		"HOTLINE_ADMIN__PASSWORD=correct horse battery staple",
		"HOTLINE_LOG__FORMAT=json",
		"HOTLINE_SMS__PROVIDER=twilio",
		"HOTLINE_TWILIO__ACCOUNT_SID=" + faketwilio.AccountSID,
		"HOTLINE_TWILIO__AUTH_TOKEN=" + faketwilio.AuthToken,
		"HOTLINE_TWILIO__FROM=" + faketwilio.From,
		"HOTLINE_TWILIO__API_URL=" + fake.URL(),
		"HOTLINE_TWILIO__MPS=1000",
		"HOTLINE_TWILIO__REQUEST_TIMEOUT=1s",
		"HOTLINE_OUTBOX__FIRST_RETRY_DELAY=100ms",
		// The test reads the store afterwards without a master key.
		"HOTLINE_CRYPTO__ALLOW_PLAINTEXT=true",
	}
}

// hotlineProc is one run of `hotline serve` as a subprocess.
type hotlineProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	logPath string
	url     string        // http://127.0.0.1:port, once running
	exited  chan struct{} // closed when the process has exited
	err     error         // the exit, once exited
	waitFor <-chan string // the URL, from the "hotline is running" line
}

// startHotline starts `hotline serve` with environ (and PATH, HOME) and returns at
// once; call waitRunning for its URL. Its log is appended to logPath.
func startHotline(t *testing.T, bin, logPath string, environ []string) *hotlineProc {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, environ...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start hotline serve: %v", err)
	}
	p := &hotlineProc{t: t, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	running := make(chan string, 1)
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		// Copy the log line by line, watching for the line that gives the address.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			logFile.Write(line)
			logFile.Write([]byte{'\n'})
			var entry struct{ Message, Console string }
			if json.Unmarshal(line, &entry) == nil && entry.Message == "hotline is running" {
				select {
				case running <- strings.TrimSuffix(entry.Console, "/"):
				default:
				}
			}
		}
		_, _ = io.Copy(logFile, stderr)
	}()
	go func() {
		copied.Wait() // the pipe must be drained before Wait closes it
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	p.waitFor = running
	t.Cleanup(func() { p.kill() })
	return p
}

// waitRunning waits for the "hotline is running" log line and returns the URL.
func (p *hotlineProc) waitRunning() string {
	p.t.Helper()
	select {
	case url := <-p.waitFor:
		p.url = url
		return url
	case <-p.exited:
		p.t.Fatalf("hotline serve exited before it was running: %v\n%s", p.err, tail(p.logPath, 30))
	case <-time.After(30 * time.Second):
		p.t.Fatalf("hotline serve was not running within 30s\n%s", tail(p.logPath, 30))
	}
	return ""
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *hotlineProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks the process to shut down (SIGTERM) and waits for a clean exit.
func (p *hotlineProc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			p.t.Errorf("hotline serve exited with %v after SIGTERM\n%s", p.err, tail(p.logPath, 30))
		}
	case <-time.After(30 * time.Second):
		p.t.Errorf("hotline serve did not stop within 30s of SIGTERM")
		p.kill()
	}
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runCheckBinary runs `hotline check --data-dir dir` and fails the test unless it is clean.
func runCheckBinary(t *testing.T, bin, dataDir string) {
	t.Helper()
	cmd := exec.Command(bin, "check", "--data-dir", dataDir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HOTLINE_LOG__FORMAT=json"}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": ok") {
		t.Fatalf("hotline check --data-dir %s: %v\n%s", dataDir, err, out)
	}
}

// storedOutbound is an outbound message as the store holds it, with its recipient.
type storedOutbound struct {
	hotline.Message
	To hotline.Address
}

// storeReport is what a stopped hotline's store holds, for the tests' accounting.
type storeReport struct {
	conversations int
	// conversationsByTexter counts conversations per texter address.
	conversationsByTexter map[hotline.Address]int
	inboundBySID          map[string]int
	outbound              []storedOutbound
	outbox                []hotline.OutboxEntry
	problems              []string
}

// readStore opens a stopped hotline's store, checks it and reads what the tests
// account for.
func readStore(t *testing.T, path string) storeReport {
	t.Helper()
	st, err := store.Open(path, store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	r := storeReport{conversationsByTexter: map[hotline.Address]int{}, inboundBySID: map[string]int{}}
	if r.problems, err = st.Check(ctx); err != nil {
		t.Fatalf("store check: %v", err)
	}
	err = st.View(ctx, func(tx hotline.ReadTx) error {
		if err := tx.Conversations(hotline.ConversationFilter{}, func(c hotline.Conversation) error {
			r.conversations++
			contact, err := tx.Contact(c.ContactID)
			if err != nil {
				return fmt.Errorf("conversation %s: contact: %w", c.ID, err)
			}
			r.conversationsByTexter[contact.Address]++
			return tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
				switch m.Direction {
				case hotline.DirectionInbound:
					r.inboundBySID[m.TwilioSID]++
				case hotline.DirectionOutbound:
					r.outbound = append(r.outbound, storedOutbound{Message: m, To: contact.Address})
				}
				return nil
			})
		}); err != nil {
			return err
		}
		return tx.Outbox(func(e hotline.OutboxEntry) error {
			r.outbox = append(r.outbox, e)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read the store: %v", err)
	}
	return r
}

// postForm posts a form to base+path signed with token for that URL, as Twilio
// does, and returns the status and the answer.
func postForm(t *testing.T, base, path, token string, params url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(token, base+path, params))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
