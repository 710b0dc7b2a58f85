package hotline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
	"unicode/utf8"
)

// TokenHash is the SHA-256 of a session token. Only the hash is stored, so a copy of
// the database (a backup) holds no token that signs anybody in.
type TokenHash [sha256.Size]byte

// HashToken returns the hash a session token is stored under.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// IsZero reports whether h is the zero hash ("no session").
func (h TokenHash) IsZero() bool { return h == TokenHash{} }

// Short returns the first bytes of the hash in hex: enough to tell sessions apart in
// a log or an audit entry, useless to sign in with.
func (h TokenHash) Short() string { return hex.EncodeToString(h[:4]) }

// Session is a signed-in console. The token itself is given to the browser once, in a
// cookie, and never stored.
type Session struct {
	TokenHash TokenHash
	UserID    ID
	// CSRFToken must come back in the X-CSRF-Token header of every request that
	// changes something.
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	RemoteAddr string
	UserAgent  string
}

// SessionTimeouts bound how long a session lives.
type SessionTimeouts struct {
	// Idle ends a session this long after its last request.
	Idle time.Duration
	// Absolute ends a session this long after sign-in, active or not.
	Absolute time.Duration
}

// Default session timeouts.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
	// sessionTouchInterval is how stale LastSeenAt may get before a request writes
	// it: a minute, so that a busy console does not write on every request.
	sessionTouchInterval = time.Minute
)

// Expired reports whether the session has ended at now: idle for longer than
// t.Idle, or older than t.Absolute.
func (s Session) Expired(now time.Time, t SessionTimeouts) bool {
	return now.Sub(s.LastSeenAt) >= t.Idle || now.Sub(s.CreatedAt) >= t.Absolute
}

// needsTouch reports whether a request at now should record itself in LastSeenAt.
func (s Session) needsTouch(now time.Time) bool {
	return now.Sub(s.LastSeenAt) >= sessionTouchInterval
}

// LoginRequest is a sign-in attempt.
type LoginRequest struct {
	Username   string
	Password   string
	TOTP       string // the one-time code, for users with a second factor
	RemoteAddr string
	UserAgent  string
}

// LoginResult is a new session. Token goes to the browser once and is never stored.
type LoginResult struct {
	Token   string
	Session Session
	User    User
}

// Principal is who a session token belongs to.
type Principal struct {
	User    User
	Session Session
}

// Caller returns the principal as the caller of a use case from addr.
func (p Principal) Caller(addr string) Caller {
	return Caller{User: p.User, Session: p.Session.TokenHash, RemoteAddr: addr}
}

// RateLimitError is an ERATELIMIT error that says when to try again.
type RateLimitError struct {
	RetryAfter time.Duration
	err        *Error
}

// Error implements the error interface.
func (e *RateLimitError) Error() string { return e.err.Error() }

// Unwrap returns the domain error, so that ErrorCode finds ERATELIMIT.
func (e *RateLimitError) Unwrap() error { return e.err }

func rateLimited(wait time.Duration) error {
	return &RateLimitError{RetryAfter: wait, err: Errorf(ERATELIMIT,
		"Too many failed attempts: wait %s, then try again.", wait.Round(time.Second))}
}

// errLogin is the one answer to a failed sign-in, whatever failed: it never tells
// whether the user exists.
func errLogin() error { return Errorf(EUNAUTHORIZED, "Wrong username, password or code.") }

// Login checks a username, password and (for users with a second factor) a one-time
// code, and starts a new session. The password is hashed even for an unknown user,
// so that timing does not tell who exists. Attempts are throttled per account and
// client address (ERATELIMIT, with a RateLimitError saying how long to wait); every
// attempt that is checked goes to the audit log.
//
// Errors: EUNAUTHORIZED ("Wrong username, password or code."); ERATELIMIT;
// EFORBIDDEN for a coordinator without a second factor when one is required.
func (a *Accounts) Login(ctx context.Context, r LoginRequest) (LoginResult, error) {
	name := NormalizeUsername(r.Username)
	if utf8.RuneCountInString(name) > MaxUsernameRunes || utf8.RuneCountInString(r.Password) > MaxPasswordRunes {
		return LoginResult{}, errLogin()
	}
	wait, done := a.limiter.Begin(name, r.RemoteAddr, a.clock.Now())
	if wait > 0 {
		return LoginResult{}, rateLimited(wait)
	}
	res, reason, err := a.login(ctx, name, r)
	done(err == nil || reason == "totp_not_set_up", a.clock.Now())
	if reason == "" {
		return res, err
	}
	e := AuditEntry{ActorID: res.User.ID, ActorUsername: cleanForAudit(r.Username), Action: AuditLoginFailed,
		RemoteAddr: r.RemoteAddr, Detail: map[string]string{"reason": reason}}
	if err := a.Audit(ctx, e); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{}, err
}

// login does the checks of Login. A failed attempt returns the reason for the audit
// log and the error for the caller; the result then holds the user, if known.
func (a *Accounts) login(ctx context.Context, name string, r LoginRequest) (LoginResult, string, error) {
	var u User
	err := a.store.View(ctx, func(tx ReadTx) error {
		var err error
		u, err = tx.UserByUsername(name)
		return err
	})
	if IsNotFound(err) || name == "" {
		_, _ = a.passwords.Verify(a.dummy(), r.Password)
		return LoginResult{}, "unknown_user", errLogin()
	} else if err != nil {
		return LoginResult{}, "", err
	}
	res := LoginResult{User: User{ID: u.ID}}
	ok, err := a.passwords.Verify(u.PasswordHash, r.Password)
	switch {
	case err != nil:
		return LoginResult{}, "", err
	case !ok:
		return res, "wrong_password", errLogin()
	case u.Disabled:
		return res, "disabled", errLogin()
	case u.Role == RoleCoordinator && a.opts.RequireTOTPForCoordinators && !u.HasTOTP():
		return res, "totp_not_set_up", Errorf(EFORBIDDEN, "Coordinators must sign in with a one-time code, and this account has none yet: "+
			"ask the operator to run `hotline user totp %s` on the server and add the code to an authenticator app.", u.Username)
	}
	var step int64
	if u.HasTOTP() {
		if step, ok = a.codes.Verify(u.TOTPSecret, r.TOTP, a.clock.Now()); !ok || step <= u.TOTPLastStep {
			return res, "wrong_code", errLogin()
		}
	}
	res, err = a.startSession(ctx, u, step, r)
	if ErrorCode(err) == EUNAUTHORIZED {
		return res, "changed_meanwhile", err
	}
	return res, "", err
}

// startSession records a sign-in: a new session (the oldest of the user's beyond the
// limit end), the code's time step, and the audit entry.
func (a *Accounts) startSession(ctx context.Context, checked User, step int64, r LoginRequest) (LoginResult, error) {
	token, err := a.tokens.NewToken()
	if err != nil {
		return LoginResult{}, err
	}
	csrf, err := a.tokens.NewToken()
	if err != nil {
		return LoginResult{}, err
	}
	var res LoginResult
	err = a.store.Update(ctx, func(tx Tx) error {
		now := a.clock.Now()
		u, err := tx.User(checked.ID)
		if err != nil {
			return err
		}
		if u.Disabled || u.PasswordHash != checked.PasswordHash || (step > 0 && step <= u.TOTPLastStep) {
			return errLogin() // changed since the password was checked
		}
		if step > 0 {
			u.TOTPLastStep = step
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		if err := a.makeRoom(tx, u.ID, now); err != nil {
			return err
		}
		s := Session{TokenHash: HashToken(token), UserID: u.ID, CSRFToken: csrf, CreatedAt: now, LastSeenAt: now,
			RemoteAddr: r.RemoteAddr, UserAgent: truncate(r.UserAgent, maxUserAgentLength)}
		if err := tx.PutSession(s); err != nil {
			return err
		}
		e := Caller{User: u, RemoteAddr: r.RemoteAddr}.entry(AuditLogin, TargetSession, s.TokenHash.Short())
		res = LoginResult{Token: token, Session: s, User: u}
		return appendAudit(tx, e, now)
	})
	return res, err
}

// makeRoom ends the user's expired sessions, and the oldest ones beyond
// MaxSessionsPerUser-1, before a new one starts.
func (a *Accounts) makeRoom(tx Tx, userID ID, now time.Time) error {
	var live []Session
	err := tx.UserSessions(userID, func(s Session) error {
		if s.Expired(now, a.opts.Sessions) {
			return tx.DeleteSession(s.TokenHash)
		}
		live = append(live, s)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(live, func(x, y Session) int { return x.CreatedAt.Compare(y.CreatedAt) })
	for len(live) >= a.opts.MaxSessionsPerUser {
		if err := tx.DeleteSession(live[0].TokenHash); err != nil {
			return err
		}
		live = live[1:]
	}
	return nil
}

// dummy is a password hash to check against when the user does not exist.
func (a *Accounts) dummy() string {
	a.dummyOnce.Do(func() {
		token, err := a.tokens.NewToken()
		if err == nil {
			a.dummyHash, _ = a.passwords.Hash(token)
		}
	})
	return a.dummyHash
}

// Authenticate returns who a session token belongs to. A session idle for longer
// than the idle timeout, older than the absolute timeout, unknown, or of a disabled
// user is EUNAUTHORIZED. It records the request in LastSeenAt at most about once a
// minute, not on every request.
func (a *Accounts) Authenticate(ctx context.Context, token string) (Principal, error) {
	ended := Errorf(EUNAUTHORIZED, "Sign in first: there is no session, or it has ended.")
	if token == "" || len(token) > 256 {
		return Principal{}, ended
	}
	h := HashToken(token)
	var p Principal
	err := a.store.View(ctx, func(tx ReadTx) error {
		s, err := tx.Session(h)
		if err != nil {
			return err
		}
		u, err := tx.User(s.UserID)
		p = Principal{User: u, Session: s}
		return err
	})
	if IsNotFound(err) {
		return Principal{}, ended
	} else if err != nil {
		return Principal{}, err
	}
	now := a.clock.Now()
	switch {
	case p.Session.Expired(now, a.opts.Sessions):
		var out changes
		err := a.store.Update(ctx, func(tx Tx) error {
			out = nil
			if err := tx.DeleteSession(h); err != nil && !IsNotFound(err) {
				return err
			}
			return a.offlineWithoutSession(tx, p.User.ID, now, &out)
		})
		if err != nil {
			return Principal{}, err
		}
		a.publish(out)
		return Principal{}, ended
	case p.User.Disabled:
		return Principal{}, ended
	case p.Session.needsTouch(now):
		err := a.store.Update(ctx, func(tx Tx) error {
			s, err := tx.Session(h)
			if err != nil {
				return err
			}
			s.LastSeenAt = now
			p.Session = s
			return tx.PutSession(s)
		})
		if IsNotFound(err) {
			return Principal{}, ended
		} else if err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}

// Logout ends the caller's session. A user left without a session is offline.
func (a *Accounts) Logout(ctx context.Context, c Caller) error {
	if c.Session.IsZero() {
		return Errorf(EUNAUTHORIZED, "Sign in first.")
	}
	var out changes
	err := a.store.Update(ctx, func(tx Tx) error {
		out = nil
		now := a.clock.Now()
		if err := tx.DeleteSession(c.Session); IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := a.offlineWithoutSession(tx, c.User.ID, now, &out); err != nil {
			return err
		}
		return appendAudit(tx, c.entry(AuditLogout, TargetSession, c.Session.Short()), now)
	})
	if err == nil {
		a.publish(out)
	}
	return err
}

// endSessions ends every session of the user but keep, and says how many it ended.
func endSessions(tx Tx, userID ID, keep TokenHash) (int, error) {
	n := 0
	err := tx.UserSessions(userID, func(s Session) error {
		if s.TokenHash == keep {
			return nil
		}
		n++
		return tx.DeleteSession(s.TokenHash)
	})
	return n, err
}

// PruneSessions deletes the sessions that have expired, and says how many. The
// server runs it now and then; Authenticate refuses expired sessions either way.
func (a *Accounts) PruneSessions(ctx context.Context) (int, error) {
	now := a.clock.Now()
	var expired []TokenHash
	err := a.store.View(ctx, func(tx ReadTx) error {
		expired = nil
		return tx.Sessions(func(s Session) error {
			if s.Expired(now, a.opts.Sessions) {
				expired = append(expired, s.TokenHash)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for chunk := range slices.Chunk(expired, 500) {
		err := a.store.Update(ctx, func(tx Tx) error {
			for _, h := range chunk {
				if err := tx.DeleteSession(h); err != nil && !IsNotFound(err) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	if _, err := a.SweepPresence(ctx); err != nil {
		return len(expired), err
	}
	return len(expired), nil
}

// TOTPSetup is a new second factor: the secret and the otpauth:// URL to put in an
// authenticator app. It is shown once.
type TOTPSetup struct {
	Secret string
	URL    string
}

// SetupTOTP gives a user a new second-factor secret. For the user themself it waits
// for ConfirmTOTP with a code from the app before it counts; the operator's (`hotline
// user totp`) counts at once, replacing any other. Nobody else may: the secret is
// the user's alone.
func (a *Accounts) SetupTOTP(ctx context.Context, c Caller, id ID) (TOTPSetup, error) {
	self := !IsZeroID(id) && c.User.ID == id
	if !self && !c.isOperator() {
		return TOTPSetup{}, Errorf(EFORBIDDEN, "Only the user themself, or the operator with `hotline user totp`, can set up a one-time code.")
	}
	secret, err := a.codes.NewSecret()
	if err != nil {
		return TOTPSetup{}, err
	}
	var setup TOTPSetup
	err = a.store.Update(ctx, func(tx Tx) error {
		now := a.clock.Now()
		u, err := tx.User(id)
		if err != nil {
			return err
		}
		action := AuditTOTPSetup
		if self {
			u.TOTPPending = secret
		} else {
			u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, action = secret, "", 0, AuditTOTPEnable
		}
		u.UpdatedAt = now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		setup = TOTPSetup{Secret: secret, URL: a.codes.URL(u.Username, secret)}
		e := c.entry(action, TargetUser, u.ID.String())
		e.Detail = map[string]string{"username": u.Username}
		return appendAudit(tx, e, now)
	})
	return setup, err
}

// ConfirmTOTP turns on the second factor the caller set up, once they prove it
// works with a code.
//
// Errors: ECONFLICT when nothing is set up; EINVALID for a wrong code.
func (a *Accounts) ConfirmTOTP(ctx context.Context, c Caller, code string) error {
	if IsZeroID(c.User.ID) {
		return Errorf(EFORBIDDEN, "Sign in first.")
	}
	return a.store.Update(ctx, func(tx Tx) error {
		now := a.clock.Now()
		u, err := tx.User(c.User.ID)
		if err != nil {
			return err
		}
		if u.TOTPPending == "" {
			return Errorf(ECONFLICT, "Set up a one-time code first.")
		}
		step, ok := a.codes.Verify(u.TOTPPending, code, now)
		if !ok {
			return Errorf(EINVALID, "code: that code is not right; check the time on your phone and try again.")
		}
		u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.UpdatedAt = u.TOTPPending, "", step, now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		e := c.entry(AuditTOTPEnable, TargetUser, u.ID.String())
		e.Detail = map[string]string{"username": u.Username}
		return appendAudit(tx, e, now)
	})
}

// DisableTOTP removes a user's second factor (a lost phone). Only coordinators and
// the operator may.
func (a *Accounts) DisableTOTP(ctx context.Context, c Caller, id ID) error {
	if err := c.requireCoordinator("remove a one-time code"); err != nil {
		return err
	}
	return a.store.Update(ctx, func(tx Tx) error {
		now := a.clock.Now()
		u, err := tx.User(id)
		if err != nil {
			return err
		}
		u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.UpdatedAt = "", "", 0, now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		e := c.entry(AuditTOTPDisable, TargetUser, u.ID.String())
		e.Detail = map[string]string{"username": u.Username}
		return appendAudit(tx, e, now)
	})
}
