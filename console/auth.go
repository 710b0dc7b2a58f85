package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

type sessionAnswer struct {
	CSRFToken string   `json:"csrf_token"`
	User      userView `json:"user"`
}

// login: POST /api/v1/login {"username","password","totp"?} → 200
// {"csrf_token","user"} and the session cookie; a new session on every sign-in.
func (a *api) login(c echo.Context) error {
	var req loginRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	res, err := a.Accounts.Login(c.Request().Context(), hotline.LoginRequest{Username: req.Username, Password: req.Password,
		TOTP: req.TOTP, RemoteAddr: a.ClientIP(c.Request()), UserAgent: c.Request().UserAgent()})
	if err != nil {
		return withRetryAfter(c, err)
	}
	setSessionCookie(c, res.Token, a.SecureCookies)
	return render(c, http.StatusOK, sessionAnswer{CSRFToken: res.Session.CSRFToken, User: viewUser(res.User, res.User)})
}

// logout: POST /api/v1/logout → 200 {"user"}; the session ends at once.
func (a *api) logout(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if err := a.Accounts.Logout(c.Request().Context(), caller); err != nil {
		return err
	}
	clearSessionCookie(c, a.SecureCookies)
	return render(c, http.StatusOK, map[string]any{"user": viewUser(caller.User, caller.User)})
}

// me: GET /api/v1/me → {"user","csrf_token"}.
func (a *api) me(c echo.Context) error {
	p, ok := principal(c)
	if !ok {
		return hotline.Errorf(hotline.EUNAUTHORIZED, "Sign in first.")
	}
	return render(c, http.StatusOK, sessionAnswer{CSRFToken: p.Session.CSRFToken, User: viewUser(p.User, p.User)})
}

type availabilityRequest struct {
	Status string `json:"status"`
}

// setAvailability: PUT /api/v1/me/availability {"status":"available"|"away"} → {"user"}.
func (a *api) setAvailability(c echo.Context) error {
	var req availabilityRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	av := hotline.Availability(req.Status)
	if av != hotline.AvailabilityAvailable && av != hotline.AvailabilityAway {
		return hotline.Errorf(hotline.EINVALID, "status: write available or away.")
	}
	u, err := a.Accounts.SetAvailability(c.Request().Context(), caller, av)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"user": viewUser(u, u)})
}

// setupTOTP: POST /api/v1/me/totp → {"secret","url"}: a new second factor, on once
// confirmed.
func (a *api) setupTOTP(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	s, err := a.Accounts.SetupTOTP(c.Request().Context(), caller, caller.User.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]string{"secret": s.Secret, "url": s.URL})
}

type confirmTOTPRequest struct {
	Code string `json:"code"`
}

// confirmTOTP: POST /api/v1/me/totp/confirm {"code"} → {"user"}.
func (a *api) confirmTOTP(c echo.Context) error {
	var req confirmTOTPRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if err := a.Accounts.ConfirmTOTP(c.Request().Context(), caller, req.Code); err != nil {
		return err
	}
	u, err := a.Accounts.User(c.Request().Context(), caller, caller.User.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"user": viewUser(u, u)})
}
