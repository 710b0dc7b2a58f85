package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/hotlinehq/hotline/hotline"
)

// Error is one problem with the configuration: the key, where it was set when that
// is known, and what is wrong with how to fix it. Load and Validate return several
// joined with errors.Join; errors.As finds the first.
type Error struct {
	Source string // "file:line" or an environment variable; empty when unknown
	Key    string // such as "twilio.auth_token" or "conversation.keywords[0].word"
	Msg    string
}

// Error implements the error interface: "source: key: message".
func (e *Error) Error() string {
	s := e.Msg
	if e.Key != "" {
		s = e.Key + ": " + s
	}
	if e.Source != "" {
		s = e.Source + ": " + s
	}
	return s
}

// Limits that Validate enforces.
const (
	MinWebhookBodyBytes = 4 << 10  // a Twilio webhook with media URLs and location fields is ~2 KiB
	MaxWebhookBodyBytes = 10 << 20 // nothing Twilio sends comes near it
	MaxSMSSegments      = 10       // carriers and Twilio advise against longer concatenated texts
)

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{LogFormatAuto, LogFormatConsole, LogFormatJSON}
	providers  = []string{ProviderSimulator, ProviderTwilio}
	// languageCode is a BCP 47 language tag as the hotline writes them: "en", "pt-BR".
	languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) positive(key string, d time.Duration) {
	if d <= 0 {
		p.add(key, "must be more than 0; write a duration like 30m or 24h")
	}
}

func (p *problems) oneOf(key, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		p.add(key, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

// Validate returns every problem of c at once, joined with errors.Join, each an
// *Error naming the key and the fix; nil when c is fit to run a hotline.
func (c Config) Validate() error {
	var p problems
	if host, port, err := net.SplitHostPort(c.Listen); err != nil || !validPort(port) || strings.ContainsAny(host, " /") {
		p.add("listen", "%q is not host:port; write it like 127.0.0.1:8080, or 0.0.0.0:8080 to listen on every interface", c.Listen)
	}
	if c.PublicURLSetting != "" {
		if msg := checkURL(c.PublicURLSetting); msg != "" {
			p.add("public_url", "%s; write the URL Twilio reaches this server at, like https://hotline.example.org, or leave it empty", msg)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		p.add("data_dir", "is empty; name the directory that holds the database, like ./data")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		p.add("timezone", "%q is not a time zone; write an IANA name like America/New_York or UTC", c.Timezone)
	}
	if len(c.DefaultRegion) != 2 || !phonenumbers.GetSupportedRegions()[c.DefaultRegion] {
		p.add("default_region", "%q is not a region; write a two-letter country code like US or MX", c.DefaultRegion)
	}
	p.oneOf("log.level", c.Log.Level, logLevels)
	p.oneOf("log.format", c.Log.Format, logFormats)
	p.oneOf("sms.provider", c.SMS.Provider, providers)
	maxSegments := c.SMS.MaxSegments
	if maxSegments < 1 || maxSegments > MaxSMSSegments {
		p.add("sms.max_segments", "%d is not between 1 and %d", maxSegments, MaxSMSSegments)
		maxSegments = MaxSMSSegments
	}
	c.validateTwilio(&p)
	if b := c.Webhooks.MaxBodyBytes; b < MinWebhookBodyBytes || b > MaxWebhookBodyBytes {
		p.add("webhooks.max_body_bytes", "%d is not between %d (4 KiB) and %d (10 MiB); 65536 suits Twilio", b, MinWebhookBodyBytes, MaxWebhookBodyBytes)
	}
	if u := c.Admin.Username; u == "" || strings.IndexFunc(u, unicode.IsSpace) >= 0 {
		p.add("admin.username", "%q is not a user name; write one word, like admin", u)
	}
	p.positive("store.lock_timeout", c.Store.LockTimeout)
	p.positive("outbox.first_retry_delay", c.Outbox.FirstRetryDelay)
	if c.Outbox.MaxAttempts < 1 {
		p.add("outbox.max_attempts", "%d is less than 1; a text is tried at least once", c.Outbox.MaxAttempts)
	}
	p.positive("outbox.max_age", c.Outbox.MaxAge)
	if c.Outbox.Workers < 1 {
		p.add("outbox.workers", "%d is less than 1; nothing would be sent", c.Outbox.Workers)
	}
	c.validateConversation(&p)
	c.validateTexts(&p, maxSegments)
	p.positive("auth.session_idle_timeout", c.Auth.SessionIdleTimeout)
	p.positive("auth.session_absolute_timeout", c.Auth.SessionAbsoluteTimeout)
	if c.Auth.SessionIdleTimeout > c.Auth.SessionAbsoluteTimeout && c.Auth.SessionAbsoluteTimeout > 0 {
		p.add("auth.session_idle_timeout", "%s is longer than auth.session_absolute_timeout (%s); make it shorter", c.Auth.SessionIdleTimeout, c.Auth.SessionAbsoluteTimeout)
	}
	c.validateAuth(&p)
	c.validateRouting(&p)
	c.validateCrypto(&p)
	if d := c.Retention.Days; d != 0 && (d < MinRetentionDays || d > MaxRetentionDays) {
		p.add("retention.days", "%d is not 0 (keep forever) or between %d and %d days", d, MinRetentionDays, MaxRetentionDays)
	}
	return errors.Join(p...)
}

func (c Config) validateAuth(p *problems) {
	a := c.Auth
	p.positive("auth.handled_visibility", a.HandledVisibility)
	p.positive("auth.login_backoff_initial", a.LoginBackoffInitial)
	p.positive("auth.login_backoff_max", a.LoginBackoffMax)
	if a.LoginBackoffInitial > a.LoginBackoffMax && a.LoginBackoffMax > 0 {
		p.add("auth.login_backoff_initial", "%s is longer than auth.login_backoff_max (%s); make it shorter", a.LoginBackoffInitial, a.LoginBackoffMax)
	}
	for i, proxy := range a.TrustedProxies {
		if _, _, err := net.ParseCIDR(proxy); err != nil && net.ParseIP(proxy) == nil {
			p.add(fmt.Sprintf("auth.trusted_proxies[%d]", i), "%q is not an IP address or CIDR range; write one like 10.0.0.5 or 10.0.0.0/8", proxy)
		}
	}
}

func (c Config) validateTwilio(p *problems) {
	t := c.Twilio
	twilio := c.SMS.Provider == ProviderTwilio
	switch {
	case t.AccountSID != "" && !isSID(t.AccountSID, "AC"):
		p.add("twilio.account_sid", "%q is not an account SID; copy it from the Twilio console: it starts with AC and is 34 characters long", t.AccountSID)
	case t.AccountSID == "" && twilio:
		p.add("twilio.account_sid", "is required with sms.provider twilio; copy it from the Twilio console (it starts with AC)")
	}
	switch {
	case t.AuthToken == "" && twilio:
		p.add("twilio.auth_token", "is required with sms.provider twilio; copy it from the Twilio console, or name a file that holds it with twilio.auth_token_file")
	case t.AuthToken != "" && strings.TrimSpace(t.AuthToken) != t.AuthToken:
		p.add("twilio.auth_token", "has spaces or newlines around it; remove them")
	}
	switch {
	case t.SecondaryAuthToken != "" && t.AuthToken == "":
		p.add("twilio.secondary_auth_token", "is set without twilio.auth_token; set the primary token, or move this one to twilio.auth_token")
	case t.SecondaryAuthToken != "" && strings.TrimSpace(t.SecondaryAuthToken) != t.SecondaryAuthToken:
		p.add("twilio.secondary_auth_token", "has spaces or newlines around it; remove them")
	}
	if msg := checkURL(t.APIURL); msg != "" {
		p.add("twilio.api_url", "%s; write it like https://api.twilio.com", msg)
	}
	if t.From != "" {
		if a, err := hotline.NormalizeAddress(t.From, regionOr(c.DefaultRegion)); err != nil || string(a) != t.From {
			p.add("twilio.from", "%q is not a number in E.164 form or a short code; write it like +14155550100 or 233733", t.From)
		}
	}
	switch {
	case t.MessagingServiceSID != "" && !isSID(t.MessagingServiceSID, "MG"):
		p.add("twilio.messaging_service_sid", "%q is not a messaging service SID; it starts with MG and is 34 characters long", t.MessagingServiceSID)
	case t.MessagingServiceSID == "" && t.From == "" && twilio:
		p.add("twilio.from", "is required with sms.provider twilio, unless twilio.messaging_service_sid is set; write the number texts are sent from, like +14155550100")
	}
	if t.MPS <= 0 {
		p.add("twilio.mps", "%d is not more than 0; 1 suits a long code, 100 a short code", t.MPS)
	}
	p.positive("twilio.request_timeout", t.RequestTimeout)
}

func (c Config) validateConversation(p *problems) {
	cv := c.Conversation
	p.positive("conversation.inactivity_timeout", cv.InactivityTimeout)
	if cv.ReopenWindow < 0 {
		p.add("conversation.reopen_window", "%s is negative; write 0 to always start a new conversation, or a duration like 1h", cv.ReopenWindow)
	}
	if cv.AutoReplyCap < 0 {
		p.add("conversation.auto_reply_cap", "%d is negative; write 0 for no cap, or a number like 5", cv.AutoReplyCap)
	}
	c.validateCloseLists(p)
	seen := map[string]int{}
	for i, k := range cv.Keywords {
		key := fmt.Sprintf("conversation.keywords[%d]", i)
		w := k.Word
		trimmed := strings.TrimFunc(w, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
		switch {
		case w == "":
			p.add(key+".word", "is empty; write a single word like BEFREE, or remove the keyword")
		case strings.IndexFunc(w, unicode.IsSpace) >= 0:
			p.add(key+".word", "%q is more than one word; only a text that is a single word is a keyword", w)
		case trimmed != w:
			p.add(key+".word", "%q starts or ends with punctuation, which is stripped from texts before they are matched; write only the word", w)
		case hotline.DetectKeyword(w, nil).Kind != hotline.KeywordNone:
			p.add(key+".word", "%q is a carrier keyword (STOP, START, HELP and their synonyms have fixed meanings on every SMS number); choose another word", w)
		default:
			up := strings.ToUpper(w)
			if j, dup := seen[up]; dup {
				p.add(key+".word", "%q repeats conversation.keywords[%d]; remove one", w, j)
			}
			seen[up] = i
		}
		if k.Language != "" && !languageCode.MatchString(k.Language) {
			p.add(key+".language", "%q is not a language code; write one like es or pt-BR, or leave it out", k.Language)
		}
	}
	for _, lang := range sortedKeys(cv.RiskTerms) {
		key := "conversation.risk_terms." + lang
		if !languageCode.MatchString(lang) {
			p.add(key, "%q is not a language code; write one like es or pt-BR", lang)
		}
		for i, term := range cv.RiskTerms[lang] {
			if strings.IndexFunc(term, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
				p.add(key+"["+strconv.Itoa(i)+"]", "%q has no letter or digit and can never match; remove it", term)
			}
		}
	}
}

func (c Config) validateTexts(p *problems, maxSegments int) {
	def := c.Conversation.DefaultLanguage
	switch t, ok := c.Texts[def]; {
	case def == "":
		p.add("conversation.default_language", "is empty; write a language code like en")
	case !ok:
		p.add("conversation.default_language", "%q has no texts; add texts.%s, or choose one of the languages in texts (%s)", def, def, strings.Join(sortedKeys(c.Texts), ", "))
	default:
		for _, f := range []struct{ key, value string }{{"welcome", t.Welcome}, {"help", t.Help}, {"opt_in", t.OptIn}, {"after_hours", t.AfterHours}} {
			if strings.TrimSpace(f.value) == "" {
				p.add("texts."+def+"."+f.key, "is empty; the default language (conversation.default_language) needs every text but opt_out and closing, which may be empty to send nothing")
			}
		}
	}
	for _, lang := range sortedKeys(c.Texts) {
		t := c.Texts[lang]
		if !languageCode.MatchString(lang) {
			p.add("texts."+lang, "%q is not a language code; write one like es or pt-BR", lang)
		}
		if lang != def && strings.TrimSpace(t.Welcome) == "" {
			p.add("texts."+lang+".welcome", "is empty; write the welcome text in %s, or remove texts.%s to send the %s texts", lang, lang, def)
		}
		for _, f := range []struct{ key, value string }{{"welcome", t.Welcome}, {"help", t.Help}, {"opt_out", t.OptOut}, {"opt_in", t.OptIn}, {"closing", t.Closing}, {"after_hours", t.AfterHours}} {
			if n := hotline.Segments(f.value); n > maxSegments {
				p.add("texts."+lang+"."+f.key, "needs %d SMS segments, more than sms.max_segments (%d); shorten it", n, maxSegments)
			}
		}
	}
}

// Warnings returns advice about settings that work but are risky, for the server to
// log at start; Validate has already rejected what cannot work.
func (c Config) Warnings() []string {
	var w []string
	if c.SMS.Provider == ProviderTwilio && c.PublicURLSetting == "" {
		w = append(w, "public_url is empty: Twilio signs each webhook with the URL it calls, so set public_url to it or inbound texts will be rejected")
	}
	if c.SMS.Provider == ProviderTwilio && strings.HasPrefix(c.PublicURLSetting, "http://") {
		w = append(w, "public_url is not https: texts and signatures would cross the internet unencrypted")
	}
	if c.Log.Level == "debug" {
		w = append(w, "log.level is debug: logs will hold message bodies and phone numbers; use info in production")
	}
	if c.Conversation.AutoReplyCap == 0 {
		w = append(w, "conversation.auto_reply_cap is 0: automatic texts are not capped, so two bots could text each other forever")
	}
	if c.Metrics.Public {
		w = append(w, "metrics.public is true: anyone who reaches the server can read /metrics")
	}
	return w
}

// checkURL returns what is wrong with raw as an absolute http(s) URL, or "".
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q is not an http or https URL", raw)
	case u.Host == "":
		return fmt.Sprintf("%q has no host", raw)
	case u.User != nil:
		return fmt.Sprintf("%q holds a user name or password", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q has a query or fragment", raw)
	}
	return ""
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// isSID reports whether s looks like a Twilio SID with the two-letter prefix.
func isSID(s, prefix string) bool {
	return len(s) == 34 && strings.HasPrefix(s, prefix)
}

// regionOr returns region if it is one phonenumbers knows, else "US", so that one
// bad key does not make another fail.
func regionOr(region string) string {
	if phonenumbers.GetSupportedRegions()[region] {
		return region
	}
	return "US"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
