package store

import (
	"encoding/json"

	"github.com/hotlinehq/hotline/hotline"
)

const apiTokenRecordVersion = 1

// apiTokenRecord is stored under the SHA-256 of the token; the token itself never is.
type apiTokenRecord struct {
	V          int        `json:"v"`
	ID         hotline.ID `json:"id"`
	UserID     hotline.ID `json:"user"`
	Name       string     `json:"name,omitempty"`
	CreatedAt  int64      `json:"created,omitempty"`
	LastUsedAt int64      `json:"last_used,omitempty"`
	ExpiresAt  int64      `json:"expires,omitempty"`
}

func (r *apiTokenRecord) version() int { return r.V }

func decodeAPIToken(key, b []byte) (hotline.APIToken, error) {
	var r apiTokenRecord
	if err := unmarshal("api token", b, &r, apiTokenRecordVersion); err != nil {
		return hotline.APIToken{}, err
	}
	t := hotline.APIToken{ID: r.ID, UserID: r.UserID, Name: r.Name, CreatedAt: fromNanos(r.CreatedAt),
		LastUsedAt: fromNanos(r.LastUsedAt), ExpiresAt: fromNanos(r.ExpiresAt)}
	copy(t.Hash[:], key)
	return t, nil
}

// APIToken returns the token stored under the hash, or ENOTFOUND.
func (t *tx) APIToken(h hotline.TokenHash) (hotline.APIToken, error) {
	v, err := t.get(bucketAPITokens, h[:])
	if err != nil {
		return hotline.APIToken{}, err
	} else if v == nil {
		return hotline.APIToken{}, notFound("API token not found.")
	}
	return decodeAPIToken(h[:], v)
}

// APITokens calls fn for each token, in hash order.
func (t *tx) APITokens(fn func(hotline.APIToken) error) error {
	return t.scan(bucketAPITokens, nil, hotline.ID{}, func(k, v []byte) error {
		tok, err := decodeAPIToken(k, v)
		if err != nil {
			return err
		}
		return fn(tok)
	})
}

// PutAPIToken writes the token under its hash.
func (t *tx) PutAPIToken(tok hotline.APIToken) error {
	switch {
	case tok.Hash.IsZero():
		return hotline.Errorf(hotline.EINVALID, "An API token needs a hash.")
	case hotline.IsZeroID(tok.ID), hotline.IsZeroID(tok.UserID):
		return hotline.Errorf(hotline.EINVALID, "An API token needs an ID and a user.")
	}
	v, err := json.Marshal(apiTokenRecord{V: apiTokenRecordVersion, ID: tok.ID, UserID: tok.UserID, Name: tok.Name,
		CreatedAt: nanos(tok.CreatedAt), LastUsedAt: nanos(tok.LastUsedAt), ExpiresAt: nanos(tok.ExpiresAt)})
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketAPITokens)
	if err != nil {
		return err
	}
	return b.Put(tok.Hash[:], v)
}

// DeleteAPIToken deletes the token, or fails with ENOTFOUND.
func (t *tx) DeleteAPIToken(h hotline.TokenHash) error {
	b, err := t.bucket(bucketAPITokens)
	if err != nil {
		return err
	}
	if b.Get(h[:]) == nil {
		return notFound("API token not found.")
	}
	return b.Delete(h[:])
}
