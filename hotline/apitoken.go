package hotline

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// APIToken lets a coordinator's scripts and the `hotline export|backup --server`
// commands call the read-only coordinator endpoints (the export and the backup) with
// an Authorization: Bearer header instead of a session. Only the SHA-256 of the token
// is stored, like a session's; the token itself is shown once, when it is made. A
// token acts as its user: it stops working when the user is disabled or is no longer
// a coordinator, and when it is revoked or expires.
type APIToken struct {
	ID     ID
	Hash   TokenHash
	UserID ID
	// Name says what the token is for ("nightly export"), for the list.
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // updated at most once a minute
	ExpiresAt  time.Time // zero: never
}

// APITokenPrefix starts every API token, so that a leaked one is recognisable.
const APITokenPrefix = "hlt_"

// Limits on API tokens.
const (
	MaxAPITokenNameRunes = 100
	MaxAPITokens         = 100
	apiTokenTouch        = time.Minute
)

// Audited API token actions.
const (
	AuditAPITokenCreate AuditAction = "api_token_create"
	AuditAPITokenRevoke AuditAction = "api_token_revoke"
)

// TargetAPIToken is the audit target of API token actions.
const TargetAPIToken = "api_token"

// APITokenReadTx reads API tokens (store: api_tokens bucket).
type APITokenReadTx interface {
	// APIToken returns the token stored under the hash, or ENOTFOUND.
	APIToken(h TokenHash) (APIToken, error)
	// APITokens calls fn for each token, in no particular order.
	APITokens(fn func(APIToken) error) error
}

// APITokenTx writes API tokens.
type APITokenTx interface {
	// PutAPIToken writes the token under its hash, replacing what was there.
	PutAPIToken(t APIToken) error
	// DeleteAPIToken deletes the token, or fails with ENOTFOUND.
	DeleteAPIToken(h TokenHash) error
}

// CreateAPIToken makes a token for the calling coordinator and returns it with the
// token text, which is shown this once. ttl bounds its life; zero means it never
// expires. Audited.
//
// Errors: EFORBIDDEN unless a signed-in coordinator; EINVALID for a bad name;
// ECONFLICT past MaxAPITokens.
func (a *Accounts) CreateAPIToken(ctx context.Context, c Caller, name string, ttl time.Duration) (string, APIToken, error) {
	if !c.User.IsCoordinator() {
		return "", APIToken{}, Errorf(EFORBIDDEN, "Only signed-in coordinators can make API tokens.")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxAPITokenNameRunes || !utf8.ValidString(name) {
		return "", APIToken{}, Errorf(EINVALID, "name: between 1 and %d characters, saying what the token is for.", MaxAPITokenNameRunes)
	}
	if ttl < 0 {
		return "", APIToken{}, Errorf(EINVALID, "expires_in_days: 0 (never) or more.")
	}
	raw, err := a.tokens.NewToken()
	if err != nil {
		return "", APIToken{}, err
	}
	token := APITokenPrefix + raw
	var t APIToken
	err = a.store.Update(ctx, func(tx Tx) error {
		n := 0
		if err := tx.APITokens(func(APIToken) error { n++; return nil }); err != nil {
			return err
		}
		if n >= MaxAPITokens {
			return Errorf(ECONFLICT, "There are %d API tokens already: revoke some first.", n)
		}
		now := a.clock.Now()
		t = APIToken{ID: NewID(now), Hash: HashToken(token), UserID: c.User.ID, Name: name, CreatedAt: now}
		if ttl > 0 {
			t.ExpiresAt = now.Add(ttl)
		}
		if err := tx.PutAPIToken(t); err != nil {
			return err
		}
		e := c.entry(AuditAPITokenCreate, TargetAPIToken, t.ID.String())
		e.Detail = map[string]string{"name": cleanForAudit(name)}
		if !t.ExpiresAt.IsZero() {
			e.Detail["expires_at"] = t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return appendAudit(tx, e, now)
	})
	if err != nil {
		return "", APIToken{}, err
	}
	return token, t, nil
}

// ListAPITokens returns every API token (never the token text), oldest first.
// Coordinators and the operator may.
func (a *Accounts) ListAPITokens(ctx context.Context, c Caller) ([]APIToken, error) {
	if err := c.requireCoordinator("list API tokens"); err != nil {
		return nil, err
	}
	var out []APIToken
	err := a.store.View(ctx, func(tx ReadTx) error {
		out = nil
		return tx.APITokens(func(t APIToken) error { out = append(out, t); return nil })
	})
	sortByID(out, func(t APIToken) ID { return t.ID })
	return out, err
}

// RevokeAPIToken deletes a token at once. Audited.
//
// Errors: EFORBIDDEN; ENOTFOUND.
func (a *Accounts) RevokeAPIToken(ctx context.Context, c Caller, id ID) error {
	if err := c.requireCoordinator("revoke API tokens"); err != nil {
		return err
	}
	return a.store.Update(ctx, func(tx Tx) error {
		var found *APIToken
		err := tx.APITokens(func(t APIToken) error {
			if t.ID == id {
				found = &t
				return ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if found == nil {
			return Errorf(ENOTFOUND, "API token %s not found.", id)
		}
		if err := tx.DeleteAPIToken(found.Hash); err != nil {
			return err
		}
		e := c.entry(AuditAPITokenRevoke, TargetAPIToken, id.String())
		e.Detail = map[string]string{"name": cleanForAudit(found.Name)}
		return appendAudit(tx, e, a.clock.Now())
	})
}

// AuthenticateAPIToken returns who a token acts for: an enabled coordinator. The
// principal has no session; callers must limit what it may do (the console allows
// tokens on the export and backup endpoints only).
//
// Errors: EUNAUTHORIZED for an unknown, revoked or expired token, or one whose user
// is disabled or no longer a coordinator (one message for all).
func (a *Accounts) AuthenticateAPIToken(ctx context.Context, token string) (Principal, APIToken, error) {
	refused := Errorf(EUNAUTHORIZED, "The API token is unknown, revoked or expired, or its user may no longer use it.")
	if !strings.HasPrefix(token, APITokenPrefix) || len(token) > 200 {
		return Principal{}, APIToken{}, refused
	}
	h := HashToken(token)
	var t APIToken
	var u User
	now := a.clock.Now()
	err := a.store.View(ctx, func(tx ReadTx) error {
		var err error
		if t, err = tx.APIToken(h); err != nil {
			return err
		}
		u, err = tx.User(t.UserID)
		return err
	})
	switch {
	case IsNotFound(err):
		return Principal{}, APIToken{}, refused
	case err != nil:
		return Principal{}, APIToken{}, err
	case !u.IsCoordinator(), !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return Principal{}, APIToken{}, refused
	}
	if now.Sub(t.LastUsedAt) >= apiTokenTouch {
		err := a.store.Update(ctx, func(tx Tx) error {
			cur, err := tx.APIToken(h)
			if err != nil {
				return err
			}
			cur.LastUsedAt = now
			return tx.PutAPIToken(cur)
		})
		if err != nil && !IsNotFound(err) {
			return Principal{}, APIToken{}, err
		}
		t.LastUsedAt = now
	}
	return Principal{User: u}, t, nil
}

// sortByID sorts s by the IDs key returns: creation order.
func sortByID[T any](s []T, key func(T) ID) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && key(s[j]).Compare(key(s[j-1])) < 0; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
