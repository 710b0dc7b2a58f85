package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
)

// diskChildEnv marks the test process that runs the disk scenario inside its own
// mount namespace.
const diskChildEnv = "HOTLINE_DISK_TEST_CHILD"

// TestDiskFull_WebhookAnswers503AndRecovers fills the disk under a running hotline
// and checks what Twilio and the texter see. It needs Linux (mount namespaces and a
// size-limited tmpfs), hence the file name.
//
// The fault is real: the hotline's data directory is a tmpfs of 2 MiB, and the test
// fills it with a file until the kernel answers ENOSPC, so bbolt's writes fail
// exactly as on a full disk. To mount without touching the machine, the test runs
// itself again (this one test) in a new mount namespace — as root, or in a user
// namespace otherwise — where the mount lives and dies with the process. Where
// neither is possible the test skips, saying why; with CI=true as root it fails
// instead, since there it must run.
//
// It proves: while the disk is full a webhook that cannot be stored is answered 503
// (EUNAVAILABLE, so that Twilio tries the fallback URL) and leaves nothing behind (no
// message, no conversation, no contact); the hotline recovers by itself once space
// is freed — the same request retried is stored exactly once, and the welcomes that
// Twilio accepted while the disk was full (their outcome could not be recorded) and
// those of the retried texts are each created exactly once at the fake Twilio API;
// and the store's consistency check is clean.
func TestDiskFull_WebhookAnswers503AndRecovers(t *testing.T) {
	if os.Getenv(diskChildEnv) == "1" {
		diskFullScenario(t)
		return
	}
	if testing.Short() {
		t.Skip("the disk test runs the test binary again in a mount namespace; not in -short")
	}
	mustRun := os.Getenv("CI") == "true" && os.Geteuid() == 0
	skip := func(why string) {
		t.Helper()
		if mustRun {
			t.Fatalf("%s; as root under CI=true this test must run", why)
		}
		t.Skip(why + " (it runs as root, or where unprivileged user namespaces are allowed)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFull_WebhookAnswers503AndRecovers$", "-test.v", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), diskChildEnv+"=1")
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	cmd.SysProcAttr = attr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		skip(fmt.Sprintf("cannot start a process in a new mount namespace: %v", err))
	}
	text := out.String()
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "disk figures:") {
			t.Log(strings.TrimSpace(line))
		}
	}
	switch {
	case err != nil:
		t.Fatalf("the disk scenario failed (%v):\n%s", err, text)
	case strings.Contains(text, "--- SKIP"):
		skip("the disk scenario skipped:\n" + text)
	case !strings.Contains(text, "--- PASS"):
		t.Fatalf("the disk scenario did not report a result:\n%s", text)
	}
}

// diskFullScenario runs in the child process, in its own mount namespace.
func diskFullScenario(t *testing.T) {
	mnt := t.TempDir()
	// Mounts made here must not propagate back to the machine's namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Skipf("cannot make the mount namespace private: %v", err)
	}
	if err := syscall.Mount("hotline-disk-test", mnt, "tmpfs", 0, "size=2m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	dataDir := filepath.Join(mnt, "data")
	// The Twilio provider, with a slow fake API: texts the outbox claimed before
	// the disk filled are accepted by Twilio while it is full, and their outcome
	// cannot be recorded until it is freed.
	fake, err := faketwilio.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.SetFault(faketwilio.Fault{Latency: 300 * time.Millisecond})
	base, cfg, stop := startServe(t, dataDir, twilioEnv(fake, dataDir)...)
	admin := newAPISession(t, base, "admin", "correct horse battery staple")

	conversations := func() int {
		t.Helper()
		var list struct{ Conversations []struct{ ID string } }
		admin.mustCall("GET", "/api/v1/conversations?state=all", nil, &list)
		return len(list.Conversations)
	}
	lookup := func(sids []string) map[string]int {
		t.Helper()
		var out struct{ Counts map[string]int }
		admin.mustCall("POST", "/api/v1/messages/lookup", map[string][]string{"sids": sids}, &out)
		return out.Counts
	}
	type text struct{ sid, from, body string }
	newText := func(i int) text {
		return text{fmt.Sprintf("SM%032d", 900000+i), fmt.Sprintf("+1303555%04d", i), fmt.Sprintf("text %d, written while the disk may be full", i)}
	}
	post := func(x text) (int, string) {
		t.Helper()
		return postInboundAs(t, base, x.sid, x.from, x.body)
	}

	var acked []text
	for i := range 5 {
		x := newText(i)
		if status, body := post(x); status != http.StatusOK {
			t.Fatalf("before the disk fills: inbound = %d %s, want 200", status, body)
		}
		acked = append(acked, x)
	}

	// Fill the disk while the welcomes are being sent.
	waitUntil(t, "the outbox to send a welcome", func() bool { return len(fake.Creates()) > 0 })
	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)
	filledAt := time.Now()
	if got := conversations(); got != 5 {
		t.Fatalf("%d conversations before the disk filled, want 5", got)
	}

	// Every new texter texts once; what cannot be stored is answered 503.
	var refused []text
	for i := 5; i < 400 && len(refused) < 10; i++ {
		x := newText(i)
		status, body := post(x)
		switch status {
		case http.StatusOK:
			acked = append(acked, x) // the store reused free pages: nothing new to allocate
		case http.StatusServiceUnavailable:
			if !strings.Contains(body, hotline.EUNAVAILABLE) {
				t.Errorf("503 body = %s, want the EUNAVAILABLE error", body)
			}
			refused = append(refused, x)
		default:
			t.Fatalf("inbound on a full disk = %d %s, want 503 (or 200 when it fits)", status, body)
		}
	}
	if len(refused) == 0 {
		t.Fatal("no webhook was refused on a full disk: the fault did not bite")
	}
	// Twilio's fallback (or a retry) while the disk is still full: 503 again.
	if status, body := post(refused[0]); status != http.StatusServiceUnavailable {
		t.Errorf("the same request again on a full disk = %d %s, want 503", status, body)
	}
	// Nothing half-written: the refused texts are not stored, and the new texters
	// who sent them have no conversation.
	var sids []string
	for _, x := range refused {
		sids = append(sids, x.sid)
	}
	for sid, n := range lookup(sids) {
		if n != 0 {
			t.Errorf("refused text %s is stored %d times, want not at all", sid, n)
		}
	}
	if got, want := conversations(), len(acked); got != want {
		t.Errorf("%d conversations while the disk is full, want %d (one per acknowledged texter)", got, want)
	}

	// Free the disk: the hotline recovers by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freedAt := time.Now()
	for _, x := range refused {
		if status, body := post(x); status != http.StatusOK {
			t.Errorf("the refused text %s retried after the disk was freed = %d %s, want 200", x.sid, status, body)
		}
		acked = append(acked, x)
	}
	sids = sids[:0]
	for _, x := range acked {
		sids = append(sids, x.sid)
	}
	for sid, n := range lookup(sids) {
		if n != 1 {
			t.Errorf("text %s is stored %d times after recovery, want exactly once", sid, n)
		}
	}
	if got := conversations(); got != len(acked) {
		t.Errorf("%d conversations after recovery, want %d (one per texter)", got, len(acked))
	}
	// The outbox recovers too: every welcome is sent, once.
	fake.SetFault(faketwilio.Fault{})
	waitUntilFor(t, 30*time.Second, "every welcome to be sent after the disk was freed", func() bool { return allSent(t, admin) })
	stop()

	rep := readStore(t, cfg.DBPath())
	if len(rep.problems) > 0 {
		t.Errorf("the store's consistency check after a full disk: %v", rep.problems)
	}
	for _, x := range acked {
		if n := rep.inboundBySID[x.sid]; n != 1 {
			t.Errorf("text %s is stored %d times, want once", x.sid, n)
		}
	}
	if got, want := len(rep.inboundBySID), len(acked); got != want {
		t.Errorf("%d inbound texts stored, want %d", got, want)
	}
	if len(rep.outbox) > 0 {
		t.Errorf("%d texts left in the outbox", len(rep.outbox))
	}
	if refused := checkSentExactlyOnce(t, fake, rep, true); refused > 0 {
		t.Errorf("%d texts failed", refused)
	}
	whileFull := 0
	for _, c := range fake.Creates() {
		if c.At.After(filledAt.Add(-300*time.Millisecond)) && c.At.Before(freedAt) {
			whileFull++ // answered after the disk had filled
		}
	}
	t.Logf("disk figures: %d webhooks answered 503 on a full 2 MiB tmpfs (ENOSPC) and stored nothing; %d stored once after recovery; "+
		"%d texts in all; %d welcomes created once at the fake Twilio API, %d of them answered while the disk was full; store check clean",
		len(refused), len(refused), len(acked), len(fake.Outbound()), whileFull)
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v, want ENOSPC in the end", err)
			}
			return
		}
	}
}
