package store

import (
	"encoding/json"

	"github.com/hotlinehq/hotline/hotline"
)

const orphanRecordVersion = 1

// orphanRecord is stored under the MessageSid it reports on, so does not hold it.
type orphanRecord struct {
	V            int            `json:"v"`
	Status       hotline.Status `json:"status"`
	ErrorCode    int            `json:"error_code,omitempty"`
	ErrorMessage string         `json:"error_message,omitempty"`
	DoneAt       string         `json:"done_at,omitempty"`
	ReceivedAt   int64          `json:"received,omitempty"`
}

func (r *orphanRecord) version() int { return r.V }

// maxSIDLen bounds a SID used as a key; Twilio's are 34 characters.
const maxSIDLen = 64

// OrphanStatus returns the status callback kept for the SID, or ENOTFOUND.
func (t *tx) OrphanStatus(sid string) (hotline.OrphanStatus, error) {
	v, err := t.get(bucketOrphanStatuses, []byte(sid))
	if err != nil {
		return hotline.OrphanStatus{}, err
	} else if v == nil || sid == "" {
		return hotline.OrphanStatus{}, notFound("No status callback kept for SID %s.", sid)
	}
	return decodeOrphan([]byte(sid), v)
}

// OrphanStatuses calls fn for each kept status callback, in SID order.
func (t *tx) OrphanStatuses(fn func(hotline.OrphanStatus) error) error {
	return t.scan(bucketOrphanStatuses, nil, hotline.ID{}, func(k, v []byte) error {
		o, err := decodeOrphan(k, v)
		if err != nil {
			return err
		}
		return fn(o)
	})
}

// PutOrphanStatus keeps the status callback under its SID.
func (t *tx) PutOrphanStatus(o hotline.OrphanStatus) error {
	sid := o.Update.SID
	if sid == "" || len(sid) > maxSIDLen {
		return hotline.Errorf(hotline.EINVALID, "A kept status callback needs a SID of 1 to %d bytes.", maxSIDLen)
	}
	v, err := json.Marshal(orphanRecord{
		V: orphanRecordVersion, Status: o.Update.Status, ErrorCode: o.Update.ErrorCode,
		ErrorMessage: o.Update.ErrorMessage, DoneAt: o.Update.DoneAt, ReceivedAt: nanos(o.ReceivedAt),
	})
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketOrphanStatuses)
	if err != nil {
		return err
	}
	return b.Put([]byte(sid), v)
}

// DeleteOrphanStatus forgets the status callback kept for the SID, or fails with
// ENOTFOUND.
func (t *tx) DeleteOrphanStatus(sid string) error {
	b, err := t.bucket(bucketOrphanStatuses)
	if err != nil {
		return err
	}
	if sid == "" || b.Get([]byte(sid)) == nil {
		return notFound("No status callback kept for SID %s.", sid)
	}
	return b.Delete([]byte(sid))
}

// decodeOrphan decodes the record kept under key (the SID).
func decodeOrphan(key, b []byte) (hotline.OrphanStatus, error) {
	var r orphanRecord
	if err := unmarshal("orphan status", b, &r, orphanRecordVersion); err != nil {
		return hotline.OrphanStatus{}, err
	}
	return hotline.OrphanStatus{
		Update: hotline.StatusUpdate{
			SID: string(key), Status: r.Status, ErrorCode: r.ErrorCode,
			ErrorMessage: r.ErrorMessage, DoneAt: r.DoneAt,
		},
		ReceivedAt: fromNanos(r.ReceivedAt),
	}, nil
}
