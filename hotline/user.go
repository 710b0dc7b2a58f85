package hotline

import (
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
	CreatedAt    time.Time
	UpdatedAt    time.Time
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
