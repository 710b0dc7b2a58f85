package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hotlinehq/hotline/config"
)

// writeFile writes content to a file named name in a new temporary directory and
// returns its path.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// load loads the YAML text doc (no file when doc is empty) and the environment env.
func load(tb testing.TB, doc string, env ...string) (config.Config, error) {
	tb.Helper()
	path := ""
	if doc != "" {
		path = writeFile(tb, "hotline.yaml", doc)
	}
	return config.Load(path, env)
}

// mustLoad is load that fails the test on an error.
func mustLoad(tb testing.TB, doc string, env ...string) config.Config {
	tb.Helper()
	c, err := load(tb, doc, env...)
	if err != nil {
		tb.Fatalf("Load() error: %v", err)
	}
	return c
}

func TestLoadNothing(t *testing.T) {
	c := mustLoad(t, "", "PATH=/usr/bin", "HOME=/root", "HOTLINE_CONFIG=/etc/hotline.yaml")
	if got, want := c, config.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Load(\"\", unrelated env) = %+v, want Default()", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load(missing file) error = %v, want one naming %s", err, path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing file) error = %v, want one that is os.ErrNotExist", err)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, doc := range []string{"\n", "# only comments\n", "---\n"} {
		if got, want := mustLoad(t, doc), config.Default(); !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%q) = %+v, want Default()", doc, got)
		}
	}
}

func TestLoadFile(t *testing.T) {
	c := mustLoad(t, `
listen: "0.0.0.0:9090"
public_url: https://hotline.example.org/
timezone: America/Chicago
default_region: mx
log: {level: DEBUG, format: json}
sms:
  provider: twilio
twilio:
  account_sid: AC0123456789abcdef0123456789abcdef
  from: "+14155550100"
  mps: 100
  keep_location_fields: true
  request_timeout: 5s
webhooks:
  max_body_bytes: 131_072
outbox:
  max_age: 1h30m
conversation:
  inactivity_timeout: 12h
  reopen_window: 0
  keywords: [LIBRE, {word: LIVRE, language: pt}]
  risk_terms:
    pt: [arma]
    es: null
texts:
  en:
    welcome: Hello.
  pt:
    welcome: Olá.
auth:
  require_totp_for_coordinators: yes
metrics:
  public: true
`)
	for _, tt := range []struct {
		key       string
		got, want any
	}{
		{"listen", c.Listen, "0.0.0.0:9090"},
		{"public_url (trailing slash trimmed)", c.PublicURLSetting, "https://hotline.example.org"},
		{"timezone", c.Timezone, "America/Chicago"},
		{"default_region (upper-cased)", c.DefaultRegion, "MX"},
		{"log.level (lower-cased)", c.Log.Level, "debug"},
		{"log.format", c.Log.Format, "json"},
		{"sms.provider", c.SMS.Provider, "twilio"},
		{"sms.max_segments (default)", c.SMS.MaxSegments, 10},
		{"twilio.account_sid", c.Twilio.AccountSID, "AC0123456789abcdef0123456789abcdef"},
		{"twilio.from", c.Twilio.From, "+14155550100"},
		{"twilio.api_url (default)", c.Twilio.APIURL, "https://api.twilio.com"},
		{"twilio.mps", c.Twilio.MPS, 100},
		{"twilio.keep_location_fields", c.Twilio.KeepLocationFields, true},
		{"twilio.request_timeout", c.Twilio.RequestTimeout, 5 * time.Second},
		{"webhooks.max_body_bytes", c.Webhooks.MaxBodyBytes, int64(131072)},
		{"outbox.max_age", c.Outbox.MaxAge, 90 * time.Minute},
		{"outbox.workers (default)", c.Outbox.Workers, 4},
		{"conversation.inactivity_timeout", c.Conversation.InactivityTimeout, 12 * time.Hour},
		{"conversation.reopen_window", c.Conversation.ReopenWindow, time.Duration(0)},
		{"texts.en.welcome", c.Texts["en"].Welcome, "Hello."},
		{"texts.en.help (default kept)", c.Texts["en"].Help, config.Default().Texts["en"].Help},
		{"texts.es.welcome (default kept)", c.Texts["es"].Welcome, config.Default().Texts["es"].Welcome},
		{"texts.pt.welcome", c.Texts["pt"].Welcome, "Olá."},
		{"texts.pt.help (not set)", c.Texts["pt"].Help, ""},
		{"auth.require_totp_for_coordinators", c.Auth.RequireTOTPForCoordinators, true},
		{"metrics.public", c.Metrics.Public, true},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %#v, want %#v", tt.key, tt.got, tt.want)
		}
	}
	if got, want := c.Conversation.Keywords, []config.Keyword{{Word: "LIBRE"}, {Word: "LIVRE", Language: "pt"}}; !slices.Equal(got, want) {
		t.Errorf("conversation.keywords = %v, want %v", got, want)
	}
	if got, want := c.Conversation.RiskTerms, map[string][]string{"en": config.Default().Conversation.RiskTerms["en"], "pt": {"arma"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("conversation.risk_terms = %v, want %v (es removed, pt replaced, en kept)", got, want)
	}
}

func TestLoadAliases(t *testing.T) {
	c := mustLoad(t, `
texts:
  es: &es
    welcome: Hola.
  mx: *es
`)
	if got, want := c.Texts["mx"].Welcome, "Hola."; got != want {
		t.Errorf("texts.mx.welcome through an alias = %q, want %q", got, want)
	}
}

func TestLoadEnv(t *testing.T) {
	c := mustLoad(t, "",
		"HOTLINE_LISTEN=:9000",
		"HOTLINE_TWILIO__AUTH_TOKEN=tok#en: with *yaml* [chars]", // text is taken as it is
		"HOTLINE_TWILIO__MPS=3",
		"HOTLINE_TWILIO__KEEP_LOCATION_FIELDS=true",
		"HOTLINE_CONVERSATION__INACTIVITY_TIMEOUT=2h",
		"HOTLINE_CONVERSATION__KEYWORDS=[{word: BEFREE}, {word: LIVRE, language: pt}]",
		"HOTLINE_CONVERSATION__RISK_TERMS__FR=[arme, suicide]",
		"HOTLINE_TEXTS__ES__WELCOME=Hola.",
		"HOTLINE_TEXTS__FR__WELCOME=Bonjour.",
		"HOTLINE_METRICS__PUBLIC=1",
		"HOTLINE_ADMIN__PASSWORD=",
		"HOTLINE_WEBHOOKS={max_body_bytes: 8192}",
	)
	for _, tt := range []struct {
		key       string
		got, want any
	}{
		{"listen", c.Listen, ":9000"},
		{"twilio.auth_token", c.Twilio.AuthToken, "tok#en: with *yaml* [chars]"},
		{"twilio.mps", c.Twilio.MPS, 3},
		{"twilio.keep_location_fields", c.Twilio.KeepLocationFields, true},
		{"conversation.inactivity_timeout", c.Conversation.InactivityTimeout, 2 * time.Hour},
		{"texts.es.welcome", c.Texts["es"].Welcome, "Hola."},
		{"texts.es.help (default kept)", c.Texts["es"].Help, config.Default().Texts["es"].Help},
		{"texts.fr.welcome", c.Texts["fr"].Welcome, "Bonjour."},
		{"metrics.public", c.Metrics.Public, true},
		{"admin.password", c.Admin.Password, ""},
		{"webhooks.max_body_bytes", c.Webhooks.MaxBodyBytes, int64(8192)},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %#v, want %#v", tt.key, tt.got, tt.want)
		}
	}
	if got, want := c.Conversation.Keywords, []config.Keyword{{Word: "BEFREE"}, {Word: "LIVRE", Language: "pt"}}; !slices.Equal(got, want) {
		t.Errorf("conversation.keywords = %v, want %v", got, want)
	}
	if got, want := c.Conversation.RiskTerms["fr"], []string{"arme", "suicide"}; !slices.Equal(got, want) {
		t.Errorf("conversation.risk_terms.fr = %v, want %v", got, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	doc := "twilio:\n  mps: 10\n  from: \"+14155550100\"\nlog:\n  level: warn\n"
	c := mustLoad(t, doc,
		"HOTLINE_TWILIO__MPS=20",
		"HOTLINE_TWILIO={mps: 30, api_url: 'http://127.0.0.1:1'}", // a whole section, then finer variables over it
	)
	for _, tt := range []struct {
		key, why  string
		got, want any
	}{
		{"twilio.mps", "HOTLINE_TWILIO__MPS over HOTLINE_TWILIO over the file", c.Twilio.MPS, 20},
		{"twilio.api_url", "HOTLINE_TWILIO over the default", c.Twilio.APIURL, "http://127.0.0.1:1"},
		{"twilio.from", "the file over the default", c.Twilio.From, "+14155550100"},
		{"log.level", "the file over the default", c.Log.Level, "warn"},
		{"log.format", "the default", c.Log.Format, "auto"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %#v, want %#v (%s)", tt.key, tt.got, tt.want, tt.why)
		}
	}
}

// loadError loads doc and env and returns the error text, failing when there is none.
func loadError(t *testing.T, doc string, env ...string) string {
	t.Helper()
	_, err := load(t, doc, env...)
	if err == nil {
		t.Fatalf("Load(%q, %q) succeeded, want an error", doc, env)
	}
	return err.Error()
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  string
		env  []string
		want []string // substrings of the error
	}{
		{"unknown key in the file", "twilio:\n  auth_tokn: x\n",
			nil, []string{"hotline.yaml:2", "twilio.auth_tokn", "unknown key", "did you mean twilio.auth_token?"}},
		{"unknown top-level key", "lisen: :8080\n",
			nil, []string{"lisen", "did you mean listen?"}},
		{"key at the wrong level", "auth_token: x\n",
			nil, []string{"unknown key", "did you mean twilio.auth_token?"}},
		{"unknown key without a suggestion", "twilio:\n  zebra: x\n",
			nil, []string{"twilio.zebra: unknown key; twilio has account_sid, auth_token"}},
		{"unknown key in a language", "texts:\n  es:\n    welcom: Hola\n",
			nil, []string{"texts.es.welcom", "did you mean texts.es.welcome?"}},
		{"unknown key in a list item", "conversation:\n  keywords: [{wrd: X}]\n",
			nil, []string{"conversation.keywords[0].wrd", "did you mean conversation.keywords[0].word?"}},
		{"unknown env var", "",
			[]string{"HOTLINE_TWILIO__AUTH_TOKN=x"}, []string{"HOTLINE_TWILIO__AUTH_TOKN", "twilio.auth_tokn", "did you mean HOTLINE_TWILIO__AUTH_TOKEN?"}},
		{"env var with single underscores", "",
			[]string{"HOTLINE_TWILIO_AUTH_TOKEN=x"}, []string{"HOTLINE_TWILIO_AUTH_TOKEN", "did you mean HOTLINE_TWILIO__AUTH_TOKEN?"}},
		{"env var into a value", "",
			[]string{"HOTLINE_LISTEN__PORT=80"}, []string{"HOTLINE_LISTEN__PORT", "listen.port", "listen is a single value"}},
		{"env var into a list", "",
			[]string{"HOTLINE_CONVERSATION__KEYWORDS__0=X"}, []string{"conversation.keywords is a list", "HOTLINE_CONVERSATION__KEYWORDS="}},
		{"env var with an empty level", "",
			[]string{"HOTLINE_TWILIO____FROM=x"}, []string{"HOTLINE_TWILIO____FROM", "two underscores"}},
		{"wrong duration", "conversation:\n  inactivity_timeout: soon\n",
			nil, []string{"hotline.yaml:2", `conversation.inactivity_timeout: "soon" is not a duration; write it like 30m or 24h`}},
		{"duration without a unit", "store:\n  lock_timeout: 3\n",
			nil, []string{`store.lock_timeout: "3" is not a duration`}},
		{"wrong duration in env", "",
			[]string{"HOTLINE_CONVERSATION__INACTIVITY_TIMEOUT=soon"}, []string{"HOTLINE_CONVERSATION__INACTIVITY_TIMEOUT", `conversation.inactivity_timeout: "soon" is not a duration`}},
		{"empty env for a number", "",
			[]string{"HOTLINE_TWILIO__MPS="}, []string{"twilio.mps: is empty"}},
		{"wrong number", "twilio:\n  mps: lots\n",
			nil, []string{`twilio.mps: "lots" is not a whole number`}},
		{"fraction", "outbox:\n  workers: 1.5\n",
			nil, []string{`outbox.workers: "1.5" is not a whole number`}},
		{"number too large", "outbox:\n  workers: 99999999999999999999\n",
			nil, []string{"outbox.workers", "is not a whole number"}},
		{"wrong bool", "metrics:\n  public: maybe\n",
			nil, []string{`metrics.public: "maybe" is not true or false`}},
		{"wrong bool in env", "",
			[]string{"HOTLINE_METRICS__PUBLIC=sure"}, []string{"HOTLINE_METRICS__PUBLIC", `"sure" is not true or false`}},
		{"no value", "twilio:\n  mps:\n",
			nil, []string{"twilio.mps: has no value"}},
		{"list for text", "listen: [a, b]\n",
			nil, []string{"listen: is a list; expected a text value"}},
		{"text for a section", "twilio: yes\n",
			nil, []string{`twilio: is "yes"; expected a section with the keys account_sid`}},
		{"text for a list", "conversation:\n  keywords: BEFREE\n",
			nil, []string{`conversation.keywords: is "BEFREE"; expected a list`}},
		{"text for a map", "texts: hello\n",
			nil, []string{`texts: is "hello"; expected a section keyed by language`}},
		{"list as the document", "- a\n- b\n",
			nil, []string{"must be a mapping of keys"}},
		{"key set twice", "listen: a\nlisten: b\n",
			nil, []string{"listen: is set twice (lines 1 and 2)"}},
		{"two documents", "listen: a\n---\nlisten: b\n",
			nil, []string{"more than one YAML document"}},
		{"invalid YAML", "listen: [\n",
			nil, []string{"hotline.yaml", "invalid YAML"}},
		{"invalid YAML in env", "",
			[]string{"HOTLINE_CONVERSATION__KEYWORDS=[a"}, []string{"HOTLINE_CONVERSATION__KEYWORDS", "conversation.keywords: cannot parse"}},
		{"aliases that expand too far", aliasBomb(),
			nil, []string{"conversation.risk_terms", "too large once its aliases are expanded"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := loadError(t, tt.doc, tt.env...)
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("Load() error = %q,\nwant it to contain %q", got, want)
				}
			}
		})
	}
}

// aliasBomb returns a short document that aliases make huge: 200 languages of the
// same 1000 risk terms.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("conversation:\n  risk_terms:\n    l0: &big [" + strings.Repeat("x, ", 999) + "x]\n")
	for i := 1; i < 200; i++ {
		fmt.Fprintf(&b, "    l%d: *big\n", i)
	}
	return b.String()
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := load(t, "lisen: x\ntwilio:\n  mps: lots\n", "HOTLINE_SMS__PROVIDR=twilio")
	var errs interface{ Unwrap() []error }
	if !errors.As(err, &errs) {
		t.Fatalf("Load() error = %v, want several joined", err)
	}
	if got, want := len(errs.Unwrap()), 3; got != want {
		t.Errorf("Load() returned %d problems, want %d: %v", got, want, err)
	}
	var first *config.Error
	if !errors.As(err, &first) {
		t.Fatalf("Load() error = %v, want *config.Error values", err)
	}
	if got, want := first.Key, "lisen"; got != want {
		t.Errorf("first problem's Key = %q, want %q", got, want)
	}
}

func TestLoadSecretFiles(t *testing.T) {
	token := writeFile(t, "token", "s3cr3t\n")
	crlf := writeFile(t, "crlf", "second\r\n")
	password := writeFile(t, "password", "  spaced password ")
	c := mustLoad(t, "twilio:\n  auth_token_file: "+token+"\n",
		"HOTLINE_TWILIO__SECONDARY_AUTH_TOKEN_FILE="+crlf,
		"HOTLINE_ADMIN__PASSWORD_FILE="+password,
	)
	for _, tt := range []struct{ key, got, want string }{
		{"twilio.auth_token", c.Twilio.AuthToken, "s3cr3t"},
		{"twilio.secondary_auth_token", c.Twilio.SecondaryAuthToken, "second"},
		{"admin.password (only newlines trimmed)", c.Admin.Password, "  spaced password "},
		{"twilio.auth_token_file (kept)", c.Twilio.AuthTokenFile, token},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, tt.got, tt.want)
		}
	}
}

func TestLoadSecretFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	empty := writeFile(t, "empty", "\n")
	token := writeFile(t, "token", "s3cr3t")
	for _, tt := range []struct {
		name string
		doc  string
		env  []string
		want []string
	}{
		{"unreadable", "", []string{"HOTLINE_TWILIO__AUTH_TOKEN_FILE=" + missing},
			[]string{"twilio.auth_token_file", missing}},
		{"empty", "admin:\n  password_file: " + empty + "\n", nil,
			[]string{"admin.password_file", empty, "is empty"}},
		{"both set", "twilio:\n  auth_token_file: " + token + "\n", []string{"HOTLINE_TWILIO__AUTH_TOKEN=x"},
			[]string{"twilio.auth_token_file: both twilio.auth_token and twilio.auth_token_file are set"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := loadError(t, tt.doc, tt.env...)
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("Load() error = %q,\nwant it to contain %q", got, want)
				}
			}
			if strings.Contains(got, "s3cr3t") {
				t.Errorf("Load() error = %q shows the secret", got)
			}
		})
	}
}

// A configuration printed with yaml.Marshal loads back unchanged, so that a
// command can show the effective configuration in a form it accepts.
func TestMarshalRoundTrip(t *testing.T) {
	want := config.Default()
	want.Twilio.AuthToken = "token"
	want.Texts["fr"] = config.Texts{Welcome: "Bonjour: \"entre guillemets\" #1"}
	want.Conversation.ReopenWindow = 0
	data, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, string(data)); !reflect.DeepEqual(got, want) {
		t.Errorf("Load(yaml.Marshal(c)) = %+v,\nwant %+v", got, want)
	}
}
