package store

import (
	"strconv"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// Checkpoint returns the time stored under name by PutCheckpoint, and false when
// there is none.
func (t *tx) Checkpoint(name string) (time.Time, bool, error) {
	v, err := t.get(bucketCheckpoints, []byte(name))
	if err != nil || v == nil {
		return time.Time{}, false, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return time.Time{}, false, hotline.Errorf(hotline.EINTERNAL, "store: malformed checkpoint %q", name)
	}
	return fromNanos(n), true, nil
}

// PutCheckpoint stores t under name, replacing what was there.
func (t *tx) PutCheckpoint(name string, at time.Time) error {
	if name == "" {
		return hotline.Errorf(hotline.EINVALID, "A checkpoint needs a name.")
	}
	b, err := t.bucket(bucketCheckpoints)
	if err != nil {
		return err
	}
	return b.Put([]byte(name), []byte(strconv.FormatInt(nanos(at), 10)))
}
