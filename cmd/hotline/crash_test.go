package main

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/loadtest"
	"github.com/hotlinehq/hotline/webhooks"
)

// TestCrash_SIGKILLUnderLoad builds the real binary, runs `hotline serve` with the
// Twilio provider pointed at a fake Twilio API, puts it under load from the load
// tool and kills it with SIGKILL at random moments, round after round; some rounds
// kill it while it is still starting (reconciling the outbox). After every kill
// `hotline check` must be clean. At the end the hotline runs once more until its
// outbox is empty and stops, and the test proves:
//
//   - every MessageSid that was answered 200 is stored exactly once, and no
//     MessageSid is stored twice;
//   - the outbox resumed: nothing is left in it, and every automatic text is sent;
//   - the fake Twilio API created each text exactly once: each text it holds is one
//     stored message (by SID, recipient and body), and each texter got exactly one
//     welcome per conversation.
//
// HOTLINE_CRASH_ROUNDS (default 20) and HOTLINE_CRASH_SEED (default: the time; the
// seed is logged) change the run; `make crash` runs more rounds.
func TestCrash_SIGKILLUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test builds and runs the binary; not in -short")
	}
	rounds := envInt(t, "HOTLINE_CRASH_ROUNDS", 20)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HOTLINE_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("HOTLINE_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("crash test: %d rounds per workload, seed %d (HOTLINE_CRASH_SEED=%d reproduces the kill times)", rounds, seed, seed)
	bin := buildHotline(t)
	t.Run("new texters", func(t *testing.T) {
		// Mostly new texters, each opening a conversation that gets a welcome, at a
		// rate the outbox keeps up with: the kill finds sends in flight.
		crashRounds(t, bin, rounds, seed, crashLoad{texters: 20000, rate: 200, keywords: -1, welcomes: true})
	})
	t.Run("the same texters, with keywords", func(t *testing.T) {
		// Thirty texters who keep texting, a third of the time HELP, INFO, AYUDA,
		// STOP or START: the same automatic text goes to the same number again and
		// again, the case where matching by recipient and body is hardest, and
		// texters opt out (texts to them are refused, never sent) and back in.
		// The automatic-reply cap is lifted so that they keep getting them.
		crashRounds(t, bin, rounds, seed+1, crashLoad{texters: 30, rate: 100, keywords: 0.3,
			environ: []string{"HOTLINE_CONVERSATION__AUTO_REPLY_CAP=100000"}})
	})
}

// crashLoad is the load of one crash workload.
type crashLoad struct {
	texters  int
	rate     float64
	keywords float64 // loadtest.Options.KeywordShare
	// welcomes: every conversation got exactly one welcome (not so with keywords,
	// which may open a conversation with another text).
	welcomes bool
	// environ is added to the hotline's environment.
	environ []string
}

// crashRounds runs rounds of load and SIGKILL, then the last run and the checks.
func crashRounds(t *testing.T, bin string, rounds int, seed uint64, load crashLoad) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	fake, err := faketwilio.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	// A slow API: a kill is likely to land after Twilio created a text and before
	// the hotline recorded that it did, which only reconciliation can settle.
	fake.SetFault(faketwilio.Fault{Latency: 30 * time.Millisecond})

	dir := t.TempDir()
	dataDir, logPath := filepath.Join(dir, "data"), filepath.Join(dir, "hotline.log")
	environ := append(append(twilioEnv(fake, dataDir), "HOTLINE_OUTBOX__WORKERS=8"), load.environ...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the hotline's log (last lines of %s):\n%s", logPath, tail(logPath, 40))
		}
	})

	var acked []string
	killedStarting := 0
	var requests int64
	for round := range rounds {
		p := startHotline(t, bin, logPath, environ)
		if rng.IntN(5) == 0 {
			// Kill it while it starts: opening the store, reconciling the outbox.
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
			p.kill()
			killedStarting++
			// Killed before it had created the database (the first rounds): there is
			// nothing to check yet, and the next start creates it.
			if _, err := os.Stat(filepath.Join(dataDir, "hotline.db")); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			runCheckBinary(t, bin, dataDir)
			continue
		}
		base := p.waitRunning()
		// Twilio may deliver a text twice (a retry after a lost answer): an
		// acknowledged SID sent again after a crash is a no-op.
		for _, sid := range sample(rng, acked, 3) {
			if status := postSigned(t, base, sid); status != http.StatusOK {
				t.Errorf("round %d: a retried MessageSid after a restart = %d, want 200", round, status)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan *loadtest.Result, 1)
		go func() {
			res, err := loadtest.Run(ctx, loadtest.Options{
				URL: base, AuthToken: faketwilio.AuthToken, AccountSID: faketwilio.AccountSID,
				Concurrency: 8, Rate: load.rate, Duration: time.Minute, Texters: load.texters, RetryShare: 0.05, KeywordShare: load.keywords,
				KeepSIDs: true, Seed: seed + uint64(round) + 1, Timeout: 10 * time.Second,
			})
			if err != nil {
				t.Errorf("round %d: load: %v", round, err)
			}
			done <- res
		}()
		time.Sleep(100*time.Millisecond + time.Duration(rng.IntN(900))*time.Millisecond)
		p.kill()
		cancel()
		if res := <-done; res != nil {
			acked = append(acked, res.SIDs...)
			requests += res.Requests
		}
		runCheckBinary(t, bin, dataDir)
	}
	if len(acked) == 0 {
		t.Fatal("no text was acknowledged in any round")
	}

	// The last run: the outbox drains, then a clean stop.
	fake.SetFault(faketwilio.Fault{})
	var rep storeReport
	for attempt := 0; ; attempt++ {
		p := startHotline(t, bin, logPath, environ)
		p.waitRunning()
		waitQuiet(t, fake, 2*time.Second, 60*time.Second)
		p.stop()
		rep = readStore(t, filepath.Join(dataDir, "hotline.db"))
		if len(rep.outbox) == 0 || attempt == 2 {
			break
		}
	}

	// Every acknowledged text is stored exactly once, and nothing twice.
	if len(rep.problems) > 0 {
		t.Errorf("the store's consistency check: %v", rep.problems)
	}
	unique := slices.Compact(slices.Sorted(slices.Values(acked)))
	for _, sid := range unique {
		if n := rep.inboundBySID[sid]; n != 1 {
			t.Errorf("acknowledged MessageSid %s is stored %d times, want exactly once", sid, n)
		}
	}
	for sid, n := range rep.inboundBySID {
		if n > 1 {
			t.Errorf("MessageSid %s is stored %d times", sid, n)
		}
	}

	// The outbox resumed and every text reached the fake exactly once.
	for _, e := range rep.outbox {
		t.Errorf("left in the outbox: %s to %s, %s, %d attempts, last error %q", e.ID, e.To.Masked(), e.Status, e.Attempts, e.LastError)
	}
	refused := checkSentExactlyOnce(t, fake, rep, load.welcomes)
	reconciled := countInFile(t, logPath, `"outcome":"reconciled"`)
	repeats, seen := 0, map[[2]string]bool{}
	for _, m := range fake.Outbound() {
		k := [2]string{m.To, m.Body}
		if seen[k] {
			repeats++ // the same text to the same number again: body matching's hard case
		}
		seen[k] = true
	}

	t.Logf("crash figures: %d rounds survived (%d killed while starting), %d webhook requests, %d distinct acknowledged texts each stored once "+
		"(%d inbound stored), %d conversations, %d automatic texts each created once at the fake Twilio API (%d create requests, %d settled by reconciliation after a kill), "+
		"%d of them the same text to the same number as an earlier one; %d refused by the rules (texter opted out) and never sent",
		rounds, killedStarting, requests, len(unique), len(rep.inboundBySID), rep.conversations, len(rep.outbound)-refused,
		len(fake.Creates()), reconciled, repeats, refused)
}

// checkSentExactlyOnce proves that the fake Twilio API and the store agree: each
// text the fake created is exactly one sent message in the store (same SID,
// recipient and body), each sent message is a text the fake created, no message is
// left unsent, a message that failed was refused by the rules and never reached the
// fake, and (with welcomes) each texter got one welcome per conversation. It returns
// how many messages were refused.
func checkSentExactlyOnce(t *testing.T, fake *faketwilio.Server, rep storeReport, welcomesPerConversation bool) (refused int) {
	t.Helper()
	created := map[string]faketwilio.Message{}
	for _, m := range fake.Outbound() {
		created[m.SID] = m
	}
	stored := map[string]int{}
	welcomes := map[hotline.Address]int{}
	for _, m := range rep.outbound {
		switch m.Status {
		case hotline.StatusSent, hotline.StatusDelivered:
		case hotline.StatusFailed:
			refused++
			if m.TwilioSID != "" || !strings.HasPrefix(m.ErrorMessage, "Not sent: the texter has opted out") {
				t.Errorf("message %s (%s) to %s failed with SID %q (%q), want only texts refused to opted-out texters, never sent",
					m.ID, m.Purpose, m.To.Masked(), m.TwilioSID, m.ErrorMessage)
			}
			continue
		default:
			t.Errorf("message %s (%s) to %s is %s (%q), want sent", m.ID, m.Purpose, m.To.Masked(), m.Status, m.ErrorMessage)
			continue
		}
		stored[m.TwilioSID]++
		c, ok := created[m.TwilioSID]
		switch {
		case !ok:
			t.Errorf("message %s is recorded as sent with SID %q, which the fake Twilio API never created", m.ID, m.TwilioSID)
		case c.To != string(m.To) || c.Body != m.Body:
			t.Errorf("message %s: SID %s is a text to %s, want to %s with the message's body", m.ID, c.SID, c.To, m.To.Masked())
		}
		if m.Purpose == hotline.PurposeWelcome {
			welcomes[m.To]++
		}
	}
	for sid, c := range created {
		if n := stored[sid]; n != 1 {
			t.Errorf("the fake Twilio API created %s (to %s, %q) but %d messages are recorded with it: want exactly 1 (a duplicate send?)",
				sid, hotline.Address(c.To).Masked(), truncateText(c.Body, 40), n)
		}
	}
	for to, n := range rep.conversationsByTexter {
		if welcomesPerConversation && welcomes[to] != n {
			t.Errorf("texter %s has %d conversations and got %d welcomes, want one each", to.Masked(), n, welcomes[to])
		}
	}
	if len(created) == 0 {
		t.Error("the fake Twilio API received no text at all")
	}
	return refused
}

// countInFile counts the lines of a file that contain s.
func countInFile(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// waitQuiet waits until the fake Twilio API has received no create request for
// quiet, at least quiet after the call and at most limit.
func waitQuiet(t *testing.T, fake *faketwilio.Server, quiet, limit time.Duration) {
	t.Helper()
	start := time.Now()
	last, lastChange := len(fake.Creates()), time.Now()
	for time.Since(start) < limit {
		time.Sleep(100 * time.Millisecond)
		if n := len(fake.Creates()); n != last {
			last, lastChange = n, time.Now()
		}
		if time.Since(lastChange) >= quiet {
			return
		}
	}
	t.Logf("the fake Twilio API was still receiving texts after %s", limit)
}

// postSigned posts a signed inbound webhook for sid from a fixed texter, as a
// Twilio retry, and returns the status.
func postSigned(t *testing.T, base, sid string) int {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {faketwilio.AccountSID}, "From": {"+12005550000"},
		"To": {"233733"}, "Body": {"retried after a restart"}, "NumMedia": {"0"}}
	req, _ := http.NewRequest(http.MethodPost, base+webhooks.InboundPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(faketwilio.AuthToken, base+webhooks.InboundPath, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST a retried webhook: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sample returns up to n random elements of s.
func sample(rng *rand.Rand, s []string, n int) []string {
	var out []string
	for i := 0; i < n && len(s) > 0; i++ {
		out = append(out, s[rng.IntN(len(s))])
	}
	return out
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

func truncateText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
