package webhooks

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
)

// Why not twilio-go's client.RequestValidator: it takes a map[string]string, so
// only the first value of a repeated parameter is signed (a second, unsigned value
// rides along); it strips any port, not only the default one, so a signature made
// for https://host:8443/ also verifies for https://host/; it rebuilds the URL through
// net/url, which may re-encode it; and it knows one token only. The algorithm is
// twenty lines, so we own it.

// SignatureHeader is the header in which Twilio sends a webhook's signature.
const SignatureHeader = "X-Twilio-Signature"

// Sign returns the X-Twilio-Signature Twilio sends with a POST of params to webhookURL:
// base64(HMAC-SHA1(authToken, webhookURL + name1 + value1 + name2 + value2 …)) with the
// parameters sorted by name (byte order). A parameter sent more than once contributes
// each distinct value in sorted order, as Twilio's own libraries compute it.
func Sign(authToken, webhookURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(webhookURL))
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether signature is what Twilio would send for params
// posted to webhookURL under any of the non-empty tokens (the primary auth token and, while
// rotating, the secondary one). Like Twilio's libraries it also accepts the URL with the
// scheme's default port added or removed (https 443, http 80), since Twilio may sign
// either form. Signatures are compared in constant time. Empty tokens are ignored:
// anybody can compute a signature with an empty key.
func ValidSignature(tokens []string, webhookURL string, params url.Values, signature string) bool {
	if signature == "" {
		return false
	}
	urls := []string{webhookURL}
	if alt, ok := defaultPortVariant(webhookURL); ok {
		urls = append(urls, alt)
	}
	valid := false
	for _, token := range tokens {
		if token == "" {
			continue
		}
		for _, u := range urls {
			if hmac.Equal([]byte(Sign(token, u, params)), []byte(signature)) {
				valid = true
			}
		}
	}
	return valid
}

// defaultPortVariant returns raw with the scheme's default port added when it has no
// port, or removed when it has exactly that port. Only the authority changes; the
// rest of raw is kept byte for byte. A URL with another port has no variant.
func defaultPortVariant(raw string) (string, bool) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", false
	}
	var port string
	switch strings.ToLower(scheme) {
	case "https":
		port = "443"
	case "http":
		port = "80"
	default:
		return "", false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	host, hasPort := authority, false
	if i := strings.LastIndex(authority, ":"); i >= 0 && !strings.Contains(authority[i:], "]") {
		if authority[i+1:] != port {
			return "", false
		}
		host, hasPort = authority[:i], true
	}
	if host == "" || (strings.Contains(host, ":") && !(strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]"))) {
		return "", false // not a host name or a bracketed IPv6 address
	}
	if hasPort {
		return scheme + "://" + userinfo + host + tail, true
	}
	return scheme + "://" + userinfo + host + ":" + port + tail, true
}

// requestURL is the URL Twilio requested: the configured public URL (without its
// trailing slash) followed by the path and query exactly as they arrived.
func requestURL(publicURL string, c echo.Context) string {
	r := c.Request()
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		target = r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
	}
	return strings.TrimRight(publicURL, "/") + target
}

// verifySignature is the middleware that lets through only requests signed by
// Twilio with one of tokens. It runs after readForm, whose parameters it checks. A
// rejected request gets 403 and a warning that names the path, the remote IP and the
// masked sender, never the text or the full number.
func verifySignature(publicURL string, tokens []string, log zerolog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			f := formOf(c)
			if ValidSignature(tokens, requestURL(publicURL, c), f, c.Request().Header.Get(SignatureHeader)) {
				c.Set(verifiedKey, true)
				return next(c)
			}
			ev := log.Warn().Str("path", c.Request().URL.Path).Str("remote_ip", c.RealIP())
			if from := f.Get("From"); from != "" {
				ev = ev.Str("from", maskAddress(from))
			}
			ev.Bool("signature_present", c.Request().Header.Get(SignatureHeader) != "").
				Msg("rejected a webhook without a valid Twilio signature")
			c.Set(loggedKey, true)
			return hotline.Errorf(hotline.EFORBIDDEN, "The X-Twilio-Signature header is missing or wrong.")
		}
	}
}
