package webhooks

import (
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Keys under which the middleware leaves what it learned in the Echo context.
const (
	formKey   = "webhooks.form"   // url.Values: the parsed body
	loggedKey = "webhooks.logged" // bool: the rejection was logged already
)

// readForm is the middleware that runs before anything else on a webhook route.
// It accepts only an application/x-www-form-urlencoded body of at most maxBytes,
// well formed, in UTF-8, with each parameter for which single reports true sent at
// most once, and leaves the parameters in the context for the signature check and
// the handler. Anything else is rejected before the signature is checked.
func readForm(maxBytes int64, single func(name string) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			f, err := parseForm(r.Header.Get(echo.HeaderContentType), r.ContentLength, r.Body, maxBytes, single)
			if err != nil {
				return err
			}
			r.PostForm = f // so that nothing else parses the body again
			c.Set(formKey, f)
			return next(c)
		}
	}
}

// formOf returns the parameters readForm parsed, or none.
func formOf(c echo.Context) url.Values {
	f, _ := c.Get(formKey).(url.Values)
	return f
}

// parseForm reads and checks a webhook body. We answer a wrong Content-Type with 400
// (EINVALID), not 415: the hotline's error table has no code for 415, and to Twilio
// both mean "this endpoint refused the request". contentLength is only used to
// refuse early; the body is read through a limit whatever it claims.
func parseForm(contentType string, contentLength int64, body io.Reader, maxBytes int64, single func(string) bool) (url.Values, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, hotline.Errorf(hotline.EINVALID, "Content-Type must be %s.", echo.MIMEApplicationForm)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, hotline.Errorf(hotline.EINVALID, "The form must be in UTF-8.")
	}
	tooLarge := hotline.Errorf(hotline.ETOOLARGE, "The request body is larger than %d bytes.", maxBytes)
	if contentLength > maxBytes {
		return nil, tooLarge
	}
	if body == nil {
		body = strings.NewReader("")
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxBytes+1))
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "The request body could not be read.")
	} else if int64(len(raw)) > maxBytes {
		return nil, tooLarge
	}
	f, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "The request body is not a valid form.")
	}
	for name, values := range f {
		if !utf8.ValidString(name) {
			return nil, hotline.Errorf(hotline.EINVALID, "A parameter name is not valid UTF-8.")
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return nil, hotline.Errorf(hotline.EINVALID, "Parameter %s is not valid UTF-8.", quoteName(name))
			}
		}
		if len(values) > 1 && single != nil && single(name) {
			return nil, hotline.Errorf(hotline.EINVALID, "Parameter %s appears more than once.", quoteName(name))
		}
	}
	return f, nil
}

// quoteName quotes a parameter name for an error message, shortened so that a
// hostile name cannot fill the answer.
func quoteName(name string) string {
	if utf8.RuneCountInString(name) > 40 {
		name = string([]rune(name)[:40]) + "…"
	}
	return strconv.Quote(name)
}

// fieldSet returns a predicate for readForm: true for the names given and for the
// numbered parameters (prefix followed by digits, like MediaUrl0) of the prefixes.
func fieldSet(names []string, numberedPrefixes ...string) func(string) bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return func(name string) bool {
		if set[name] {
			return true
		}
		for _, p := range numberedPrefixes {
			if _, ok := numbered(name, p); ok {
				return true
			}
		}
		return false
	}
}

// numbered reports whether name is prefix followed by a decimal index written the
// way Twilio writes it (no sign, no leading zero), and which.
func numbered(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" || len(rest) > 4 || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(rest)
	return n, true
}

// intField parses an optional non-negative integer parameter; def when absent.
func intField(f url.Values, name string, def int) (int, error) {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, hotline.Errorf(hotline.EINVALID, "%s must be a non-negative whole number.", name)
	}
	return n, nil
}

// checkAccount enforces Config.AccountSID: when it is set, a request for another
// account (or none) is refused with 403.
func checkAccount(want string, f url.Values) error {
	if want != "" && f.Get("AccountSid") != want {
		return hotline.Errorf(hotline.EFORBIDDEN, "AccountSid does not match this hotline's Twilio account.")
	}
	return nil
}
