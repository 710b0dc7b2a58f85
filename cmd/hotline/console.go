package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/auth"
	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/webhooks"
)

// newAccounts builds the account use cases over the store: argon2id passwords, RFC
// 6238 codes and the in-memory sign-in throttle (a restart forgets it).
func newAccounts(cfg config.Config, st hotline.Store) *hotline.Accounts {
	return hotline.NewAccounts(hotline.AccountsDeps{
		Store: st, Passwords: auth.NewArgon2id(auth.DefaultParams), Codes: auth.TOTP{Issuer: "Hotline"}, Tokens: auth.Tokens{},
		Limiter: auth.NewThrottle(auth.ThrottleOptions{Initial: cfg.Auth.LoginBackoffInitial, Max: cfg.Auth.LoginBackoffMax}),
	}, hotline.AccountsOptions{
		Sessions:                   hotline.SessionTimeouts{Idle: cfg.Auth.SessionIdleTimeout, Absolute: cfg.Auth.SessionAbsoluteTimeout},
		RequireTOTPForCoordinators: cfg.Auth.RequireTOTPForCoordinators,
		DefaultRegion:              cfg.DefaultRegion,
		DefaultCapacity:            cfg.Routing.DefaultCapacity,
	})
}

// wireConsole mounts the console's JSON API and web pages, and in front of the whole
// server the guard that answers 401 to every route without a session but
// publicRoutes. The console's live events subscribe to fan.
func (a *app) wireConsole(fan *fanout) error {
	clientIP, err := clientIPFunc(a.cfg.Auth.TrustedProxies)
	if err != nil {
		return err
	}
	a.accounts = newAccounts(a.cfg, a.store)
	access := hotline.NewAccess(a.svc, a.cfg.Auth.HandledVisibility)
	deps := console.Deps{
		Accounts: a.accounts, Access: access,
		SecureCookies: console.SecureCookies(a.cfg.PublicURL()), ClientIP: clientIP,
	}
	a.wireLive(fan, &deps)
	if err := a.wireTools(&deps); err != nil {
		return err
	}
	a.connectRouting(&deps)
	a.echo.Use(console.Guard(deps, publicRoutes(a.cfg)))
	console.Register(a.echo, deps)
	console.RegisterUI(a.echo, deps)
	a.workers = append(a.workers, worker{"sessions", a.pruneSessions})
	return nil
}

// wireLive adds what the web console needs beyond the API of accounts and
// conversations: live events (a hub subscribed to fan, ended at the start of
// shutdown so that open streams do not hold it up), canned responses and the
// settings the console shows (routing.mode decides between "take next" and offers).
func (a *app) wireLive(fan *fanout, deps *console.Deps) {
	hub := console.NewHub(deps.Access, 0)
	fan.add(hub)
	a.echo.Server.RegisterOnShutdown(hub.Close)
	a.workers = append(a.workers, worker{"events", hub.Run})
	a.closers = append(a.closers, func() error { hub.Close(); return nil })
	deps.Events = hub
	deps.Canned = hotline.NewCannedResponses(a.store, nil)
	deps.Settings = console.Settings{
		Dispositions: a.cfg.Conversation.Dispositions, Tags: a.cfg.Conversation.Tags,
		MaxSegments: a.cfg.SMS.MaxSegments, Assignment: a.cfg.Routing.Mode,
		Encrypted: a.store.Encrypted(), PlaintextWarning: config.PlaintextWarning,
	}
}

// simulatorRoutes are the texter simulator's pages, public in simulator mode.
var simulatorRoutes = []console.Route{
	{Method: http.MethodGet, Path: "/simulator"},
	{Method: http.MethodGet, Path: "/simulator/app.js"},
	{Method: http.MethodGet, Path: "/simulator/app.css"},
	{Method: http.MethodPost, Path: "/simulator/messages"},
	{Method: http.MethodGet, Path: "/simulator/events"},
	{Method: http.MethodGet, Path: "/simulator/mode"},
	{Method: http.MethodPost, Path: "/simulator/mode"},
}

// publicRoutes is the allowlist: the only routes served without a session. Every
// other route, including any added later, needs one (routes_test.go proves it).
func publicRoutes(cfg config.Config) []console.Route {
	public := []console.Route{
		{Method: http.MethodGet, Path: "/healthz"},
		{Method: http.MethodGet, Path: "/readyz"},
	}
	if cfg.Metrics.Public {
		public = append(public, console.Route{Method: http.MethodGet, Path: "/metrics"})
	}
	if len(cfg.AuthTokens()) > 0 { // Twilio's requests carry their own signature
		public = append(public,
			console.Route{Method: http.MethodPost, Path: webhooks.InboundPath},
			console.Route{Method: http.MethodPost, Path: webhooks.StatusPath})
	}
	if cfg.SMS.Provider == config.ProviderSimulator {
		public = append(public, simulatorRoutes...)
	}
	// The web console's pages check the session themselves (and send anyone signed
	// out to /login); its assets are static files.
	public = append(public, console.UIRoutes()...)
	return append(public, console.PublicRoutes...)
}

// clientIPFunc returns how to find a request's client address: the connection's
// peer, or, when it is one of the trusted proxies, the address the proxy names in
// X-Forwarded-For.
func clientIPFunc(proxies []string) (func(*http.Request) string, error) {
	if len(proxies) == 0 {
		return console.PeerIP, nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		if !strings.Contains(p, "/") {
			if strings.Contains(p, ":") {
				p += "/128"
			} else {
				p += "/32"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("auth.trusted_proxies: %q is not an address or CIDR range", p)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// sessionPruneInterval is how often expired sessions are deleted.
const sessionPruneInterval = time.Hour

// pruneSessions deletes expired sessions hourly (they are refused anyway).
func (a *app) pruneSessions(ctx context.Context) {
	log := a.log.With().Str("component", "sessions").Logger()
	for {
		if n, err := a.accounts.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("pruning expired sessions failed")
		} else if n > 0 {
			log.Info().Int("pruned", n).Msg("deleted expired sessions")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(sessionPruneInterval):
		}
	}
}

// bootstrapAdmin creates the first coordinator when there is no user at all: with
// admin.password (or its file, or HOTLINE_ADMIN__PASSWORD), else with a generated
// password printed once to out. Once any user exists it does nothing, ever.
func (a *app) bootstrapAdmin(ctx context.Context, out io.Writer) error {
	password, generated := a.cfg.Admin.Password, false
	if password == "" {
		var err error
		if password, err = auth.GeneratePassword(); err != nil {
			return err
		}
		generated = true
	}
	created, err := a.accounts.Bootstrap(ctx, a.cfg.Admin.Username, password)
	if err != nil || !created {
		return cliError(err)
	}
	log := a.log.Info().Str("username", hotline.NormalizeUsername(a.cfg.Admin.Username))
	if !generated {
		log.Msg("created the first coordinator with the configured admin password")
		return nil
	}
	bar := strings.Repeat("=", 72)
	fmt.Fprintf(out, "\n%s\n  The first coordinator account was created. Sign in at %s/ with\n\n"+
		"    username: %s\n    password: %s\n\n"+
		"  This password is shown once and never again: keep it in a password manager,\n"+
		"  or change it after signing in (hotline user reset-password %s).\n%s\n\n",
		bar, a.cfg.PublicURL(), hotline.NormalizeUsername(a.cfg.Admin.Username), password,
		hotline.NormalizeUsername(a.cfg.Admin.Username), bar)
	log.Msg("created the first coordinator; its generated password was printed to the terminal once")
	return nil
}
