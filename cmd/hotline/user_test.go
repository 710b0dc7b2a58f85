package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// emptyDataDir makes a data directory holding a new, empty store.
func emptyDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "hotline.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestUserCommands(t *testing.T) {
	dir := emptyDataDir(t)
	pw := []string{passwordEnv + "=correct horse battery staple"}
	mustRun := func(environ []string, args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, environ, append(args, "--data-dir", dir)...)
		if code != 0 {
			t.Fatalf("hotline %s = exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	out := mustRun(pw, "user", "add", "--username", "Ana", "--role", "responder", "--languages", "en, es", "--capacity", "4", "--phone", "+14155550123")
	if !strings.HasPrefix(out, "added responder ana (") {
		t.Errorf("add = %q", out)
	}
	mustRun(pw, "user", "add", "--username", "cy", "--role", "coordinator")
	out = mustRun(nil, "user", "list")
	if !strings.Contains(out, "ana") || !strings.Contains(out, "en,es") || !strings.Contains(out, "coordinator") {
		t.Errorf("list = %q", out)
	}
	mustRun(nil, "user", "disable", "ana")
	if out := mustRun(nil, "user", "list"); !strings.Contains(out, "disabled") {
		t.Errorf("list after disable = %q", out)
	}
	mustRun(nil, "user", "enable", "ana")
	mustRun([]string{passwordEnv + "=a different passphrase"}, "user", "reset-password", "ana")
	out = mustRun(nil, "user", "totp", "ana")
	if !strings.Contains(out, "otpauth://totp/Hotline:ana?") || !strings.Contains(out, "secret: ") {
		t.Errorf("totp = %q, want the otpauth URL and the secret", out)
	}
	mustRun(nil, "user", "totp", "--off", "ana")

	// The password may come on standard input, too.
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), env{stdin: strings.NewReader("piped password here\n"), stdout: &stdout, stderr: &stderr},
		[]string{"user", "add", "--data-dir", dir, "--username", "dee", "--role", "responder"})
	if code != 0 {
		t.Errorf("add with a piped password = exit %d: %s", code, stderr.String())
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "add", "--username", "eve", "--role", "responder"}, 1, "no password"},
		{[]string{"user", "add", "--username", "ana", "--role", "responder"}, 1, "taken"},
		{[]string{"user", "add", "--role", "responder"}, 2, "--username and --role are required"},
		{[]string{"user", "disable", "nobody"}, 1, `there is no user "nobody"`},
		{[]string{"user", "disable"}, 2, "name the user"},
		{[]string{"user", "frobnicate"}, 2, "unknown subcommand"},
	} {
		environ := []string{}
		if strings.Contains(tt.want, "taken") {
			environ = pw
		}
		code, _, errOut := runCmd(t, environ, append(tt.args, "--data-dir", dir)...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("hotline %s = exit %d %q, want exit %d with %q", strings.Join(tt.args, " "), code, errOut, tt.code, tt.want)
		}
	}
	code, _, errOut := runCmd(t, pw, "user", "add", "--username", "x", "--role", "responder", "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "no hotline database") {
		t.Errorf("add on an empty directory = exit %d %q, want a refusal", code, errOut)
	}

	// Every change went to the audit log as the command line.
	st, err := store.Open(filepath.Join(dir, "hotline.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	actions := map[hotline.AuditAction]bool{}
	err = st.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.AuditEntries(hotline.ID{}, func(e hotline.AuditEntry) error {
			if e.ActorUsername != "cli" {
				t.Errorf("audit entry %s by %q, want cli", e.Action, e.ActorUsername)
			}
			actions[e.Action] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []hotline.AuditAction{hotline.AuditUserCreate, hotline.AuditUserDisable, hotline.AuditUserEnable,
		hotline.AuditPasswordReset, hotline.AuditTOTPEnable, hotline.AuditTOTPDisable} {
		if !actions[a] {
			t.Errorf("no %s entry in the audit log", a)
		}
	}
}

// The first start without admin.password prints a generated password once, framed,
// and logs that it did without the password; later starts create nothing.
func TestServe_FirstCoordinatorWithAGeneratedPassword(t *testing.T) {
	dir := t.TempDir()
	start := func() (stdout, logs string) {
		var out, errOut lockedBuffer
		e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
			environ: []string{"HOTLINE_LISTEN=127.0.0.1:0", "HOTLINE_DATA_DIR=" + dir, "HOTLINE_LOG__FORMAT=json"}}
		cfg, err := loadConfig(e, "", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve(ctx, cfg, newLogger(&errOut, cfg.Log), e, func(string) { cancel() }) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
		}
		return out.String(), errOut.String()
	}
	out, logs := start()
	i := strings.Index(out, "password: ")
	if i < 0 || !strings.Contains(out, "username: admin") || !strings.Contains(out, "=====") {
		t.Fatalf("first start printed %q, want the framed username and password", out)
	}
	password := strings.TrimSpace(strings.SplitN(out[i+len("password: "):], "\n", 2)[0])
	if len(password) < 20 || strings.Contains(logs, password) {
		t.Errorf("password %q: want a long one, never in the logs", password)
	}
	if !strings.Contains(logs, "generated password was printed") {
		t.Errorf("logs = %s, want a line saying a password was printed", logs)
	}
	if out, _ := start(); out != "" {
		t.Errorf("second start printed %q, want nothing: the password is never regenerated", out)
	}
}

// The real server, signed in as the first coordinator: the load tool's path.
func TestServe_ConsoleSignInAndLookup(t *testing.T) {
	base, _, _ := startServe(t, t.TempDir())
	if status, _ := postInbound(t, base, inboundParams("SM00000000000000000000000000000001", "+14155550101", "help")); status != http.StatusOK {
		t.Fatalf("inbound = %d", status)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path, csrf string, body any) (int, []byte) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, body := post("/api/v1/login", "", map[string]string{"username": "admin", "password": "correct horse battery staple"})
	var login struct {
		CSRFToken string `json:"csrf_token"`
		User      struct{ Role string }
	}
	if err := json.Unmarshal(body, &login); status != 200 || err != nil || login.User.Role != "coordinator" {
		t.Fatalf("login as the first coordinator = %d %s", status, body)
	}
	status, body = post("/api/v1/messages/lookup", login.CSRFToken, map[string]any{"sids": []string{"SM00000000000000000000000000000001", "SMmissing"}})
	if status != 200 || string(body) != `{"counts":{"SM00000000000000000000000000000001":1,"SMmissing":0}}`+"\n" {
		t.Errorf("lookup = %d %s", status, body)
	}
	if status, _ := post("/api/v1/messages/lookup", "", map[string]any{"sids": []string{}}); status != http.StatusForbidden {
		t.Errorf("lookup without the CSRF header = %d, want 403", status)
	}
}

// A configured admin password that breaks the policy stops the first start clearly.
func TestServe_FirstCoordinatorPasswordTooShort(t *testing.T) {
	var out, errOut lockedBuffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		environ: []string{"HOTLINE_LISTEN=127.0.0.1:0", "HOTLINE_DATA_DIR=" + t.TempDir(), "HOTLINE_ADMIN__PASSWORD=short"}}
	cfg, err := loadConfig(e, "", "")
	if err != nil {
		t.Fatal(err)
	}
	err = serve(context.Background(), cfg, newLogger(&errOut, cfg.Log), e, nil)
	if err == nil || !strings.Contains(err.Error(), "admin.password") || !strings.Contains(err.Error(), "at least 12 characters") {
		t.Errorf("serve with a short admin password = %v, want an error naming admin.password and the rule", err)
	}
}
