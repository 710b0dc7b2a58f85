package hotline

import (
	"time"

	"github.com/oklog/ulid/v2"
)

// ID identifies a record. It is a ULID: 16 bytes whose order is creation-time order,
// so store keys built from IDs iterate oldest first. The zero ID means "none".
type ID = ulid.ULID

// NewID returns a new ID stamped with t. IDs made in the same millisecond by this
// process still sort in the order they were made.
func NewID(t time.Time) ID {
	return ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy())
}

// ParseID parses the 26-character text form of an ID.
func ParseID(s string) (ID, error) {
	id, err := ulid.ParseStrict(s)
	if err != nil {
		return ID{}, Errorf(EINVALID, "%q is not a valid id.", truncate(s, 40))
	}
	return id, nil
}

// IsZeroID reports whether id is the zero ID ("none").
func IsZeroID(id ID) bool { return id == ID{} }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
