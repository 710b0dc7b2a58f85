package store

import (
	"encoding/json"

	"github.com/hotlinehq/hotline/hotline"
)

// keySettingsCloseLists holds, in the settings bucket, the dispositions and tags
// edited in the console.
var keySettingsCloseLists = []byte("close_lists")

const closeListsRecordVersion = 1

// closeListsRecord holds the close dialog's lists edited in the console.
type closeListsRecord struct {
	V            int      `json:"v"`
	Dispositions []string `json:"dispositions"`
	Tags         []string `json:"tags"`
}

func (r *closeListsRecord) version() int { return r.V }

// StoredCloseLists returns the edited dispositions and tags, and false when there
// are none.
func (t *tx) StoredCloseLists() (hotline.CloseLists, bool, error) {
	v, err := t.get(bucketSettings, keySettingsCloseLists)
	if err != nil || v == nil {
		return hotline.CloseLists{}, false, err
	}
	var r closeListsRecord
	if err := unmarshal("close lists", v, &r, closeListsRecordVersion); err != nil {
		return hotline.CloseLists{}, false, err
	}
	return hotline.CloseLists{Dispositions: r.Dispositions, Tags: r.Tags}, true, nil
}

// PutStoredCloseLists replaces the edited dispositions and tags; nil deletes them.
func (t *tx) PutStoredCloseLists(l *hotline.CloseLists) error {
	b, err := t.bucket(bucketSettings)
	if err != nil {
		return err
	}
	if l == nil {
		return b.Delete(keySettingsCloseLists)
	}
	r := closeListsRecord{V: closeListsRecordVersion, Dispositions: l.Dispositions, Tags: l.Tags}
	if r.Dispositions == nil {
		r.Dispositions = []string{}
	}
	if r.Tags == nil {
		r.Tags = []string{}
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put(keySettingsCloseLists, v)
}
