package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/store"
)

// runCmd runs one hotline command in-process and returns its exit code and output.
func runCmd(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, environ: environ}, args)
	return code, out.String(), errOut.String()
}

// seedDataDir runs a hotline, texts it from two numbers and stops it.
func seedDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	base, _, stop := startServe(t, dir)
	for i, from := range []string{"+14155550101", "+14155550102"} {
		if status, _ := postInbound(t, base, inboundParams(fmt.Sprintf("SM%032d", i), from, "=cmd|' /C calc'!A0 help")); status != http.StatusOK {
			t.Fatalf("inbound = %d", status)
		}
	}
	stop()
	return dir
}

func TestCheckExportBackupOnAStoppedDataDir(t *testing.T) {
	dir := seedDataDir(t)

	code, out, errOut := runCmd(t, nil, "check", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("check = %d %q %q, want 0 and ok", code, out, errOut)
	}

	code, out, errOut = runCmd(t, nil, "export", "--format", "jsonl", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("export jsonl = %d %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl lines = %d, want 2:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var conv map[string]any
		if err := json.Unmarshal([]byte(l), &conv); err != nil {
			t.Fatalf("line is not JSON: %v", err)
		}
		for _, k := range []string{"id", "state", "handle", "created_at", "closed_at", "messages"} {
			if _, ok := conv[k]; !ok {
				t.Errorf("conversation lacks %q: %s", k, l)
			}
		}
		if strings.Contains(l, "+14155550101") || strings.Contains(l, "+14155550102") {
			t.Errorf("an export shows a full number by default: %s", l)
		}
	}

	csvPath := filepath.Join(t.TempDir(), "out.csv")
	if code, _, errOut := runCmd(t, nil, "export", "--format", "csv", "--out", csvPath, "--data-dir", dir); code != 0 {
		t.Fatalf("export csv = %d %q", code, errOut)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rows), 1+4; got != want { // header + (inbound + welcome) × 2
		t.Errorf("csv rows = %d, want %d", got, want)
	}
	if st, _ := os.Stat(csvPath); st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode = %v, want 0600 (it holds what texters wrote)", st.Mode().Perm())
	}

	backup := filepath.Join(t.TempDir(), "backup", "hotline.db")
	if err := os.MkdirAll(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, nil, "backup", "--out", backup, "--data-dir", dir); code != 0 {
		t.Fatalf("backup = %d %q", code, errOut)
	}
	if code, out, _ := runCmd(t, nil, "check", "--data-dir", filepath.Dir(backup)); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("the backup does not check clean: %d %q", code, out)
	}
}

func TestToolsRefuseWhatTheyCannotDo(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	tests := []struct {
		name    string
		environ []string
		args    []string
		code    int
		stderr  string
	}{
		{"no command", nil, nil, 2, "usage"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", nil, []string{"check", "--nope"}, 2, "flag provided but not defined"},
		{"missing data dir", nil, []string{"check", "--data-dir", missing}, 1, "no hotline database"},
		{"bad export format", nil, []string{"export", "--format", "xml", "--data-dir", missing}, 2, "use jsonl, csv, pdf or bundle"},
		{"bad time", nil, []string{"export", "--from", "yesterday", "--data-dir", missing}, 2, "--from"},
		{"backup without --out", nil, []string{"backup"}, 2, "--out"},
		{"bad config key in the environment", []string{"HOTLINE_TWILIO__AUTH_TOKN=x"}, []string{"check", "--data-dir", missing}, 1, "HOTLINE_TWILIO__AUTH_TOKEN"},
		{"invalid value", []string{"HOTLINE_SMS__PROVIDER=carrier-pigeon"}, []string{"serve"}, 1, "sms.provider"},
		{"missing config file", nil, []string{"serve", "--config", missing}, 1, missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.environ, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("hotline %v = exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestSecondServerOnTheSameDataDirFailsClearly(t *testing.T) {
	dir := t.TempDir()
	startServe(t, dir)
	start := time.Now()
	code, _, stderr := runCmd(t, []string{"HOTLINE_LISTEN=127.0.0.1:0", "HOTLINE_DATA_DIR=" + dir, "HOTLINE_STORE__LOCK_TIMEOUT=500ms"}, "serve")
	if code != 1 || !strings.Contains(stderr, "locked by another process") {
		t.Errorf("second serve = exit %d, %q; want exit 1 and a clear lock error", code, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second serve took %v to fail, want about the lock timeout", d)
	}
}

func TestConcurrentRetriesOfOneMessageStoreItOnce(t *testing.T) {
	dir := t.TempDir()
	base, cfg, stop := startServe(t, dir)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, _ := postInbound(t, base, inboundParams("SM0123456789abcdef0123456789abcdef", "+14155550111", "hello")); status != http.StatusOK {
				t.Errorf("inbound = %d, want 200", status)
			}
		}()
	}
	wg.Wait()
	stop()
	st, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// One inbound text and its welcome.
	if stats.Conversations != 1 || stats.Messages != 2 {
		t.Errorf("after 20 concurrent deliveries of one MessageSid: %d conversations, %d messages; want 1 and 2", stats.Conversations, stats.Messages)
	}
}
