package console

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// principalKey is where Guard leaves who signed in, in the Echo context.
const principalKey = "hotline.principal"

// Guard returns the middleware that denies by default: a request to any route not in
// public needs a live session (else 401 EUNAUTHORIZED), and one that changes
// something (POST, PUT, PATCH, DELETE) also needs the session's CSRF token in the
// X-CSRF-Token header (else 403 EFORBIDDEN). Install it on the whole server with
// e.Use, so that routes mounted later are guarded too. public lists routes by method
// and Echo path pattern; unknown paths are guarded like any other.
func Guard(d Deps, public []Route) echo.MiddlewareFunc {
	open := make(map[Route]bool, len(public))
	for _, r := range public {
		open[r] = true
	}
	if d.ClientIP == nil {
		d.ClientIP = PeerIP
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if open[Route{c.Request().Method, c.Path()}] {
				return next(c)
			}
			// An API token (Authorization: Bearer) reaches TokenRoutes only, and
			// carries no cookie for a forged request to ride on: no CSRF check.
			if p, ok, err := bearer(c, d.Accounts); ok {
				if err != nil {
					return err
				}
				c.Set(principalKey, p)
				return next(c)
			}
			p, err := authenticate(c, d.Accounts)
			if err != nil {
				if hotline.ErrorCode(err) == hotline.EUNAUTHORIZED {
					clearSessionCookie(c, d.SecureCookies)
				}
				return err
			}
			if changesState(c.Request().Method) && !validCSRF(c, p.Session.CSRFToken) {
				return hotline.Errorf(hotline.EFORBIDDEN,
					"Missing or wrong %s header: send the csrf_token from the sign-in answer (or GET /api/v1/me).", CSRFHeader)
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// authenticate reads the session cookie and asks who it belongs to.
func authenticate(c echo.Context, accounts *hotline.Accounts) (hotline.Principal, error) {
	cookie, err := c.Cookie(CookieName)
	if err != nil || cookie.Value == "" {
		return hotline.Principal{}, hotline.Errorf(hotline.EUNAUTHORIZED, "Sign in first: there is no session, or it has ended.")
	}
	return accounts.Authenticate(c.Request().Context(), cookie.Value)
}

func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// validCSRF compares the request's token with the session's in constant time. The
// header is the way; an HTML form may send the csrf_token field instead.
func validCSRF(c echo.Context, want string) bool {
	got := c.Request().Header.Get(CSRFHeader)
	if got == "" {
		if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt == echo.MIMEApplicationForm {
			got = c.FormValue(csrfField)
		}
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// principal returns who Guard found signed in.
func principal(c echo.Context) (hotline.Principal, bool) {
	p, ok := c.Get(principalKey).(hotline.Principal)
	return p, ok && !hotline.IsZeroID(p.User.ID)
}

// caller returns the signed-in caller of a use case. Without Guard in front, every
// handler refuses: deny by default.
func (a *api) caller(c echo.Context) (hotline.Caller, error) {
	p, ok := principal(c)
	if !ok {
		return hotline.Caller{}, hotline.Errorf(hotline.EUNAUTHORIZED, "Sign in first.")
	}
	return p.Caller(a.ClientIP(c.Request())), nil
}

func setSessionCookie(c echo.Context, token string, secure bool) {
	c.SetCookie(&http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(c echo.Context, secure bool) {
	c.SetCookie(&http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// withRetryAfter adds the Retry-After header to a throttled answer.
func withRetryAfter(c echo.Context, err error) error {
	var rl *hotline.RateLimitError
	if errors.As(err, &rl) {
		secs := int((rl.RetryAfter + 999_999_999) / 1_000_000_000)
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	}
	return err
}
