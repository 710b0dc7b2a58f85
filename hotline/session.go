package hotline

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
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
