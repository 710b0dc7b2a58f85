package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/loadtest"
	"github.com/hotlinehq/hotline/store"
)

// runLoad is `hotline load`: signed Twilio inbound webhooks against a hotline, with
// the machine's ceiling beside it (--baseline) and a check that every acknowledged
// text was stored exactly once (--verify). Without --url it starts its own hotline
// in-process, so that `hotline load --baseline --verify` needs nothing else.
func runLoad(ctx context.Context, e env, args []string) error {
	fs := newFlags("load", e)
	target := fs.String("url", "", "base URL of a running hotline, such as http://127.0.0.1:8080 (default: start one in-process on 127.0.0.1, in a temporary data directory, with fsync)")
	token := fs.String("auth-token", "", "the Twilio auth token the target checks signatures with (default: $HOTLINE_TWILIO__AUTH_TOKEN with --url; generated in-process)")
	publicURL := fs.String("public-url", "", "the target's public_url, which signatures cover (default: --url)")
	accountSID := fs.String("account-sid", "", "AccountSid to send, when the target checks twilio.account_sid")
	concurrency := fs.Int("concurrency", 16, "requests in flight at once (with --rate: at most)")
	duration := fs.Duration("duration", 0, "how long to send (default 10s unless --requests is set; with both, whichever ends first)")
	requests := fs.Int64("requests", 0, "how many requests to send, retries included")
	rate := fs.Float64("rate", 0, "offered load in requests/s, open-loop: latency counts from each request's due time; 0 sends as fast as --concurrency allows")
	texters := fs.Int("texters", 1000, "distinct texter numbers")
	retryShare := fs.Float64("retry-share", 0.02, "share of requests that resend an already acknowledged MessageSid, as Twilio retries")
	keywordShare := fs.Float64("keyword-share", 0.005, "share of new texts that are a keyword (HELP, INFO, AYUDA, BEFREE, STOP, START); 0 sends none")
	verify := fs.Bool("verify", false, "afterwards, check that every acknowledged MessageSid is stored exactly once (with --url: through POST /api/v1/messages/lookup, logged in as --username with $HOTLINE_PASSWORD)")
	baseline := fs.Bool("baseline", false, "first run the same load against a minimal server that checks the signature and stores nothing, and report the ratio")
	jsonOut := fs.Bool("json", false, "print one JSON object instead of a table")
	username := fs.String("username", "admin", "console user for --verify with --url; the password is read from $HOTLINE_PASSWORD")
	dataDir := fs.String("data-dir", "", "in-process hotline: the data directory to use and keep (default: a temporary one, removed afterwards)")
	plaintext := fs.Bool("plaintext", false, "in-process hotline: run without a master key (default: a generated one, encrypting at rest as production with Twilio must)")
	seed := fs.Uint64("seed", 1, "seed of the generated texts")
	timeout := fs.Duration("timeout", 15*time.Second, "bound on one request (Twilio gives up after 15s)")
	maxP99 := fs.Duration("max-p99", 0, "exit 1 when the hotline's p99 acknowledgement latency is above this (0: no check)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (load generator and in-process hotline) during the hotline's run to this file, for go tool pprof")
	minRatio := fs.Float64("min-ratio", 0, "exit 1 when hotline/baseline throughput is below this (needs --baseline; 0: no check)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *concurrency < 1:
		return usageError{"--concurrency must be at least 1"}
	case *texters < 1:
		return usageError{"--texters must be at least 1"}
	case *retryShare < 0 || *retryShare >= 1:
		return usageError{"--retry-share must be in [0, 1)"}
	case *keywordShare < 0 || *keywordShare > 1:
		return usageError{"--keyword-share must be in [0, 1]"}
	case *rate < 0, *duration < 0, *requests < 0:
		return usageError{"--rate, --duration and --requests cannot be negative"}
	case *minRatio > 0 && !*baseline:
		return usageError{"--min-ratio needs --baseline"}
	case *target == "" && *publicURL != "":
		return usageError{"--public-url needs --url (the in-process hotline signs for its own address)"}
	case *target != "" && (*dataDir != "" || *plaintext):
		return usageError{"--data-dir and --plaintext are for the in-process hotline; they cannot be combined with --url"}
	}
	if *duration == 0 && *requests == 0 {
		*duration = 10 * time.Second
	}
	if *keywordShare == 0 {
		*keywordShare = -1 // loadtest.Options: negative means none, zero means the default
	}
	progress := func(format string, a ...any) {
		if !*jsonOut {
			fmt.Fprintf(e.stderr, format+"\n", a...)
		}
	}

	if *target != "" && *token == "" {
		*token = loadEnv(e.environ, "HOTLINE_TWILIO__AUTH_TOKEN")
		if *token == "" {
			return usageError{"--auth-token (or $HOTLINE_TWILIO__AUTH_TOKEN) is required with --url: the hotline refuses unsigned webhooks"}
		}
	}
	if *target == "" && *token == "" {
		*token = loadRandomToken()
	}
	opts := loadtest.Options{
		AuthToken: *token, AccountSID: *accountSID, Concurrency: *concurrency, Duration: *duration,
		Requests: *requests, Rate: *rate, Texters: *texters, RetryShare: *retryShare, KeywordShare: *keywordShare,
		Timeout: *timeout, Seed: *seed,
	}

	var baseRes *loadtest.Result
	if *baseline {
		b, err := loadtest.StartBaseline(*token)
		if err != nil {
			return fmt.Errorf("start the baseline server: %w", err)
		}
		progress("baseline: %s (signature check, no storage)", b.URL())
		bo := opts
		bo.URL = b.URL()
		baseRes, err = loadtest.Run(ctx, bo)
		if closeErr := b.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			return err
		}
		runtime.GC() // start the hotline's run with the baseline's garbage gone
	}

	var notes []string
	var hl *inProcess
	targetName := *target
	if *target == "" {
		dir, cleanup, err := loadDataDir(*dataDir)
		if err != nil {
			return err
		}
		defer cleanup()
		if loadtest.InMemoryFS(dir) {
			notes = append(notes, fmt.Sprintf("the data directory %s is in memory (tmpfs): fsync costs nothing there, so these figures flatter the hotline; use --data-dir on a disk", dir))
		}
		masterKey := ""
		if !*plaintext {
			masterKey = loadMasterKey()
		}
		hl, err = startInProcess(ctx, dir, *token, masterKey)
		if err != nil {
			return err
		}
		defer hl.stop()
		opts.URL, targetName = hl.url, "in-process, encrypted at rest"
		if *plaintext {
			targetName = "in-process, plaintext"
		}
		progress("hotline: %s in-process (data in %s, log in %s)", hl.url, dir, hl.logPath)
	} else {
		opts.URL, opts.PublicURL = *target, *publicURL
		progress("hotline: %s", *target)
	}
	opts.KeepSIDs = *verify
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	res, err := loadtest.Run(ctx, opts)
	if err != nil {
		return err
	}

	var v *loadtest.Verification
	if *verify {
		progress("verifying %d acknowledged MessageSids…", len(res.SIDs))
		ver, err := verifyLoad(ctx, e, hl, *target, *username, res.SIDs)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		v = &ver
	}

	rep := loadtest.NewReport(targetName, res, baseRes, v)
	rep.Notes = notes
	if *jsonOut {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}

	var failures []string
	if res.Acked == 0 {
		failures = append(failures, "no request was acknowledged")
	}
	if v != nil && !v.OK() {
		failures = append(failures, "verification failed: "+v.String())
	}
	if p99 := res.Latency.Quantile(0.99); *maxP99 > 0 && p99 > *maxP99 {
		failures = append(failures, fmt.Sprintf("p99 acknowledgement latency %s is above --max-p99 %s", p99.Round(time.Microsecond), *maxP99))
	}
	if *minRatio > 0 && (rep.Ratio == nil || *rep.Ratio < *minRatio) {
		got := 0.0
		if rep.Ratio != nil {
			got = *rep.Ratio
		}
		failures = append(failures, fmt.Sprintf("throughput ratio hotline/baseline %.3f is below --min-ratio %.3f", got, *minRatio))
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

// verifyLoad checks that every acknowledged SID is stored exactly once: in the
// in-process hotline's store once it has stopped (with the store's consistency check
// too), or through a running hotline's console API.
func verifyLoad(ctx context.Context, e env, hl *inProcess, target, username string, sids []string) (loadtest.Verification, error) {
	if hl == nil {
		password := loadEnv(e.environ, "HOTLINE_PASSWORD")
		if password == "" {
			return loadtest.Verification{}, usageError{"--verify with --url logs in to the console API: set $HOTLINE_PASSWORD (and --username)"}
		}
		counts, err := loadtest.Lookup{URL: target, Username: username, Password: password}.Counts(ctx, sids)
		if err != nil {
			return loadtest.Verification{}, err
		}
		return loadtest.VerifyCounts(sids, counts), nil
	}
	if err := hl.stop(); err != nil {
		return loadtest.Verification{}, fmt.Errorf("the in-process hotline did not stop cleanly: %w", err)
	}
	opts, err := storeOptions(hl.cfg)
	if err != nil {
		return loadtest.Verification{}, err
	}
	opts.LockTimeout = time.Second
	st, err := store.Open(hl.cfg.DBPath(), opts)
	if err != nil {
		return loadtest.Verification{}, err
	}
	defer st.Close()
	v, err := loadtest.VerifyStore(ctx, st, sids)
	if err != nil {
		return v, err
	}
	problems, err := st.Check(ctx)
	if err != nil {
		return v, err
	}
	v.Inconsistencies = problems
	return v, nil
}

// inProcess is a hotline that `hotline load` runs inside itself: the real serve, on
// 127.0.0.1:0, with the simulator as SMS provider and fsync on, as in production,
// and encrypted at rest when given a master key.
type inProcess struct {
	url     string
	cfg     config.Config
	logPath string
	stop    func() error // idempotent
}

// startInProcess starts serve on a free loopback port with its data in dir and
// its log in dir/hotline.log (at info, as in production: logging is part of the
// cost), encrypted under masterKey (base64) unless it is empty.
func startInProcess(ctx context.Context, dir, token, masterKey string) (*inProcess, error) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Twilio.AuthToken = token
	cfg.Admin.Password = loadRandomToken()
	cfg.Crypto.MasterKey = masterKey
	cfg.Log.Format = config.LogFormatJSON
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the in-process hotline's configuration: %w", err)
	}
	logPath := filepath.Join(dir, "hotline.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	serveCtx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	e := env{stdin: strings.NewReader(""), stdout: logFile, stderr: logFile}
	go func() {
		done <- serve(serveCtx, cfg, newLogger(logFile, cfg.Log), e, func(addr string) { ready <- addr })
	}()
	var stopErr error
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
			logFile.Close()
		}
		return stopErr
	}
	select {
	case addr := <-ready:
		return &inProcess{url: "http://" + addr, cfg: cfg, logPath: logPath, stop: stop}, nil
	case err := <-done:
		cancel()
		logFile.Close()
		return nil, fmt.Errorf("the in-process hotline did not start (see %s): %w", logPath, err)
	case <-time.After(30 * time.Second):
		stop()
		return nil, fmt.Errorf("the in-process hotline did not start within 30s (see %s)", logPath)
	}
}

// startCPUProfile profiles the process into the named file until the returned
// function is called.
func startCPUProfile(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// loadDataDir returns the in-process hotline's data directory: the one given (kept
// afterwards) or a new temporary one (removed afterwards).
func loadDataDir(given string) (dir string, cleanup func(), err error) {
	if given != "" {
		if err := os.MkdirAll(given, 0o700); err != nil {
			return "", nil, err
		}
		return given, func() {}, nil
	}
	dir, err = os.MkdirTemp("", "hotline-load-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// loadMasterKey returns a new master key, in base64.
func loadMasterKey() string {
	b := make([]byte, config.MasterKeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

func loadRandomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// loadEnv returns the value of name in environ, or "".
func loadEnv(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}
