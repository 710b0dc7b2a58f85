package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/config"
)

// twilioConfig returns a valid configuration with the Twilio provider.
func twilioConfig() config.Config {
	c := config.Default()
	c.PublicURLSetting = "https://hotline.example.org"
	c.SMS.Provider = config.ProviderTwilio
	c.Twilio.AccountSID = "AC0123456789abcdef0123456789abcdef"
	c.Twilio.AuthToken = "0123456789abcdef0123456789abcdef"
	c.Twilio.From = "+14155550100"
	c.Crypto.MasterKey = testMasterKey
	return c
}

// testMasterKey is a master key in base64 (32 bytes).
const testMasterKey = "nAH/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw="

func TestValidateValid(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*config.Config)
	}{
		{"default", func(*config.Config) {}},
		{"twilio with a number", func(c *config.Config) { *c = twilioConfig() }},
		{"twilio with a short code", func(c *config.Config) { *c = twilioConfig(); c.Twilio.From = "233733" }},
		{"twilio with a messaging service", func(c *config.Config) {
			*c = twilioConfig()
			c.Twilio.From, c.Twilio.MessagingServiceSID = "", "MG0123456789abcdef0123456789abcdef"
		}},
		{"twilio with a second token", func(c *config.Config) {
			*c = twilioConfig()
			c.Twilio.SecondaryAuthToken = "fedcba9876543210fedcba9876543210"
		}},
		{"webhooks with the simulator", func(c *config.Config) { c.Twilio.AuthToken = "token" }},
		{"listen on every interface", func(c *config.Config) { c.Listen = ":8080" }},
		{"listen on a random port", func(c *config.Config) { c.Listen = "127.0.0.1:0" }},
		{"public_url with a path", func(c *config.Config) { c.PublicURLSetting = "https://example.org/hotline" }},
		{"no keywords", func(c *config.Config) { c.Conversation.Keywords = nil }},
		{"no reopening", func(c *config.Config) { c.Conversation.ReopenWindow = 0 }},
		{"no cap", func(c *config.Config) { c.Conversation.AutoReplyCap = 0 }},
		{"no opt-out or closing text", func(c *config.Config) {
			en := c.Texts["en"]
			en.OptOut, en.Closing = "", ""
			c.Texts["en"] = en
		}},
		{"a language with only a welcome", func(c *config.Config) { c.Texts["pt-BR"] = config.Texts{Welcome: "Olá."} }},
		{"default language es", func(c *config.Config) { c.Conversation.DefaultLanguage = "es" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.mod(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 160*3)
	for _, tt := range []struct {
		name string
		mod  func(*config.Config)
		key  string // the key the problem must name
		want string // and a part of its message
	}{
		{"listen without port", func(c *config.Config) { c.Listen = "localhost" }, "listen", "host:port"},
		{"listen with a bad port", func(c *config.Config) { c.Listen = "localhost:http" }, "listen", "host:port"},
		{"listen with port too large", func(c *config.Config) { c.Listen = ":70000" }, "listen", "host:port"},
		{"public_url relative", func(c *config.Config) { c.PublicURLSetting = "hotline.example.org" }, "public_url", "not an http or https URL"},
		{"public_url ftp", func(c *config.Config) { c.PublicURLSetting = "ftp://example.org" }, "public_url", "not an http or https URL"},
		{"public_url without host", func(c *config.Config) { c.PublicURLSetting = "https://" }, "public_url", "no host"},
		{"public_url with query", func(c *config.Config) { c.PublicURLSetting = "https://example.org/?a=b" }, "public_url", "query or fragment"},
		{"public_url with fragment", func(c *config.Config) { c.PublicURLSetting = "https://example.org/#top" }, "public_url", "query or fragment"},
		{"public_url with a password", func(c *config.Config) { c.PublicURLSetting = "https://u:secret@example.org" }, "public_url", "user name or password"},
		{"data_dir empty", func(c *config.Config) { c.DataDir = "" }, "data_dir", "is empty"},
		{"timezone unknown", func(c *config.Config) { c.Timezone = "Mars/Olympus_Mons" }, "timezone", "IANA"},
		{"timezone empty", func(c *config.Config) { c.Timezone = "" }, "timezone", "IANA"},
		{"default_region unknown", func(c *config.Config) { c.DefaultRegion = "XX" }, "default_region", "two-letter"},
		{"default_region too long", func(c *config.Config) { c.DefaultRegion = "USA" }, "default_region", "two-letter"},
		{"log.level", func(c *config.Config) { c.Log.Level = "verbose" }, "log.level", "debug, info, warn, error"},
		{"log.format", func(c *config.Config) { c.Log.Format = "xml" }, "log.format", "auto, console, json"},
		{"sms.provider", func(c *config.Config) { c.SMS.Provider = "nexmo" }, "sms.provider", "simulator, twilio"},
		{"sms.max_segments zero", func(c *config.Config) { c.SMS.MaxSegments = 0 }, "sms.max_segments", "between 1 and 10"},
		{"sms.max_segments large", func(c *config.Config) { c.SMS.MaxSegments = 11 }, "sms.max_segments", "between 1 and 10"},
		{"twilio without account", func(c *config.Config) { *c = twilioConfig(); c.Twilio.AccountSID = "" }, "twilio.account_sid", "required"},
		{"twilio with a bad account", func(c *config.Config) { c.Twilio.AccountSID = "AB0123456789abcdef0123456789abcdef" }, "twilio.account_sid", "starts with AC"},
		{"twilio with a short account", func(c *config.Config) { *c = twilioConfig(); c.Twilio.AccountSID = "AC123" }, "twilio.account_sid", "34 characters"},
		{"twilio without token", func(c *config.Config) { *c = twilioConfig(); c.Twilio.AuthToken = "" }, "twilio.auth_token", "auth_token_file"},
		{"token with a newline", func(c *config.Config) { c.Twilio.AuthToken = "token\n" }, "twilio.auth_token", "spaces or newlines"},
		{"secondary without primary", func(c *config.Config) { c.Twilio.SecondaryAuthToken = "token" }, "twilio.secondary_auth_token", "without twilio.auth_token"},
		{"twilio without sender", func(c *config.Config) { *c = twilioConfig(); c.Twilio.From = "" }, "twilio.from", "messaging_service_sid"},
		{"twilio.from national", func(c *config.Config) { c.Twilio.From = "(415) 555-0100" }, "twilio.from", "E.164"},
		{"twilio.from garbage", func(c *config.Config) { c.Twilio.From = "hotline" }, "twilio.from", "E.164"},
		{"messaging service", func(c *config.Config) { c.Twilio.MessagingServiceSID = "MS123" }, "twilio.messaging_service_sid", "starts with MG"},
		{"twilio.api_url", func(c *config.Config) { c.Twilio.APIURL = "api.twilio.com" }, "twilio.api_url", "not an http or https URL"},
		{"twilio.mps", func(c *config.Config) { c.Twilio.MPS = 0 }, "twilio.mps", "not more than 0"},
		{"twilio.request_timeout", func(c *config.Config) { c.Twilio.RequestTimeout = 0 }, "twilio.request_timeout", "more than 0"},
		{"webhooks.max_body_bytes small", func(c *config.Config) { c.Webhooks.MaxBodyBytes = 1024 }, "webhooks.max_body_bytes", "between 4096"},
		{"webhooks.max_body_bytes large", func(c *config.Config) { c.Webhooks.MaxBodyBytes = 11 << 20 }, "webhooks.max_body_bytes", "10 MiB"},
		{"admin.username empty", func(c *config.Config) { c.Admin.Username = "" }, "admin.username", "one word"},
		{"admin.username spaces", func(c *config.Config) { c.Admin.Username = "the admin" }, "admin.username", "one word"},
		{"store.lock_timeout", func(c *config.Config) { c.Store.LockTimeout = 0 }, "store.lock_timeout", "more than 0"},
		{"outbox.first_retry_delay", func(c *config.Config) { c.Outbox.FirstRetryDelay = -time.Second }, "outbox.first_retry_delay", "more than 0"},
		{"outbox.max_attempts", func(c *config.Config) { c.Outbox.MaxAttempts = 0 }, "outbox.max_attempts", "at least once"},
		{"outbox.max_age", func(c *config.Config) { c.Outbox.MaxAge = 0 }, "outbox.max_age", "more than 0"},
		{"outbox.workers", func(c *config.Config) { c.Outbox.Workers = 0 }, "outbox.workers", "less than 1"},
		{"inactivity_timeout", func(c *config.Config) { c.Conversation.InactivityTimeout = 0 }, "conversation.inactivity_timeout", "more than 0"},
		{"reopen_window", func(c *config.Config) { c.Conversation.ReopenWindow = -time.Hour }, "conversation.reopen_window", "negative"},
		{"auto_reply_cap", func(c *config.Config) { c.Conversation.AutoReplyCap = -1 }, "conversation.auto_reply_cap", "negative"},
		{"keyword empty", func(c *config.Config) { c.Conversation.Keywords[1].Word = "" }, "conversation.keywords[1].word", "is empty"},
		{"keyword two words", func(c *config.Config) { c.Conversation.Keywords[0].Word = "BE FREE" }, "conversation.keywords[0].word", "more than one word"},
		{"keyword punctuation", func(c *config.Config) { c.Conversation.Keywords[0].Word = "#BEFREE" }, "conversation.keywords[0].word", "punctuation"},
		{"keyword STOP", func(c *config.Config) { c.Conversation.Keywords[0].Word = "stop" }, "conversation.keywords[0].word", "carrier keyword"},
		{"keyword INFO", func(c *config.Config) { c.Conversation.Keywords[0].Word = "Info" }, "conversation.keywords[0].word", "carrier keyword"},
		{"keyword START", func(c *config.Config) { c.Conversation.Keywords[0].Word = "UNSTOP" }, "conversation.keywords[0].word", "carrier keyword"},
		{"keyword twice", func(c *config.Config) { c.Conversation.Keywords[1].Word = "befree" }, "conversation.keywords[1].word", "repeats conversation.keywords[0]"},
		{"keyword language", func(c *config.Config) { c.Conversation.Keywords[1].Language = "Spanish" }, "conversation.keywords[1].language", "language code"},
		{"risk term language", func(c *config.Config) { c.Conversation.RiskTerms["Spanish"] = []string{"x"} }, "conversation.risk_terms.Spanish", "language code"},
		{"risk term empty", func(c *config.Config) { c.Conversation.RiskTerms["en"] = []string{"gun", " !"} }, "conversation.risk_terms.en[1]", "never match"},
		{"default_language empty", func(c *config.Config) { c.Conversation.DefaultLanguage = "" }, "conversation.default_language", "is empty"},
		{"default_language without texts", func(c *config.Config) { c.Conversation.DefaultLanguage = "fr" }, "conversation.default_language", "texts.fr"},
		{"default language without welcome", func(c *config.Config) {
			en := c.Texts["en"]
			en.Welcome = ""
			c.Texts["en"] = en
		}, "texts.en.welcome", "default language"},
		{"default language without after_hours", func(c *config.Config) {
			en := c.Texts["en"]
			en.AfterHours = " "
			c.Texts["en"] = en
		}, "texts.en.after_hours", "default language"},
		{"language without welcome", func(c *config.Config) { c.Texts["fr"] = config.Texts{Help: "Aide."} }, "texts.fr.welcome", "remove texts.fr"},
		{"language code", func(c *config.Config) { c.Texts["French"] = config.Texts{Welcome: "Bonjour."} }, "texts.French", "language code"},
		{"text too long", func(c *config.Config) {
			es := c.Texts["es"]
			es.Closing = long
			c.Texts["es"] = es
			c.SMS.MaxSegments = 3
		}, "texts.es.closing", "4 SMS segments, more than sms.max_segments (3)"},
		{"session_idle_timeout", func(c *config.Config) { c.Auth.SessionIdleTimeout = 0 }, "auth.session_idle_timeout", "more than 0"},
		{"session_absolute_timeout", func(c *config.Config) { c.Auth.SessionAbsoluteTimeout = 0 }, "auth.session_absolute_timeout", "more than 0"},
		{"idle longer than absolute", func(c *config.Config) { c.Auth.SessionIdleTimeout = 24 * time.Hour }, "auth.session_idle_timeout", "longer than auth.session_absolute_timeout"},
		{"handled_visibility", func(c *config.Config) { c.Auth.HandledVisibility = 0 }, "auth.handled_visibility", "more than 0"},
		{"login_backoff_initial", func(c *config.Config) { c.Auth.LoginBackoffInitial = 0 }, "auth.login_backoff_initial", "more than 0"},
		{"backoff initial longer than max", func(c *config.Config) { c.Auth.LoginBackoffInitial = time.Hour }, "auth.login_backoff_initial", "longer than auth.login_backoff_max"},
		{"trusted proxy", func(c *config.Config) { c.Auth.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }, "auth.trusted_proxies[1]", "CIDR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.mod(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want a problem with %s", tt.key)
			}
			if got, want := err.Error(), tt.key+": "; !strings.Contains(got, want) {
				t.Errorf("Validate() = %q,\nwant it to name %q", got, tt.key)
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("Validate() = %q,\nwant it to contain %q", got, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := config.Default()
	c.Listen = "nowhere"
	c.SMS.Provider = config.ProviderTwilio
	c.Outbox.Workers = 0
	err := c.Validate()
	var keys []string
	var errs interface{ Unwrap() []error }
	if !errors.As(err, &errs) {
		t.Fatalf("Validate() = %v, want several problems joined", err)
	}
	for _, e := range errs.Unwrap() {
		var ce *config.Error
		if !errors.As(e, &ce) {
			t.Fatalf("problem %v is a %T, want *config.Error", e, e)
		}
		keys = append(keys, ce.Key)
	}
	if got, want := strings.Join(keys, " "), "listen twilio.account_sid twilio.auth_token twilio.from outbox.workers crypto.master_key_file"; got != want {
		t.Errorf("Validate() named the keys %q, want %q", got, want)
	}
}

func TestValidateDoesNotShowSecrets(t *testing.T) {
	c := twilioConfig()
	c.Twilio.AuthToken = " s3cr3t "
	c.Twilio.SecondaryAuthToken = "s3cr3t2\n"
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Validate() = %v, want a problem that does not show the token", err)
	}
}

func TestWarnings(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*config.Config)
		want string
	}{
		{"twilio without public_url", func(c *config.Config) { *c = twilioConfig(); c.PublicURLSetting = "" }, "public_url is empty"},
		{"twilio over http", func(c *config.Config) { *c = twilioConfig(); c.PublicURLSetting = "http://hotline.example.org" }, "not https"},
		{"debug logs", func(c *config.Config) { c.Log.Level = "debug" }, "message bodies"},
		{"no cap", func(c *config.Config) { c.Conversation.AutoReplyCap = 0 }, "auto_reply_cap"},
		{"public metrics", func(c *config.Config) { c.Metrics.Public = true }, "metrics.public"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.mod(&c)
			got := strings.Join(c.Warnings(), "\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("Warnings() = %q, want one containing %q", got, tt.want)
			}
		})
	}
	if got := twilioConfig().Warnings(); len(got) != 0 {
		t.Errorf("Warnings() of a sound twilio configuration = %q, want none", got)
	}
}
