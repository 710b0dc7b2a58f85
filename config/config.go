// Package config holds the hotline's configuration: the Config type with every
// default in code, loading from a YAML file and HOTLINE_ environment variables, and
// Validate, which names the key and the fix for every problem it finds.
//
// The order is: Default(), then the YAML file, then the environment. Every key can be
// set from the environment as HOTLINE_ followed by the upper-cased key path with "__"
// between levels:
//
//	twilio.auth_token               HOTLINE_TWILIO__AUTH_TOKEN
//	texts.es.welcome                HOTLINE_TEXTS__ES__WELCOME
//	conversation.keywords           HOTLINE_CONVERSATION__KEYWORDS='[{word: BEFREE}]'
//
// Text keys take the variable's value as it is; other keys parse it as YAML, so lists
// and sections can be written in flow style. Secrets (twilio.auth_token,
// twilio.secondary_auth_token, admin.password, crypto.master_key) may instead be
// read from a file named by the matching _file key.
//
// config.example.yaml at the root of the repository documents every key; a test
// checks that it matches Default().
package config

import (
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // timezone works in a container without /usr/share/zoneinfo

	"github.com/hotlinehq/hotline/hotline"
)

// Config is the whole configuration of a hotline server. The zero value is not
// useful: start from Default() or Load.
type Config struct {
	// Listen is the host:port the HTTP server listens on.
	Listen string `yaml:"listen"`
	// PublicURLSetting is public_url, the URL Twilio reaches this server at, such as
	// https://hotline.example.org. Use PublicURL, which falls back to Listen.
	PublicURLSetting string `yaml:"public_url"`
	// DataDir holds the database file (see DBPath).
	DataDir string `yaml:"data_dir"`
	// Timezone is the IANA name of the hotline's time zone, in which shifts are
	// scheduled (see Location).
	Timezone string `yaml:"timezone"`
	// DefaultRegion is the two-letter region (ISO 3166-1, such as "US") used for
	// phone numbers written without a country code.
	DefaultRegion string `yaml:"default_region"`

	Log          Log              `yaml:"log"`
	SMS          SMS              `yaml:"sms"`
	Twilio       Twilio           `yaml:"twilio"`
	Webhooks     Webhooks         `yaml:"webhooks"`
	Admin        Admin            `yaml:"admin"`
	Store        Store            `yaml:"store"`
	Outbox       Outbox           `yaml:"outbox"`
	Conversation Conversation     `yaml:"conversation"`
	Routing      Routing          `yaml:"routing"`
	Texts        map[string]Texts `yaml:"texts"` // by language code
	Auth         Auth             `yaml:"auth"`
	Metrics      Metrics          `yaml:"metrics"`
	Retention    Retention        `yaml:"retention"`
	Crypto       Crypto           `yaml:"crypto"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Debug logs may hold message bodies and
	// phone numbers.
	Level string `yaml:"level"`
	// Format is auto (console on a terminal, JSON otherwise), console or json.
	Format string `yaml:"format"`
}

// Log formats.
const (
	LogFormatAuto    = "auto"
	LogFormatConsole = "console"
	LogFormatJSON    = "json"
)

// SMS chooses and tunes the outbound SMS provider.
type SMS struct {
	// Provider is ProviderSimulator or ProviderTwilio.
	Provider string `yaml:"provider"`
	// MaxSegments is the longest text, in SMS segments, that the hotline sends.
	MaxSegments int `yaml:"max_segments"`
}

// SMS providers.
const (
	ProviderSimulator = "simulator" // the built-in texter simulator at /simulator; nothing leaves the server
	ProviderTwilio    = "twilio"    // the Twilio Programmable Messaging API
)

// Twilio holds the Twilio account, the sender and the webhook settings.
type Twilio struct {
	// AccountSID (AC…) is required with the Twilio provider; when set, inbound
	// webhooks for another account are rejected.
	AccountSID string `yaml:"account_sid"`
	// AuthToken signs webhooks and authenticates API calls. When set, the
	// /webhooks/twilio/* routes are served, whatever the provider.
	AuthToken     string `yaml:"auth_token"`
	AuthTokenFile string `yaml:"auth_token_file"`
	// SecondaryAuthToken is also accepted on webhooks while tokens are rotated.
	SecondaryAuthToken     string `yaml:"secondary_auth_token"`
	SecondaryAuthTokenFile string `yaml:"secondary_auth_token_file"`
	// APIURL is the base URL of the Twilio REST API (a fake in tests).
	APIURL string `yaml:"api_url"`
	// From is the sending number in E.164 form or a short code; or use
	// MessagingServiceSID.
	From                string `yaml:"from"`
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	// MPS is how many messages per second the sender may send.
	MPS int `yaml:"mps"`
	// KeepLocationFields keeps FromCity, FromState, FromZip, FromCountry, ToCity…
	// of inbound messages, which are dropped by default.
	KeepLocationFields bool `yaml:"keep_location_fields"`
	// RequestTimeout bounds one call to the Twilio API.
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// Webhooks tunes the inbound webhook handlers.
type Webhooks struct {
	// MaxBodyBytes is the largest webhook body accepted.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Admin is the first coordinator account, created when the database has no user.
type Admin struct {
	Username string `yaml:"username"`
	// Password is generated and printed once when empty.
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Store tunes the bbolt database.
type Store struct {
	// LockTimeout is how long opening waits for another process to release the file.
	LockTimeout time.Duration `yaml:"lock_timeout"`
}

// Outbox tunes the workers that send queued outbound texts.
type Outbox struct {
	// FirstRetryDelay is the wait before the first retry; later retries back off.
	FirstRetryDelay time.Duration `yaml:"first_retry_delay"`
	// MaxAttempts is how many times a text is tried before it is marked failed.
	MaxAttempts int `yaml:"max_attempts"`
	// MaxAge is how long a text may wait in the outbox before it is marked failed.
	MaxAge  time.Duration `yaml:"max_age"`
	Workers int           `yaml:"workers"`
}

// Conversation holds the rules of the conversation state machine (see Policy).
type Conversation struct {
	// DefaultLanguage is the language of new conversations and the fallback of
	// every text; Texts must hold it.
	DefaultLanguage   string        `yaml:"default_language"`
	InactivityTimeout time.Duration `yaml:"inactivity_timeout"`
	ReopenWindow      time.Duration `yaml:"reopen_window"`
	// AutoReplyCap is how many automatic texts one texter may receive per hour;
	// 0 turns the cap off.
	AutoReplyCap int       `yaml:"auto_reply_cap"`
	Keywords     []Keyword `yaml:"keywords"`
	// RiskTerms per language raise a conversation to urgent.
	RiskTerms map[string][]string `yaml:"risk_terms"`
	// Dispositions are the outcomes a responder chooses from when closing a
	// conversation (console.go); the API refuses others.
	Dispositions []string `yaml:"dispositions"`
	// Tags are offered as checkboxes when closing; responders may add others.
	Tags []string `yaml:"tags"`
}

// Keyword is a word that starts a conversation, optionally in a language. In YAML
// it is {word: AYUDA, language: es}, or just the word.
type Keyword struct {
	Word     string `yaml:"word"`
	Language string `yaml:"language,omitempty"`
}

// fromScalar lets a keyword be written as a bare word.
func (k *Keyword) fromScalar(s string) { *k = Keyword{Word: s} }

// Texts are the automatic texts in one language (see hotline.Texts).
type Texts struct {
	Welcome    string `yaml:"welcome"`
	Help       string `yaml:"help"`
	OptOut     string `yaml:"opt_out"`
	OptIn      string `yaml:"opt_in"`
	Closing    string `yaml:"closing"`
	AfterHours string `yaml:"after_hours"`
}

// Auth tunes console sign-in, sessions and access.
type Auth struct {
	SessionIdleTimeout         time.Duration `yaml:"session_idle_timeout"`
	SessionAbsoluteTimeout     time.Duration `yaml:"session_absolute_timeout"`
	RequireTOTPForCoordinators bool          `yaml:"require_totp_for_coordinators"`
	// HandledVisibility is how long a responder still sees a conversation they
	// handled, after it closed or after their last word in it.
	HandledVisibility time.Duration `yaml:"handled_visibility"`
	// LoginBackoffInitial is the first delay after repeated failed sign-ins from one
	// address; each further failure doubles it, up to LoginBackoffMax.
	LoginBackoffInitial time.Duration `yaml:"login_backoff_initial"`
	LoginBackoffMax     time.Duration `yaml:"login_backoff_max"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies whose
	// X-Forwarded-For header names the client (for throttling and the audit log).
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Retention says how long closed conversations are kept (see hotline.Retention).
type Retention struct {
	// Days is how long a closed conversation is kept, counted from when it closed;
	// a daily job purges older ones, except those under a legal hold. 0 keeps
	// everything forever (the default: deleting transcripts is a policy decision
	// that each organisation makes, not a default that could destroy evidence).
	Days int `yaml:"days"`
}

// Limits of retention.days: at least a month when on, so that a typo cannot purge
// last week; at most a century.
const (
	MinRetentionDays = 30
	MaxRetentionDays = 36500
)

// Metrics configures /metrics.
type Metrics struct {
	// Public serves /metrics without a session.
	Public bool `yaml:"public"`
}

// Default returns the configuration used when nothing is set: a working hotline on
// http://127.0.0.1:8080 with the simulator as SMS provider and data in ./data.
// Texts, keywords and risk terms come from hotline.DefaultPolicy(). Every call
// returns fresh maps and slices.
func Default() Config {
	p := hotline.DefaultPolicy()
	c := Config{
		Listen:        "127.0.0.1:8080",
		DataDir:       "./data",
		Timezone:      "UTC",
		DefaultRegion: "US",
		Log:           Log{Level: "info", Format: LogFormatAuto},
		SMS:           SMS{Provider: ProviderSimulator, MaxSegments: 10},
		Twilio: Twilio{
			APIURL:         "https://api.twilio.com",
			MPS:            1,
			RequestTimeout: 10 * time.Second,
		},
		Webhooks: Webhooks{MaxBodyBytes: 64 << 10},
		Admin:    Admin{Username: "admin"},
		Store:    Store{LockTimeout: 3 * time.Second},
		Outbox: Outbox{
			FirstRetryDelay: 2 * time.Second,
			MaxAttempts:     10,
			MaxAge:          24 * time.Hour,
			Workers:         4,
		},
		Conversation: Conversation{
			DefaultLanguage:   p.DefaultLanguage,
			InactivityTimeout: p.InactivityTimeout,
			ReopenWindow:      p.ReopenWindow,
			AutoReplyCap:      p.AutoReplyCap,
			RiskTerms:         make(map[string][]string, len(p.RiskTerms)),
			Dispositions:      DefaultDispositions(),
			Tags:              DefaultTags(),
		},
		Texts: make(map[string]Texts, len(p.TextsByLanguage)),
		Auth: Auth{
			SessionIdleTimeout:     30 * time.Minute,
			SessionAbsoluteTimeout: 12 * time.Hour,
			HandledVisibility:      24 * time.Hour,
			LoginBackoffInitial:    time.Second,
			LoginBackoffMax:        15 * time.Minute,
			TrustedProxies:         []string{},
		},
		Routing: DefaultRouting(),
	}
	for _, k := range p.Keywords {
		c.Conversation.Keywords = append(c.Conversation.Keywords, Keyword{Word: k.Word, Language: k.Language})
	}
	for lang, terms := range p.RiskTerms {
		c.Conversation.RiskTerms[lang] = append([]string(nil), terms...)
	}
	for lang, t := range p.TextsByLanguage {
		c.Texts[lang] = Texts{Welcome: t.Welcome, Help: t.Help, OptOut: t.OptOut, OptIn: t.OptIn, Closing: t.Closing, AfterHours: t.AfterHours}
	}
	return c
}

// Policy returns the domain policy the conversation state machine runs on. The
// result shares nothing with c.
func (c Config) Policy() hotline.Policy {
	p := hotline.Policy{
		DefaultLanguage:   c.Conversation.DefaultLanguage,
		TextsByLanguage:   make(map[string]hotline.Texts, len(c.Texts)),
		RiskTerms:         make(map[string][]string, len(c.Conversation.RiskTerms)),
		InactivityTimeout: c.Conversation.InactivityTimeout,
		ReopenWindow:      c.Conversation.ReopenWindow,
		AutoReplyCap:      c.Conversation.AutoReplyCap,
	}
	for lang, t := range c.Texts {
		p.TextsByLanguage[lang] = hotline.Texts{Welcome: t.Welcome, Help: t.Help, OptOut: t.OptOut, OptIn: t.OptIn, Closing: t.Closing, AfterHours: t.AfterHours}
	}
	for _, k := range c.Conversation.Keywords {
		p.Keywords = append(p.Keywords, hotline.HotlineKeyword{Word: k.Word, Language: k.Language})
	}
	for lang, terms := range c.Conversation.RiskTerms {
		p.RiskTerms[lang] = append([]string(nil), terms...)
	}
	p.Routing = c.Routing.policy(c.Location())
	return p
}

// PublicURL returns the URL Twilio reaches this server at, without a trailing
// slash: public_url when set, else "http://" + listen (with localhost for a listen
// address on all interfaces, such as ":8080").
func (c Config) PublicURL() string {
	if c.PublicURLSetting != "" {
		return strings.TrimRight(c.PublicURLSetting, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://" + c.Listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}).String()
}

// DBPath returns the path of the bbolt database file, data_dir/hotline.db.
func (c Config) DBPath() string {
	return filepath.Join(c.DataDir, "hotline.db")
}

// AuthTokens returns the Twilio auth tokens that webhook signatures are checked
// against: the primary, then the secondary, leaving out empty ones. No token means
// the webhook routes are not served.
func (c Config) AuthTokens() []string {
	var tokens []string
	for _, t := range []string{c.Twilio.AuthToken, c.Twilio.SecondaryAuthToken} {
		if t != "" {
			tokens = append(tokens, t)
		}
	}
	return tokens
}

// Location returns the hotline's time zone. It is UTC when timezone does not load,
// which Validate reports.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// redacted replaces a secret in Redacted.
const redacted = "***"

// Redacted returns c with every secret that is set replaced by "***", to print or
// log. Secrets that are not set stay empty, so that the output shows what is
// missing. The _file keys (paths, not secrets) are kept.
func (c Config) Redacted() Config {
	for _, s := range []*string{&c.Twilio.AuthToken, &c.Twilio.SecondaryAuthToken, &c.Admin.Password, &c.Crypto.MasterKey} {
		if *s != "" {
			*s = redacted
		}
	}
	return c
}
