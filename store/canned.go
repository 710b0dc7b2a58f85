package store

import (
	"encoding/json"

	"github.com/hotlinehq/hotline/hotline"
)

const cannedRecordVersion = 1

// cannedRecord is stored under the canned response's ID.
type cannedRecord struct {
	V         int        `json:"v"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Language  string     `json:"lang,omitempty"`
	CreatedBy hotline.ID `json:"created_by,omitzero"`
	CreatedAt int64      `json:"created,omitempty"`
	UpdatedAt int64      `json:"updated,omitempty"`
}

func (r *cannedRecord) version() int { return r.V }

func encodeCanned(c hotline.CannedResponse) ([]byte, error) {
	return json.Marshal(cannedRecord{V: cannedRecordVersion, Title: c.Title, Body: c.Body, Language: c.Language,
		CreatedBy: c.CreatedBy, CreatedAt: nanos(c.CreatedAt), UpdatedAt: nanos(c.UpdatedAt)})
}

// decodeCanned decodes the canned response stored under key (its ID).
func decodeCanned(key, b []byte) (hotline.CannedResponse, error) {
	var r cannedRecord
	if err := unmarshal("canned response", b, &r, cannedRecordVersion); err != nil {
		return hotline.CannedResponse{}, err
	}
	return hotline.CannedResponse{ID: idFrom(key, 0), Title: r.Title, Body: r.Body, Language: r.Language,
		CreatedBy: r.CreatedBy, CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt)}, nil
}

// CannedResponse returns the canned response with the ID, or ENOTFOUND.
func (t *tx) CannedResponse(id hotline.ID) (hotline.CannedResponse, error) {
	v, err := t.get(bucketCanned, id[:])
	if err != nil {
		return hotline.CannedResponse{}, err
	} else if v == nil || hotline.IsZeroID(id) {
		return hotline.CannedResponse{}, notFound("Canned response %s not found.", id)
	}
	return decodeCanned(id[:], v)
}

// CannedResponses calls fn for each canned response, oldest first.
func (t *tx) CannedResponses(fn func(hotline.CannedResponse) error) error {
	return t.scan(bucketCanned, nil, hotline.ID{}, func(k, v []byte) error {
		c, err := decodeCanned(k, v)
		if err != nil {
			return err
		}
		return fn(c)
	})
}

// PutCannedResponse writes the canned response under its ID.
func (t *tx) PutCannedResponse(c hotline.CannedResponse) error {
	if hotline.IsZeroID(c.ID) {
		return hotline.Errorf(hotline.EINVALID, "A canned response needs an ID.")
	}
	v, err := encodeCanned(c)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketCanned)
	if err != nil {
		return err
	}
	return b.Put(c.ID[:], v)
}

// DeleteCannedResponse deletes the canned response, or fails with ENOTFOUND.
func (t *tx) DeleteCannedResponse(id hotline.ID) error {
	if _, err := t.CannedResponse(id); err != nil {
		return err
	}
	b, err := t.bucket(bucketCanned)
	if err != nil {
		return err
	}
	return b.Delete(id[:])
}

// canned checks that every canned response decodes under a well-formed key.
func (c *checker) canned() error {
	return c.each(bucketCanned, func(k, v []byte) {
		if len(k) != idLen {
			c.report("%s %x: malformed key", bucketCanned, k)
			return
		}
		if _, err := decodeCanned(k, v); err != nil {
			c.report("canned response %s: %v", idFrom(k, 0), err)
		}
	})
}
