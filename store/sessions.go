package store

import (
	"encoding/json"
	"fmt"

	"github.com/hotlinehq/hotline/hotline"
)

const sessionRecordVersion = 1

// hashLen is the length of a session token hash, the key of a session.
const hashLen = len(hotline.TokenHash{})

// sessionRecord is stored under the session's token hash.
type sessionRecord struct {
	V          int        `json:"v"`
	UserID     hotline.ID `json:"user"`
	CSRFToken  string     `json:"csrf"`
	CreatedAt  int64      `json:"created,omitempty"`
	LastSeenAt int64      `json:"last_seen,omitempty"`
	RemoteAddr string     `json:"remote,omitempty"`
	UserAgent  string     `json:"user_agent,omitempty"`
}

func (r *sessionRecord) version() int { return r.V }

func encodeSession(s hotline.Session) ([]byte, error) {
	return json.Marshal(sessionRecord{
		V: sessionRecordVersion, UserID: s.UserID, CSRFToken: s.CSRFToken,
		CreatedAt: nanos(s.CreatedAt), LastSeenAt: nanos(s.LastSeenAt),
		RemoteAddr: s.RemoteAddr, UserAgent: s.UserAgent,
	})
}

// decodeSession decodes the session stored under key (its token hash).
func decodeSession(key, b []byte) (hotline.Session, error) {
	var r sessionRecord
	if err := unmarshal("session", b, &r, sessionRecordVersion); err != nil {
		return hotline.Session{}, err
	}
	s := hotline.Session{
		UserID: r.UserID, CSRFToken: r.CSRFToken,
		CreatedAt: fromNanos(r.CreatedAt), LastSeenAt: fromNanos(r.LastSeenAt),
		RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent,
	}
	copy(s.TokenHash[:], key)
	return s, nil
}

// userSessionKey is userID ‖ token hash: a user's sessions are one key range.
func userSessionKey(userID hotline.ID, h hotline.TokenHash) []byte { return join(userID[:], h[:]) }

// Session returns the session stored under the token hash, or ENOTFOUND.
func (t *tx) Session(h hotline.TokenHash) (hotline.Session, error) {
	v, err := t.get(bucketSessions, h[:])
	if err != nil {
		return hotline.Session{}, err
	} else if v == nil || h.IsZero() {
		return hotline.Session{}, notFound("No such session.")
	}
	return decodeSession(h[:], v)
}

// Sessions calls fn for each session, in token-hash order.
func (t *tx) Sessions(fn func(hotline.Session) error) error {
	return t.scan(bucketSessions, nil, hotline.ID{}, func(k, v []byte) error {
		s, err := decodeSession(k, v)
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// UserSessions calls fn for each session of the user.
func (t *tx) UserSessions(userID hotline.ID, fn func(hotline.Session) error) error {
	var hashes []hotline.TokenHash
	err := t.scan(bucketSessionsByUser, userID[:], hotline.ID{}, func(k, _ []byte) error {
		var h hotline.TokenHash
		copy(h[:], k[idLen:])
		hashes = append(hashes, h)
		return nil
	})
	if err != nil {
		return err
	}
	// Read the sessions after the walk, so that fn may delete them.
	for _, h := range hashes {
		s, err := t.Session(h)
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return stopOK(err)
		}
	}
	return nil
}

// PutSession writes the session and its per-user index entry. Its user must exist.
func (t *tx) PutSession(s hotline.Session) error {
	switch {
	case s.TokenHash.IsZero():
		return hotline.Errorf(hotline.EINVALID, "A session needs a token hash.")
	case hotline.IsZeroID(s.UserID):
		return hotline.Errorf(hotline.EINVALID, "A session needs a user.")
	}
	if _, err := t.User(s.UserID); err != nil {
		return err
	}
	old, err := t.Session(s.TokenHash)
	isNew := hotline.IsNotFound(err)
	if err != nil && !isNew {
		return err
	}
	v, err := encodeSession(s)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketSessions)
	if err != nil {
		return err
	}
	if err := b.Put(s.TokenHash[:], v); err != nil {
		return err
	}
	var oldKey []byte
	if !isNew {
		oldKey = userSessionKey(old.UserID, old.TokenHash)
	}
	return t.updateIndex(bucketSessionsByUser, oldKey, userSessionKey(s.UserID, s.TokenHash), emptyValue)
}

// DeleteSession removes the session and its index entry, or fails with ENOTFOUND.
func (t *tx) DeleteSession(h hotline.TokenHash) error {
	s, err := t.Session(h)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketSessions)
	if err != nil {
		return err
	}
	if err := b.Delete(h[:]); err != nil {
		return err
	}
	return t.updateIndex(bucketSessionsByUser, userSessionKey(s.UserID, s.TokenHash), nil, nil)
}

// sessions checks that every session decodes and belongs to an existing user, and
// that the per-user index and the sessions match both ways. Sessions are named by
// the first bytes of their hash only.
func (c *checker) sessions() error {
	err := c.each(bucketSessions, func(k, v []byte) {
		if len(k) != hashLen {
			c.report("sessions %.8x…: malformed key", k)
			return
		}
		var h hotline.TokenHash
		copy(h[:], k)
		what := "session " + h.Short()
		s, err := decodeSession(k, v)
		if err != nil {
			c.report("%s: %v", what, err)
			return
		}
		if c.t.tx.Bucket(bucketUsers).Get(s.UserID[:]) == nil {
			c.report("%s: user %s does not exist", what, s.UserID)
		}
		c.wantEntry(bucketSessionsByUser, userSessionKey(s.UserID, s.TokenHash), nil, what)
	})
	if err != nil {
		return err
	}
	return c.each(bucketSessionsByUser, func(k, _ []byte) {
		if len(k) != idLen+hashLen {
			c.report("%s %.8x…: malformed key", bucketSessionsByUser, k)
			return
		}
		var h hotline.TokenHash
		copy(h[:], k[idLen:])
		what := fmt.Sprintf("%s %s/%s", bucketSessionsByUser, idFrom(k, 0), h.Short())
		s, err := c.t.Session(h)
		switch {
		case hotline.IsNotFound(err):
			c.report("%s: session does not exist", what)
		case err != nil:
			c.report("%s: %v", what, err)
		case s.UserID != idFrom(k, 0):
			c.report("%s: session belongs to user %s", what, s.UserID)
		}
	})
}
