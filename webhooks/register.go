// Package webhooks receives Twilio's webhooks: inbound messages and delivery status
// callbacks. Every request goes through the same steps, each of which may refuse it
// before anything is stored:
//
//  1. readForm: an application/x-www-form-urlencoded body, no larger than
//     Config.MaxBodyBytes, well formed, in UTF-8, each bound field sent once (400/413);
//  2. verifySignature: X-Twilio-Signature matches the configured public URL and every
//     parameter, under the auth token or, while rotating, the secondary one (403);
//  3. the handler: bind the form into a domain type (400, or 403 for another
//     account), call the Service, render. Errors are returned, never written: the
//     server's httpx.ErrorHandler turns them into statuses.
//
// Logs carry message SIDs, conversation IDs and masked numbers, never a text or a
// full number.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/httpx"
)

// Paths of the webhooks, relative to the router given to Register. Twilio's
// messaging webhook is PublicURL + InboundPath; outbound texts ask for status
// callbacks at PublicURL + StatusPath.
const (
	InboundPath = "/webhooks/twilio/sms"
	StatusPath  = "/webhooks/twilio/status"
)

// DefaultMaxBodyBytes is the body limit when Config.MaxBodyBytes is not set. An
// inbound form with 1,600 characters of emoji and ten media URLs is under 25 KiB.
const DefaultMaxBodyBytes = 64 << 10

// Config is what the webhooks need to know.
type Config struct {
	// PublicURL is the scheme, host and any path prefix under which Twilio reaches the
	// server, such as "https://hotline.example.org". Signatures are checked against
	// it plus the request's path and query, so it must be exactly what is configured
	// in Twilio (a proxy in front of the server does not change what Twilio signed).
	PublicURL string
	// AuthTokens are the Twilio auth tokens that may sign a request: the primary one
	// first, then, while rotating, the secondary one. Empty entries are ignored.
	AuthTokens []string
	// AccountSID, when set, refuses (403) requests whose AccountSid differs.
	AccountSID string
	// MaxBodyBytes limits a webhook's body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// KeepLocationFields keeps FromCity, FromZip and the other location guesses in
	// InboundMessage.Extra; by default they are dropped.
	KeepLocationFields bool
	// DefaultRegion ("US") is used to read national numbers. Twilio sends E.164, so
	// empty is fine with Twilio.
	DefaultRegion string
}

// Service is what the webhooks need from the hotline. *hotline.Service implements it.
type Service interface {
	// ReceiveInbound stores an inbound text and returns once it is committed. A
	// MessageSid seen before is a duplicate, not an error. Errors: EINVALID,
	// ETOOLARGE, EUNAVAILABLE, EINTERNAL.
	ReceiveInbound(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error)
	// RecordStatus applies a delivery status report. Errors: ENOTFOUND for an
	// unknown SID, EUNAVAILABLE, EINTERNAL.
	RecordStatus(ctx context.Context, u hotline.StatusUpdate) error
}

var _ Service = (*hotline.Service)(nil)

// Router is where Register mounts the webhooks: an *echo.Echo or an *echo.Group.
type Router interface {
	POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

var (
	_ Router = (*echo.Echo)(nil)
	_ Router = (*echo.Group)(nil)
)

// Register mounts POST InboundPath and POST StatusPath on r. It returns an error, and
// mounts nothing, when cfg cannot work: no auth token (anybody could then sign) or a
// public URL that is not an absolute http(s) URL. The server's HTTPErrorHandler must
// be httpx.ErrorHandler.
func Register(r Router, svc Service, cfg Config, log zerolog.Logger) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	log = log.With().Str("component", "webhooks").Logger()
	chain := func(single func(string) bool) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{
			logRejections(log),
			readForm(cfg.MaxBodyBytes, single),
			verifySignature(cfg.PublicURL, cfg.AuthTokens, log),
		}
	}
	r.POST(InboundPath, inbound(svc, cfg, log), chain(inboundFields)...)
	r.POST(StatusPath, status(svc, cfg, log), chain(statusFields)...)
	return nil
}

// withDefaults checks cfg and fills in what was left out.
func (cfg Config) withDefaults() (Config, error) {
	var tokens []string
	for _, t := range cfg.AuthTokens {
		if t = strings.TrimSpace(t); t != "" {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) == 0 {
		return cfg, errors.New("webhooks: no Twilio auth token is configured, so no webhook could be verified; set twilio.auth_token")
	}
	cfg.AuthTokens = tokens
	cfg.PublicURL = strings.TrimSpace(cfg.PublicURL)
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return cfg, fmt.Errorf("webhooks: public URL %q is not an absolute http(s) URL without query; set public_url to the address Twilio posts to, such as https://hotline.example.org", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return cfg, nil
}

// verifiedKey marks a request whose signature checked out.
const verifiedKey = "webhooks.verified"

// logRejections logs the requests a webhook refuses with a 4xx status: at warn once
// the signature checked out (a text Twilio sent is then lost unless the fallback URL
// takes it), at info before (anybody can send garbage). 5xx errors are left to
// httpx.ErrorHandler, which logs them.
func logRejections(log zerolog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			if err == nil || c.Get(loggedKey) == true {
				return err
			}
			code, message, status := httpx.ToDomain(err)
			if status >= 500 {
				return err
			}
			ev := log.Info()
			if c.Get(verifiedKey) == true {
				ev = log.Warn().Str("message_sid", truncate(formOf(c).Get("MessageSid"), 64))
			}
			if from := formOf(c).Get("From"); from != "" {
				ev = ev.Str("from", maskAddress(from))
			}
			ev.Str("path", c.Request().URL.Path).Str("remote_ip", c.RealIP()).Int("status", status).
				Str("code", code).Str("reason", message).Msg("webhook refused")
			return err
		}
	}
}

// maskAddress masks an address as it arrived, before or without normalising it.
func maskAddress(raw string) string {
	return hotline.Address(truncate(strings.TrimSpace(raw), 24)).Masked()
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
