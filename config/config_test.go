package config_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
)

func TestDefault(t *testing.T) {
	c := config.Default()
	for _, tt := range []struct {
		key       string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"public_url", c.PublicURLSetting, ""},
		{"data_dir", c.DataDir, "./data"},
		{"timezone", c.Timezone, "UTC"},
		{"default_region", c.DefaultRegion, "US"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "auto"},
		{"sms.provider", c.SMS.Provider, "simulator"},
		{"sms.max_segments", c.SMS.MaxSegments, 10},
		{"twilio.api_url", c.Twilio.APIURL, "https://api.twilio.com"},
		{"twilio.mps", c.Twilio.MPS, 1},
		{"twilio.keep_location_fields", c.Twilio.KeepLocationFields, false},
		{"twilio.request_timeout", c.Twilio.RequestTimeout, 10 * time.Second},
		{"webhooks.max_body_bytes", c.Webhooks.MaxBodyBytes, int64(65536)},
		{"admin.username", c.Admin.Username, "admin"},
		{"admin.password", c.Admin.Password, ""},
		{"store.lock_timeout", c.Store.LockTimeout, 3 * time.Second},
		{"outbox.first_retry_delay", c.Outbox.FirstRetryDelay, 2 * time.Second},
		{"outbox.max_attempts", c.Outbox.MaxAttempts, 10},
		{"outbox.max_age", c.Outbox.MaxAge, 24 * time.Hour},
		{"outbox.workers", c.Outbox.Workers, 4},
		{"conversation.default_language", c.Conversation.DefaultLanguage, "en"},
		{"conversation.inactivity_timeout", c.Conversation.InactivityTimeout, 24 * time.Hour},
		{"conversation.reopen_window", c.Conversation.ReopenWindow, time.Hour},
		{"conversation.auto_reply_cap", c.Conversation.AutoReplyCap, 5},
		{"auth.session_idle_timeout", c.Auth.SessionIdleTimeout, 30 * time.Minute},
		{"auth.session_absolute_timeout", c.Auth.SessionAbsoluteTimeout, 12 * time.Hour},
		{"auth.require_totp_for_coordinators", c.Auth.RequireTOTPForCoordinators, false},
		{"auth.handled_visibility", c.Auth.HandledVisibility, 24 * time.Hour},
		{"auth.login_backoff_initial", c.Auth.LoginBackoffInitial, time.Second},
		{"auth.login_backoff_max", c.Auth.LoginBackoffMax, 15 * time.Minute},
		{"auth.trusted_proxies", len(c.Auth.TrustedProxies), 0},
		{"metrics.public", c.Metrics.Public, false},
	} {
		if tt.got != tt.want {
			t.Errorf("Default() %s = %#v, want %#v", tt.key, tt.got, tt.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
	if got := c.Warnings(); len(got) != 0 {
		t.Errorf("Default().Warnings() = %q, want none", got)
	}
}

func TestDefaultPolicy(t *testing.T) {
	if got, want := config.Default().Policy(), hotline.DefaultPolicy(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default().Policy() = %+v,\nwant hotline.DefaultPolicy() = %+v", got, want)
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := config.Default()
	a.Texts["en"] = config.Texts{}
	a.Conversation.RiskTerms["en"][0] = "changed"
	a.Conversation.Keywords[0].Word = "CHANGED"
	if got, want := config.Default(), hotline.DefaultPolicy(); !reflect.DeepEqual(got.Policy(), want) {
		t.Errorf("Default() changed after a caller modified an earlier result: %+v", got)
	}
}

func TestPolicySharesNothing(t *testing.T) {
	c := config.Default()
	p := c.Policy()
	p.RiskTerms["en"][0] = "changed"
	p.Keywords[0].Word = "CHANGED"
	if got, want := c.Conversation.RiskTerms["en"][0], "suicide"; got != want {
		t.Errorf("after changing the policy, risk_terms.en[0] = %q, want %q", got, want)
	}
	if got, want := c.Conversation.Keywords[0].Word, "BEFREE"; got != want {
		t.Errorf("after changing the policy, keywords[0] = %q, want %q", got, want)
	}
}

func TestPolicy(t *testing.T) {
	c := config.Default()
	c.Conversation.DefaultLanguage = "es"
	c.Conversation.InactivityTimeout = 2 * time.Hour
	c.Conversation.ReopenWindow = 0
	c.Conversation.AutoReplyCap = 3
	c.Conversation.Keywords = []config.Keyword{{Word: "LIBRE", Language: "es"}}
	c.Texts["fr"] = config.Texts{Welcome: "Bonjour"}
	p := c.Policy()
	if got, want := p.DefaultLanguage, "es"; got != want {
		t.Errorf("DefaultLanguage = %q, want %q", got, want)
	}
	if got, want := p.InactivityTimeout, 2*time.Hour; got != want {
		t.Errorf("InactivityTimeout = %v, want %v", got, want)
	}
	if got, want := p.ReopenWindow, time.Duration(0); got != want {
		t.Errorf("ReopenWindow = %v, want %v", got, want)
	}
	if got, want := p.AutoReplyCap, 3; got != want {
		t.Errorf("AutoReplyCap = %d, want %d", got, want)
	}
	if got, want := p.Keywords, []hotline.HotlineKeyword{{Word: "LIBRE", Language: "es"}}; !slices.Equal(got, want) {
		t.Errorf("Keywords = %v, want %v", got, want)
	}
	if got, want := p.TextsFor("fr").Welcome, "Bonjour"; got != want {
		t.Errorf("TextsFor(fr).Welcome = %q, want %q", got, want)
	}
	if got, want := p.TextsFor("fr").Help, c.Texts["es"].Help; got != want {
		t.Errorf("TextsFor(fr).Help = %q, want the default language's %q", got, want)
	}
}

func TestPublicURL(t *testing.T) {
	for _, tt := range []struct {
		listen, public, want string
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{":8080", "", "http://localhost:8080"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"[::]:9000", "", "http://localhost:9000"},
		{"[::1]:9000", "", "http://[::1]:9000"},
		{"127.0.0.1:8080", "https://hotline.example.org", "https://hotline.example.org"},
		{"127.0.0.1:8080", "https://hotline.example.org/", "https://hotline.example.org"},
		{"127.0.0.1:8080", "https://example.org/hotline/", "https://example.org/hotline"},
	} {
		c := config.Default()
		c.Listen, c.PublicURLSetting = tt.listen, tt.public
		if got := c.PublicURL(); got != tt.want {
			t.Errorf("PublicURL() with listen %q and public_url %q = %q, want %q", tt.listen, tt.public, got, tt.want)
		}
	}
}

func TestDBPath(t *testing.T) {
	c := config.Default()
	c.DataDir = "/var/lib/hotline"
	if got, want := c.DBPath(), filepath.Join("/var/lib/hotline", "hotline.db"); got != want {
		t.Errorf("DBPath() = %q, want %q", got, want)
	}
}

func TestAuthTokens(t *testing.T) {
	for _, tt := range []struct {
		primary, secondary string
		want               []string
	}{
		{"", "", nil},
		{"one", "", []string{"one"}},
		{"one", "two", []string{"one", "two"}},
		{"", "two", []string{"two"}},
	} {
		c := config.Default()
		c.Twilio.AuthToken, c.Twilio.SecondaryAuthToken = tt.primary, tt.secondary
		if got := c.AuthTokens(); !slices.Equal(got, tt.want) {
			t.Errorf("AuthTokens() with %q, %q = %q, want %q", tt.primary, tt.secondary, got, tt.want)
		}
	}
}

func TestLocation(t *testing.T) {
	c := config.Default()
	c.Timezone = "America/Chicago"
	if got, want := c.Location().String(), "America/Chicago"; got != want {
		t.Errorf("Location() = %q, want %q", got, want)
	}
	c.Timezone = "Mars/Olympus_Mons"
	if got, want := c.Location(), time.UTC; got != want {
		t.Errorf("Location() for an unknown zone = %v, want %v", got, want)
	}
}

func TestRedacted(t *testing.T) {
	c := config.Default()
	c.Twilio.AuthToken = "primary-token"
	c.Twilio.SecondaryAuthTokenFile = "/run/secrets/secondary"
	c.Admin.Password = "correct horse"
	r := c.Redacted()
	for _, tt := range []struct{ key, got, want string }{
		{"twilio.auth_token", r.Twilio.AuthToken, "***"},
		{"twilio.secondary_auth_token", r.Twilio.SecondaryAuthToken, ""},
		{"twilio.secondary_auth_token_file", r.Twilio.SecondaryAuthTokenFile, "/run/secrets/secondary"},
		{"admin.password", r.Admin.Password, "***"},
		{"admin.username", r.Admin.Username, "admin"},
	} {
		if tt.got != tt.want {
			t.Errorf("Redacted() %s = %q, want %q", tt.key, tt.got, tt.want)
		}
	}
	if got, want := c.Twilio.AuthToken, "primary-token"; got != want {
		t.Errorf("after Redacted(), the original twilio.auth_token = %q, want %q", got, want)
	}
}
