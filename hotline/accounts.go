package hotline

import (
	"context"
	"sync"
	"time"
)

// PasswordHasher hashes passwords for storage and checks them (package auth:
// argon2id in PHC format).
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash; an unreadable hash is an error.
	Verify(hash, password string) (bool, error)
}

// OneTimeCodes makes and checks the time-based one-time codes of a second factor
// (package auth: RFC 6238).
type OneTimeCodes interface {
	NewSecret() (string, error)
	// Verify checks a code at time at and returns the time step it belongs to, so
	// that a code is not accepted twice.
	Verify(secret, code string, at time.Time) (step int64, ok bool)
	// URL is the otpauth:// URL an authenticator app reads.
	URL(account, secret string) string
}

// TokenSource makes unguessable tokens (package auth: 256 random bits).
type TokenSource interface {
	NewToken() (string, error)
}

// LoginLimiter slows down password guessing (package auth: Throttle). Begin asks
// whether account may be tried from addr now: a refused attempt gets the time to
// wait; an allowed one gets done, to call with the outcome.
type LoginLimiter interface {
	Begin(account, addr string, now time.Time) (wait time.Duration, done func(ok bool, at time.Time))
}

// AccountsDeps are what Accounts runs on. A nil Clock is the system clock; a nil
// Limiter throttles nothing.
type AccountsDeps struct {
	Store     Store
	Clock     Clock
	Passwords PasswordHasher
	Codes     OneTimeCodes
	Tokens    TokenSource
	Limiter   LoginLimiter
}

// AccountsOptions tune Accounts. Zero fields take the defaults.
type AccountsOptions struct {
	Sessions SessionTimeouts
	// RequireTOTPForCoordinators refuses coordinators without a second factor.
	RequireTOTPForCoordinators bool
	// DefaultRegion reads users' phone numbers written without a country code.
	DefaultRegion string
	// MaxSessionsPerUser bounds a user's sessions; a new sign-in ends the oldest
	// beyond it [10].
	MaxSessionsPerUser int
	// DefaultCapacity is the capacity of a new user created without one
	// [DefaultCapacity].
	DefaultCapacity int
}

// Accounts are the console's users, sessions and audit log: signing in and out,
// managing users, and recording who did what. It is safe for concurrent use.
type Accounts struct {
	store     Store
	clock     Clock
	passwords PasswordHasher
	codes     OneTimeCodes
	tokens    TokenSource
	limiter   LoginLimiter
	opts      AccountsOptions

	dummyOnce sync.Once
	dummyHash string

	// router, when set (SetRouter), hears of availability changes (presence.go).
	router *Router
}

// NewAccounts returns the account use cases over deps.
func NewAccounts(deps AccountsDeps, opts AccountsOptions) *Accounts {
	if deps.Clock == nil {
		deps.Clock = SystemClock{}
	}
	if deps.Limiter == nil {
		deps.Limiter = noLimiter{}
	}
	if opts.Sessions.Idle <= 0 {
		opts.Sessions.Idle = DefaultSessionIdle
	}
	if opts.Sessions.Absolute <= 0 {
		opts.Sessions.Absolute = DefaultSessionAbsolute
	}
	if opts.MaxSessionsPerUser <= 0 {
		opts.MaxSessionsPerUser = 10
	}
	if opts.DefaultCapacity <= 0 {
		opts.DefaultCapacity = DefaultCapacity
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "US"
	}
	a := &Accounts{store: deps.Store, clock: deps.Clock, passwords: deps.Passwords, codes: deps.Codes,
		tokens: deps.Tokens, limiter: deps.Limiter, opts: opts}
	// Make the stand-in hash for unknown users now, so that not even the first
	// sign-in with an unknown name takes longer than one with a known name.
	go a.dummy()
	return a
}

// Clock returns the clock the accounts run on.
func (a *Accounts) Clock() Clock { return a.clock }

type noLimiter struct{}

func (noLimiter) Begin(string, string, time.Time) (time.Duration, func(bool, time.Time)) {
	return 0, func(bool, time.Time) {}
}

// NewUser is what CreateUser needs. Capacity nil means AccountsOptions.DefaultCapacity.
type NewUser struct {
	Username    string
	Password    string
	Role        Role
	DisplayName string
	Languages   []string
	Capacity    *int
	Phone       string
}

// CreateUser adds a user. Only coordinators and the operator may.
//
// Errors: EFORBIDDEN; EINVALID naming the field; ECONFLICT when the username is taken.
func (a *Accounts) CreateUser(ctx context.Context, c Caller, n NewUser) (User, error) {
	if err := c.requireCoordinator("add users"); err != nil {
		return User{}, err
	}
	u, err := a.newUser(n)
	if err != nil {
		return User{}, err
	}
	err = a.store.Update(ctx, func(tx Tx) error {
		now := a.clock.Now()
		u.ID, u.CreatedAt, u.UpdatedAt = NewID(now), now, now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		e := c.entry(AuditUserCreate, TargetUser, u.ID.String())
		e.Detail = map[string]string{"username": u.Username, "role": string(u.Role)}
		return appendAudit(tx, e, now)
	})
	return u, err
}

// newUser validates n and hashes its password (outside any transaction: it is slow).
func (a *Accounts) newUser(n NewUser) (User, error) {
	u := User{Username: NormalizeUsername(n.Username), Role: n.Role, DisplayName: n.DisplayName,
		Capacity: a.opts.DefaultCapacity, Availability: AvailabilityOffline}
	if err := ValidateUsername(u.Username); err != nil {
		return User{}, err
	}
	if !u.Role.Valid() {
		return User{}, Errorf(EINVALID, "role: write responder or coordinator.")
	}
	if err := a.checkNewPassword(u.Username, n.Password); err != nil {
		return User{}, err
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	if err := validateDisplayName(u.DisplayName); err != nil {
		return User{}, err
	}
	var err error
	if u.Languages, err = normalizeLanguages(n.Languages); err != nil {
		return User{}, err
	}
	if n.Capacity != nil {
		u.Capacity = *n.Capacity
	}
	if err := validateCapacity(u.Capacity); err != nil {
		return User{}, err
	}
	if u.Phone, err = a.phone(n.Phone); err != nil {
		return User{}, err
	}
	if u.PasswordHash, err = a.passwords.Hash(n.Password); err != nil {
		return User{}, err
	}
	return u, nil
}

func (a *Accounts) checkNewPassword(username, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	if NormalizeUsername(password) == username {
		return Errorf(EINVALID, "password: must not be the username.")
	}
	return nil
}

// phone normalizes a user's phone number; "" means none.
func (a *Accounts) phone(raw string) (Address, error) {
	if raw == "" {
		return "", nil
	}
	p, err := NormalizeAddress(raw, a.opts.DefaultRegion)
	if err != nil {
		return "", Errorf(EINVALID, "phone: %s", ErrorMessage(err))
	}
	return p, nil
}

// Bootstrap creates the first coordinator when there is no user at all, and does
// nothing (false) once any user exists, so that a configured or generated admin
// password is never applied twice.
func (a *Accounts) Bootstrap(ctx context.Context, username, password string) (bool, error) {
	empty, err := a.noUsers(ctx)
	if err != nil || !empty {
		return false, err
	}
	u, err := a.newUser(NewUser{Username: username, Password: password, Role: RoleCoordinator})
	if err != nil {
		return false, Errorf(ErrorCode(err), "The first coordinator (admin.username, admin.password): %s", ErrorMessage(err))
	}
	created := false
	err = a.store.Update(ctx, func(tx Tx) error {
		created = false
		none := true
		if err := tx.Users(func(User) error { none = false; return ErrStop }); err != nil || !none {
			return err
		}
		now := a.clock.Now()
		u.ID, u.CreatedAt, u.UpdatedAt = NewID(now), now, now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		e := OperatorCaller(OperatorBootstrap).entry(AuditUserCreate, TargetUser, u.ID.String())
		e.Detail = map[string]string{"username": u.Username, "role": string(u.Role)}
		created = true
		return appendAudit(tx, e, now)
	})
	return created, err
}

func (a *Accounts) noUsers(ctx context.Context) (bool, error) {
	none := true
	err := a.store.View(ctx, func(tx ReadTx) error {
		return tx.Users(func(User) error { none = false; return ErrStop })
	})
	return none, err
}

// ListUsers returns every user, oldest first. Only coordinators and the operator may.
func (a *Accounts) ListUsers(ctx context.Context, c Caller) ([]User, error) {
	if err := c.requireCoordinator("list users"); err != nil {
		return nil, err
	}
	var users []User
	err := a.store.View(ctx, func(tx ReadTx) error {
		users = nil
		return tx.Users(func(u User) error { users = append(users, u); return nil })
	})
	return users, err
}

// User returns a user: the caller themself, or anyone for a coordinator.
//
// Errors: EFORBIDDEN for a responder asking about someone else; ENOTFOUND.
func (a *Accounts) User(ctx context.Context, c Caller, id ID) (User, error) {
	if c.User.ID != id || IsZeroID(id) {
		if err := c.requireCoordinator("see other users"); err != nil {
			return User{}, err
		}
	}
	var u User
	err := a.store.View(ctx, func(tx ReadTx) error {
		var err error
		u, err = tx.User(id)
		return err
	})
	return u, err
}

// UserByUsername finds a user by name. Only coordinators and the operator may.
func (a *Accounts) UserByUsername(ctx context.Context, c Caller, username string) (User, error) {
	if err := c.requireCoordinator("look up users"); err != nil {
		return User{}, err
	}
	var u User
	err := a.store.View(ctx, func(tx ReadTx) error {
		var err error
		u, err = tx.UserByUsername(NormalizeUsername(username))
		return err
	})
	return u, err
}
