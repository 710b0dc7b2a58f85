package hotline

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a user may do in the console.
type Role string

// Roles. Coordinators run the service: they manage users, see every conversation,
// reveal numbers and read the audit log. Responders answer texters.
const (
	RoleResponder   Role = "responder"
	RoleCoordinator Role = "coordinator"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleResponder || r == RoleCoordinator }

// Availability is whether a user takes conversations now.
type Availability string

// Availabilities. A user sets available or away in the console; offline is what a
// user is without a session.
const (
	AvailabilityAvailable Availability = "available"
	AvailabilityAway      Availability = "away"
	AvailabilityOffline   Availability = "offline"
)

// Valid reports whether a is a known availability.
func (a Availability) Valid() bool {
	return a == AvailabilityAvailable || a == AvailabilityAway || a == AvailabilityOffline
}

// User is a person who signs in to the console: a responder or a coordinator.
type User struct {
	ID ID
	// Username is what the user signs in with: lower case, unique.
	Username    string
	DisplayName string
	Role        Role
	// Disabled users cannot sign in, and their sessions end when they are disabled.
	Disabled bool
	// PasswordHash is a PHC string (argon2id); never shown to anyone.
	PasswordHash string
	// TOTPSecret is the base32 secret of the user's second factor; empty without one.
	TOTPSecret string
	// TOTPPending is a secret set up but not yet confirmed with a code.
	TOTPPending string
	// TOTPLastStep is the time step of the last code accepted, so that a code
	// cannot be used twice.
	TOTPLastStep int64
	// Languages the user answers in, such as ["en", "es"].
	Languages []string
	// Capacity is how many conversations the user takes at once.
	Capacity int
	// Phone is the user's own phone, for pages. Only coordinators and the user see it.
	Phone        Address
	Availability Availability
	// LastAssignedAt is when the user was last offered or given a conversation: of
	// two equally busy responders, the one idle longest gets the next.
	LastAssignedAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// IsCoordinator reports whether the user is an enabled coordinator.
func (u User) IsCoordinator() bool { return u.Role == RoleCoordinator && !u.Disabled }

// HasTOTP reports whether the user signs in with a one-time code.
func (u User) HasTOTP() bool { return u.TOTPSecret != "" }

// Actor returns the user as the actor of a conversation event.
func (u User) Actor() Actor { return Actor{ID: u.ID, Coordinator: u.IsCoordinator()} }

// Limits on user fields.
const (
	MinPasswordRunes   = 12
	MaxPasswordRunes   = 256
	MaxUsernameRunes   = 64
	MaxDisplayRunes    = 100
	MaxLanguages       = 20
	MaxCapacity        = 50
	DefaultCapacity    = 3
	maxAuditNameRunes  = 64
	maxUserAgentLength = 256
)

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]*$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// NormalizeUsername returns the form a username is stored and looked up in: trimmed
// and lower case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateUsername checks a normalized username.
func ValidateUsername(s string) error {
	switch {
	case s == "":
		return Errorf(EINVALID, "username: write a username.")
	case utf8.RuneCountInString(s) > MaxUsernameRunes:
		return Errorf(EINVALID, "username: at most %d characters.", MaxUsernameRunes)
	case !usernamePattern.MatchString(s):
		return Errorf(EINVALID, "username: use letters a-z, digits and . _ @ - only, starting with a letter or digit.")
	}
	return nil
}

// ValidatePassword checks a new password against the policy: 12 to 256 characters.
func ValidatePassword(p string) error {
	n := utf8.RuneCountInString(p)
	switch {
	case !utf8.ValidString(p):
		return Errorf(EINVALID, "password: not valid UTF-8.")
	case n < MinPasswordRunes:
		return Errorf(EINVALID, "password: at least %d characters, please (a few words make a good one).", MinPasswordRunes)
	case n > MaxPasswordRunes:
		return Errorf(EINVALID, "password: at most %d characters.", MaxPasswordRunes)
	case strings.TrimSpace(p) == "":
		return Errorf(EINVALID, "password: not only spaces.")
	}
	return nil
}

// validateDisplayName checks a display name.
func validateDisplayName(s string) error {
	switch {
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Errorf(EINVALID, "display_name: no control characters.")
	case utf8.RuneCountInString(s) > MaxDisplayRunes:
		return Errorf(EINVALID, "display_name: at most %d characters.", MaxDisplayRunes)
	}
	return nil
}

// normalizeLanguages lower-cases nothing but the language part, drops duplicates and
// checks each code ("en", "pt-BR").
func normalizeLanguages(langs []string) ([]string, error) {
	if len(langs) > MaxLanguages {
		return nil, Errorf(EINVALID, "languages: at most %d.", MaxLanguages)
	}
	out := make([]string, 0, len(langs))
	for _, l := range langs {
		l = strings.TrimSpace(l)
		if !languagePattern.MatchString(l) {
			return nil, Errorf(EINVALID, "languages: %q is not a language code; write codes like en, es or pt-BR.", truncate(l, 20))
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

func validateCapacity(n int) error {
	if n < 0 || n > MaxCapacity {
		return Errorf(EINVALID, "capacity: between 0 and %d conversations at once.", MaxCapacity)
	}
	return nil
}

// cleanForAudit keeps what a person typed readable in the audit log: printable, and
// at most 64 characters.
func cleanForAudit(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return truncate(s, maxAuditNameRunes)
}

// UserPatch is a change to a user; nil fields stay as they are.
type UserPatch struct {
	DisplayName *string
	Role        *Role
	Languages   *[]string
	Capacity    *int
	Phone       *string // "" removes the phone
	Disabled    *bool
}

// UpdateUser changes a user. Only coordinators and the operator may. Disabling a
// user ends their sessions at once; the last enabled coordinator can be neither
// disabled nor made a responder, so that nobody is locked out of the console.
//
// Errors: EFORBIDDEN; ENOTFOUND; EINVALID naming the field; ECONFLICT for the last
// coordinator.
func (a *Accounts) UpdateUser(ctx context.Context, c Caller, id ID, p UserPatch) (User, error) {
	if err := c.requireCoordinator("change users"); err != nil {
		return User{}, err
	}
	norm, err := a.checkPatch(p)
	if err != nil {
		return User{}, err
	}
	var u User
	var out changes
	err = a.store.Update(ctx, func(tx Tx) error {
		out = nil
		now := a.clock.Now()
		old, err := tx.User(id)
		if err != nil {
			return err
		}
		u = applyPatch(old, norm)
		changed := changedFields(old, u)
		if len(changed) == 0 && u.Disabled == old.Disabled {
			return nil
		}
		if old.IsCoordinator() && !u.IsCoordinator() {
			if err := requireAnotherCoordinator(tx, u.ID); err != nil {
				return err
			}
		}
		if u.Disabled && !old.Disabled {
			if _, err := endSessions(tx, u.ID, TokenHash{}); err != nil {
				return err
			}
		}
		u.UpdatedAt = now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if u.Disabled && !old.Disabled {
			if u, err = a.setPresence(tx, u, AvailabilityOffline, now, &out); err != nil {
				return err
			}
		} else if u.Capacity != old.Capacity || !slices.Equal(u.Languages, old.Languages) {
			out.add(Change{Kind: ChangeUser, UserID: u.ID})
		}
		if len(changed) > 0 {
			e := c.entry(AuditUserUpdate, TargetUser, u.ID.String())
			e.Detail = map[string]string{"username": u.Username, "fields": strings.Join(changed, ",")}
			if u.Role != old.Role {
				e.Detail["role"] = string(u.Role)
			}
			if err := appendAudit(tx, e, now); err != nil {
				return err
			}
		}
		if u.Disabled != old.Disabled {
			action := AuditUserEnable
			if u.Disabled {
				action = AuditUserDisable
			}
			e := c.entry(action, TargetUser, u.ID.String())
			e.Detail = map[string]string{"username": u.Username}
			return appendAudit(tx, e, now)
		}
		return nil
	})
	if err == nil {
		a.publish(out)
	}
	return u, err
}

// DisableUser disables a user and ends their sessions (see UpdateUser).
func (a *Accounts) DisableUser(ctx context.Context, c Caller, id ID) (User, error) {
	return a.UpdateUser(ctx, c, id, UserPatch{Disabled: new(true)})
}

// EnableUser enables a disabled user (see UpdateUser).
func (a *Accounts) EnableUser(ctx context.Context, c Caller, id ID) (User, error) {
	return a.UpdateUser(ctx, c, id, UserPatch{Disabled: new(false)})
}

// checkPatch validates and normalizes the fields a patch sets.
func (a *Accounts) checkPatch(p UserPatch) (UserPatch, error) {
	if p.DisplayName != nil {
		if err := validateDisplayName(*p.DisplayName); err != nil {
			return p, err
		}
		if strings.TrimSpace(*p.DisplayName) == "" {
			return p, Errorf(EINVALID, "display_name: write a name.")
		}
	}
	if p.Role != nil && !p.Role.Valid() {
		return p, Errorf(EINVALID, "role: write responder or coordinator.")
	}
	if p.Languages != nil {
		langs, err := normalizeLanguages(*p.Languages)
		if err != nil {
			return p, err
		}
		p.Languages = &langs
	}
	if p.Capacity != nil {
		if err := validateCapacity(*p.Capacity); err != nil {
			return p, err
		}
	}
	if p.Phone != nil {
		ph, err := a.phone(*p.Phone)
		if err != nil {
			return p, err
		}
		s := string(ph)
		p.Phone = &s
	}
	return p, nil
}

func applyPatch(u User, p UserPatch) User {
	if p.DisplayName != nil {
		u.DisplayName = *p.DisplayName
	}
	if p.Role != nil {
		u.Role = *p.Role
	}
	if p.Languages != nil {
		u.Languages = slices.Clone(*p.Languages)
	}
	if p.Capacity != nil {
		u.Capacity = *p.Capacity
	}
	if p.Phone != nil {
		u.Phone = Address(*p.Phone)
	}
	if p.Disabled != nil {
		u.Disabled = *p.Disabled
	}
	return u
}

// changedFields names the profile fields that differ (not Disabled, audited apart).
func changedFields(old, u User) []string {
	var f []string
	if old.DisplayName != u.DisplayName {
		f = append(f, "display_name")
	}
	if old.Role != u.Role {
		f = append(f, "role")
	}
	if !slices.Equal(old.Languages, u.Languages) {
		f = append(f, "languages")
	}
	if old.Capacity != u.Capacity {
		f = append(f, "capacity")
	}
	if old.Phone != u.Phone {
		f = append(f, "phone")
	}
	return f
}

// requireAnotherCoordinator fails with ECONFLICT unless an enabled coordinator other
// than id exists.
func requireAnotherCoordinator(tx Tx, id ID) error {
	found := false
	err := tx.Users(func(u User) error {
		if u.ID != id && u.IsCoordinator() {
			found = true
			return ErrStop
		}
		return nil
	})
	if err != nil || found {
		return err
	}
	return Errorf(ECONFLICT, "This is the last enabled coordinator: make someone else a coordinator first, so that nobody is locked out.")
}

// ResetPassword sets a user's password and ends their sessions. A coordinator (or
// the operator) may reset anyone's; a user may change their own with the current
// password, and keeps the session they did it from.
//
// Errors: EINVALID for a password that breaks the policy; EUNAUTHORIZED for a wrong
// current password; ERATELIMIT after too many wrong ones; EFORBIDDEN; ENOTFOUND.
func (a *Accounts) ResetPassword(ctx context.Context, c Caller, id ID, password, current string) error {
	self := !IsZeroID(id) && c.User.ID == id
	if !self {
		if err := c.requireCoordinator("reset other users' passwords"); err != nil {
			return err
		}
	}
	target, err := a.User(ctx, c, id)
	if err != nil {
		return err
	}
	if err := a.checkNewPassword(target.Username, password); err != nil {
		return err
	}
	if self {
		if err := a.checkCurrentPassword(target, current, c.RemoteAddr); err != nil {
			return err
		}
	}
	hash, err := a.passwords.Hash(password)
	if err != nil {
		return err
	}
	return a.store.Update(ctx, func(tx Tx) error {
		now := a.clock.Now()
		u, err := tx.User(id)
		if err != nil {
			return err
		}
		u.PasswordHash, u.UpdatedAt = hash, now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		keep := TokenHash{}
		if self {
			keep = c.Session
		}
		ended, err := endSessions(tx, u.ID, keep)
		if err != nil {
			return err
		}
		action := AuditPasswordReset
		if self {
			action = AuditPasswordChange
		}
		e := c.entry(action, TargetUser, u.ID.String())
		e.Detail = map[string]string{"username": u.Username, "sessions_ended": fmt.Sprint(ended)}
		return appendAudit(tx, e, now)
	})
}

// checkCurrentPassword verifies the password a user gives to change their own,
// throttled like a sign-in.
func (a *Accounts) checkCurrentPassword(u User, current, addr string) error {
	wait, done := a.limiter.Begin(u.Username, addr, a.clock.Now())
	if wait > 0 {
		return rateLimited(wait)
	}
	ok, err := a.passwords.Verify(u.PasswordHash, current)
	done(ok && err == nil, a.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(EUNAUTHORIZED, "current_password: that is not your current password.")
	}
	return nil
}

// SetAvailability sets whether the caller takes conversations now.
func (a *Accounts) SetAvailability(ctx context.Context, c Caller, av Availability) (User, error) {
	if !av.Valid() {
		return User{}, Errorf(EINVALID, "status: write available or away.")
	}
	if IsZeroID(c.User.ID) {
		return User{}, Errorf(EFORBIDDEN, "Only a signed-in user has an availability.")
	}
	var u User
	var out changes
	err := a.store.Update(ctx, func(tx Tx) error {
		out = nil
		var err error
		if u, err = tx.User(c.User.ID); err != nil {
			return err
		}
		u, err = a.setPresence(tx, u, av, a.clock.Now(), &out)
		return err
	})
	if err == nil {
		a.publish(out)
	}
	return u, err
}
