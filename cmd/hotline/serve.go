package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/metrics"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/webhooks"
)

// shutdownGrace bounds how long in-flight requests may take to finish at shutdown.
const shutdownGrace = 10 * time.Second

// Garbage collection. A busy hotline allocates fast and keeps little: under the load
// tool (64 webhooks in flight) about 14 MiB is live, so with Go's default (GOGC=100:
// collect once the heap has doubled) it collected every 25 ms and spent about 20 µs of
// CPU per text on it, a tenth of the whole. Unless $GOGC is set, serve and load (which
// runs a hotline in-process) collect when the heap has grown to five times what is
// live (GOGC=400), which cut that to about 5 µs; and unless $GOMEMLIMIT is set too,
// under a soft limit of 256 MiB, so that a larger live heap (a long export, many
// consoles) does not grow five-fold: near the limit the collector runs as often as it
// must. Setting $GOGC (100 restores Go's default) leaves both to the environment.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 256 << 20
)

// tuneGC applies the defaults above that the environment (lookup: os.LookupEnv)
// does not override (an empty variable counts as unset, as for Go), and returns the
// GC percent and memory limit it set (zero for one it left alone).
func tuneGC(lookup func(string) (string, bool)) (percent int, limit int64) {
	set := func(name string) bool { v, ok := lookup(name); return ok && v != "" }
	if set("GOGC") {
		return 0, 0
	}
	debug.SetGCPercent(defaultGCPercent)
	if set("GOMEMLIMIT") {
		return defaultGCPercent, 0
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultGCPercent, defaultMemoryLimit
}

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlags("serve", e)
	configPath := fs.String("config", "", "the configuration file (optional: every key has a default)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *configPath, "")
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg.Log)
	return serve(ctx, cfg, log, e, nil)
}

// serve runs the hotline until ctx ends: it opens the store, starts the workers and
// the HTTP server, and on shutdown finishes in-flight requests, stops the workers and
// closes the store, in that order. onReady, when set, is called with the address the
// server listens on (tests listen on port 0).
func serve(ctx context.Context, cfg config.Config, log zerolog.Logger, e env, onReady func(addr string)) error {
	opts, err := storeOptions(cfg)
	if err != nil {
		return err
	}
	opts.OnEncrypt = func(p store.EncryptProgress) {
		if p.Done {
			log.Info().Msg("the store is now encrypted; destroy the plaintext backups made before")
		} else {
			log.Info().Str("bucket", p.Bucket).Int("records", p.Records).Msg("encrypting the plaintext store")
		}
	}
	st, err := store.Open(cfg.DBPath(), opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error().Err(err).Msg("closing the store failed")
		}
	}()
	log.Info().Str("path", cfg.DBPath()).Bool("encrypted", st.Encrypted()).Str("keystore", st.KeysPath()).Msg("store open")
	if !st.Encrypted() {
		log.Warn().Msg(config.PlaintextWarning)
		fmt.Fprintln(e.stderr, "WARNING: "+config.PlaintextWarning)
	}
	signing, err := st.SigningKey(ctx)
	if err != nil {
		return fmt.Errorf("the signing key of evidence bundles: %w", err)
	}
	log.Info().Str("public_key", export.FormatPublicKey(signing.Public().(ed25519.PublicKey))).
		Str("fingerprint", export.Fingerprint(signing.Public().(ed25519.PublicKey))).Msg("evidence bundles are signed with this key")

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (the listen key): %w", cfg.Listen, err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if cfg.PublicURLSetting == "" {
		// Without a public URL, Twilio-style requests are signed for the address the
		// server really listens on (it differs from listen when that asks for port 0).
		cfg.PublicURLSetting = "http://" + addr
	}
	a, err := newApp(ctx, cfg, log, st, e)
	if err != nil {
		return err
	}
	a.echo.Listener = ln
	if err := a.bootstrapAdmin(ctx, e.stdout); err != nil {
		return err
	}
	a.logWhereToGo(addr)

	workerCtx, stopWorkers := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	a.startWorkers(workerCtx, &workers)

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.echo.StartServer(a.echo.Server) }()
	if onReady != nil {
		onReady(addr)
	}

	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down: finishing in-flight requests")
	case err = <-serveErr:
		log.Error().Err(err).Msg("the HTTP server stopped")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if shutErr := a.echo.Shutdown(shutdownCtx); shutErr != nil {
		log.Error().Err(shutErr).Msg("in-flight requests did not finish in time")
	}
	stopWorkers()
	workers.Wait()
	for _, c := range a.closers {
		if err := c(); err != nil {
			log.Error().Err(err).Msg("shutdown step failed")
		}
	}
	log.Info().Msg("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// app is a wired hotline: the service, its workers and its HTTP server.
type app struct {
	cfg     config.Config
	log     zerolog.Logger
	store   *store.Store
	svc     *hotline.Service
	metrics *metrics.Metrics
	echo    *echo.Echo
	// accounts are the console's users, sessions and audit log (console.go).
	accounts *hotline.Accounts
	workers  []worker
	ready    readiness
	// closers run at shutdown after the workers stopped, before the store closes.
	closers []func() error

	// router and roster are routing and the schedules (routing.go).
	router *hotline.Router
	roster *hotline.Roster
}

// worker is a background loop that runs until its context ends.
type worker struct {
	name string
	run  func(ctx context.Context)
}

func newApp(ctx context.Context, cfg config.Config, log zerolog.Logger, st *store.Store, e env) (*app, error) {
	a := &app{cfg: cfg, log: log, store: st, metrics: metrics.New()}
	registerStoreGauges(a.metrics, st)
	fan := &fanout{}
	a.svc = hotline.NewService(st, nil, fan, cfg.Policy())
	a.echo = newEcho(log, a.metrics)
	a.routes()
	if err := a.wireSMS(ctx, fan); err != nil {
		return nil, err
	}
	if tokens := cfg.AuthTokens(); len(tokens) > 0 {
		err := webhooks.Register(a.echo, observed{a.svc, a.metrics}, webhooks.Config{
			PublicURL: cfg.PublicURL(), AuthTokens: tokens, AccountSID: cfg.Twilio.AccountSID,
			MaxBodyBytes: cfg.Webhooks.MaxBodyBytes, KeepLocationFields: cfg.Twilio.KeepLocationFields,
			DefaultRegion: cfg.DefaultRegion,
		}, log)
		if err != nil {
			return nil, err
		}
	}
	a.wireRouting(fan)
	if err := a.wireConsole(fan); err != nil {
		return nil, err
	}
	a.workers = append(a.workers, worker{"timers", func(ctx context.Context) {
		a.svc.RunTimers(ctx, 30*time.Second, func(err error) {
			log.Error().Err(err).Str("component", "timers").Msg("firing due timers failed; retrying")
		})
	}})
	a.workers = append(a.workers, worker{"housekeeping", a.housekeeping})
	return a, nil
}

// housekeepingInterval is how often stale bookkeeping is cleaned up.
const housekeepingInterval = time.Hour

// housekeeping forgets status callbacks whose message never turned up (kept for a
// day in case the send was recorded late), hourly.
func (a *app) housekeeping(ctx context.Context) {
	log := a.log.With().Str("component", "housekeeping").Logger()
	for {
		if n, err := a.svc.PruneOrphanStatuses(ctx, 0); err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("pruning early status callbacks failed")
		} else if n > 0 {
			log.Info().Int("pruned", n).Msg("forgot status callbacks for unknown messages")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(housekeepingInterval):
		}
	}
}

// startWorkers runs every worker in its own goroutine and marks it for readiness.
func (a *app) startWorkers(ctx context.Context, wg *sync.WaitGroup) {
	for _, w := range a.workers {
		wg.Add(1)
		a.ready.start(w.name)
		go func() {
			defer wg.Done()
			defer a.ready.stop(w.name)
			w.run(ctx)
		}()
	}
}

func (a *app) logWhereToGo(addr string) {
	base := "http://" + addr
	ev := a.log.Info().Str("console", base+"/").Str("public_url", a.cfg.PublicURL())
	if a.cfg.SMS.Provider == config.ProviderSimulator {
		ev = ev.Str("simulator", base+"/simulator")
	}
	if len(a.cfg.AuthTokens()) > 0 {
		ev = ev.Str("twilio_webhook", a.cfg.PublicURL()+webhooks.InboundPath).
			Str("twilio_status_callback", a.cfg.PublicURL()+webhooks.StatusPath)
	}
	ev.Msg("hotline is running")
}

// fanout passes committed changes to every subscriber (the outbox dispatcher, the
// console's event streams). Subscribers are added while wiring, before any change.
type fanout struct {
	mu   sync.RWMutex
	subs []hotline.Notifier
}

func (f *fanout) add(n hotline.Notifier) {
	f.mu.Lock()
	f.subs = append(f.subs, n)
	f.mu.Unlock()
}

// Publish implements hotline.Notifier.
func (f *fanout) Publish(changes ...hotline.Change) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, s := range f.subs {
		s.Publish(changes...)
	}
}

// readiness tracks which workers run, for /readyz.
type readiness struct {
	mu      sync.Mutex
	running map[string]bool
}

func (r *readiness) start(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[string]bool{}
	}
	r.running[name] = true
}

func (r *readiness) stop(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[name] = false
}

// stopped lists the workers that are not running.
func (r *readiness) stopped(names []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range names {
		if !r.running[n] {
			out = append(out, n)
		}
	}
	return out
}
