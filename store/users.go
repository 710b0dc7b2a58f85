package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hotlinehq/hotline/hotline"
)

const userRecordVersion = 1

// userRecord is stored under the user's ID.
type userRecord struct {
	V            int                  `json:"v"`
	Username     string               `json:"username"`
	DisplayName  string               `json:"display_name,omitempty"`
	Role         hotline.Role         `json:"role"`
	Disabled     bool                 `json:"disabled,omitempty"`
	PasswordHash string               `json:"password_hash,omitempty"`
	TOTPSecret   string               `json:"totp,omitempty"`
	TOTPPending  string               `json:"totp_pending,omitempty"`
	TOTPLastStep int64                `json:"totp_last_step,omitempty"`
	Languages    []string             `json:"langs,omitempty"`
	Capacity     int                  `json:"capacity,omitempty"`
	Phone        hotline.Address      `json:"phone,omitempty"`
	Availability hotline.Availability `json:"availability,omitempty"`
	LastAssigned int64                `json:"last_assigned,omitempty"`
	CreatedAt    int64                `json:"created,omitempty"`
	UpdatedAt    int64                `json:"updated,omitempty"`
}

func (r *userRecord) version() int { return r.V }

func encodeUser(u hotline.User) ([]byte, error) {
	return json.Marshal(userRecord{
		V: userRecordVersion, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		Disabled: u.Disabled, PasswordHash: u.PasswordHash, TOTPSecret: u.TOTPSecret,
		TOTPPending: u.TOTPPending, TOTPLastStep: u.TOTPLastStep, Languages: u.Languages,
		Capacity: u.Capacity, Phone: u.Phone, Availability: u.Availability, LastAssigned: nanos(u.LastAssignedAt),
		CreatedAt: nanos(u.CreatedAt), UpdatedAt: nanos(u.UpdatedAt),
	})
}

// decodeUser decodes the user stored under key (its ID).
func decodeUser(key, b []byte) (hotline.User, error) {
	var r userRecord
	if err := unmarshal("user", b, &r, userRecordVersion); err != nil {
		return hotline.User{}, err
	}
	return hotline.User{
		ID: idFrom(key, 0), Username: r.Username, DisplayName: r.DisplayName, Role: r.Role,
		Disabled: r.Disabled, PasswordHash: r.PasswordHash, TOTPSecret: r.TOTPSecret,
		TOTPPending: r.TOTPPending, TOTPLastStep: r.TOTPLastStep, Languages: r.Languages,
		Capacity: r.Capacity, Phone: r.Phone, Availability: r.Availability, LastAssignedAt: fromNanos(r.LastAssigned),
		CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt),
	}, nil
}

// usernameKey is the index key of a username: lower case, so that names differing
// only in case cannot both exist.
func usernameKey(username string) []byte { return []byte(strings.ToLower(username)) }

// User returns the user with the ID, or ENOTFOUND.
func (t *tx) User(id hotline.ID) (hotline.User, error) {
	v, err := t.get(bucketUsers, id[:])
	if err != nil {
		return hotline.User{}, err
	} else if v == nil || hotline.IsZeroID(id) {
		return hotline.User{}, notFound("User %s not found.", id)
	}
	return decodeUser(id[:], v)
}

// UserByUsername returns the user with the username, in any case, or ENOTFOUND.
func (t *tx) UserByUsername(username string) (hotline.User, error) {
	missing := notFound("No user with that username.")
	if username == "" {
		return hotline.User{}, missing
	}
	v, err := t.get(bucketUserByUsername, usernameKey(username))
	if err != nil {
		return hotline.User{}, err
	} else if len(v) != idLen {
		return hotline.User{}, missing
	}
	return t.User(idFrom(v, 0))
}

// Users calls fn for each user, oldest first.
func (t *tx) Users(fn func(hotline.User) error) error {
	return t.scan(bucketUsers, nil, hotline.ID{}, func(k, v []byte) error {
		u, err := decodeUser(k, v)
		if err != nil {
			return err
		}
		return fn(u)
	})
}

// PutUser writes the user and moves its username index entry. A username that
// belongs to another user is ECONFLICT.
func (t *tx) PutUser(u hotline.User) error {
	switch {
	case hotline.IsZeroID(u.ID):
		return hotline.Errorf(hotline.EINVALID, "A user needs an ID.")
	case u.Username == "":
		return hotline.Errorf(hotline.EINVALID, "A user needs a username.")
	case !u.Role.Valid():
		return hotline.Errorf(hotline.EINVALID, "%q is not a role.", u.Role)
	}
	old, err := t.User(u.ID)
	isNew := hotline.IsNotFound(err)
	if err != nil && !isNew {
		return err
	}
	key := usernameKey(u.Username)
	if err := t.claim(bucketUserByUsername, key, u.ID[:], "The username "+u.Username+" is taken."); err != nil {
		return err
	}
	v, err := encodeUser(u)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return err
	}
	if err := b.Put(u.ID[:], v); err != nil {
		return err
	}
	var oldKey []byte
	if !isNew {
		oldKey = usernameKey(old.Username)
	}
	return t.updateIndex(bucketUserByUsername, oldKey, key, u.ID[:])
}

// users checks that every user decodes, and that the username index and the users
// match both ways.
func (c *checker) users() error {
	err := c.each(bucketUsers, func(k, v []byte) {
		if len(k) != idLen {
			c.report("users %x: malformed key", k)
			return
		}
		u, err := decodeUser(k, v)
		if err != nil {
			c.report("user %s: %v", idFrom(k, 0), err)
			return
		}
		c.wantEntry(bucketUserByUsername, usernameKey(u.Username), k, "user "+u.ID.String())
	})
	if err != nil {
		return err
	}
	return c.each(bucketUserByUsername, func(k, v []byte) {
		what := fmt.Sprintf("%s %q", bucketUserByUsername, k)
		if len(v) != idLen {
			c.report("%s: malformed value", what)
			return
		}
		u, err := c.t.User(idFrom(v, 0))
		switch {
		case hotline.IsNotFound(err):
			c.report("%s: user %s does not exist", what, idFrom(v, 0))
		case err != nil:
			c.report("%s: %v", what, err)
		case !bytes.Equal(usernameKey(u.Username), k):
			c.report("%s: user %s no longer has this username", what, u.ID)
		}
	})
}
