package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// The buckets of the coordinators' tools (schema: see migrations): API tokens, the
// settings edited in the console, and the hourly text counters of the dashboard.
var (
	bucketAPITokens    = []byte("api_tokens")
	bucketSettings     = []byte("settings")
	bucketStatsHourly  = []byte("stats_hourly")
	keySettingsTexts   = []byte("texts")
	coordinatorBuckets = [][]byte{bucketAPITokens, bucketSettings, bucketStatsHourly}
)

// Kinds of hourly counter: the last byte of a stats_hourly key.
const (
	hourlyInbound  byte = 'i'
	hourlyOutbound byte = 'o'
)

// createCoordinatorBuckets is the migration that adds the API tokens, settings and
// hourly counter buckets, and fills the hourly counters from the messages already
// stored.
func createCoordinatorBuckets(tx *bolt.Tx) error {
	for _, name := range coordinatorBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	msgs := tx.Bucket(bucketMessages)
	if msgs == nil {
		return nil
	}
	counts := map[string]int64{}
	err := msgs.ForEach(func(k, v []byte) error {
		m, err := decodeMessage(k, v)
		if err != nil {
			return err
		}
		if key := hourlyKey(m); key != nil {
			counts[string(key)]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketStatsHourly)
	for k, n := range counts {
		if err := b.Put([]byte(k), []byte(strconv.FormatInt(n, 10))); err != nil {
			return err
		}
	}
	return nil
}

// hourlyKey is the counter a message adds to: its hour ‖ its kind; nil for notes and
// events, which are not texts.
func hourlyKey(m hotline.Message) []byte {
	var kind byte
	switch m.Direction {
	case hotline.DirectionInbound:
		kind = hourlyInbound
	case hotline.DirectionOutbound:
		kind = hourlyOutbound
	default:
		return nil
	}
	if m.CreatedAt.IsZero() {
		return nil
	}
	return append(timeKey(m.CreatedAt.Truncate(time.Hour)), kind)
}

// countHourly adds a new message to its hour's counter. The counters are statistics:
// a purge does not take them back (they hold no content), and Check only checks
// that they are well formed.
func (t *tx) countHourly(m hotline.Message) error {
	key := hourlyKey(m)
	if key == nil {
		return nil
	}
	b, err := t.bucket(bucketStatsHourly)
	if err != nil {
		return err
	}
	n, err := parseCounter(b.Get(key))
	if err != nil {
		return err
	}
	return b.Put(key, []byte(strconv.FormatInt(n+1, 10)))
}

// HourlyCounts calls fn for each hour in [from, to) with any text, oldest first.
func (t *tx) HourlyCounts(from, to time.Time, fn func(hotline.HourCount) error) error {
	b, err := t.bucket(bucketStatsHourly)
	if err != nil {
		return err
	}
	c := b.Cursor()
	end := timeKey(to)
	var cur hotline.HourCount
	have := false
	for k, v := c.Seek(timeKey(from.Truncate(time.Hour))); k != nil && len(k) == timeLen+1 && bytes.Compare(k[:timeLen], end) < 0; k, v = c.Next() {
		hour := keyTime(k[:timeLen])
		n, err := parseCounter(v)
		if err != nil {
			return err
		}
		if have && !hour.Equal(cur.Hour) {
			if err := fn(cur); err != nil {
				return stopOK(err)
			}
			cur = hotline.HourCount{}
		}
		cur.Hour, have = hour, true
		switch k[timeLen] {
		case hourlyInbound:
			cur.Inbound += int(n)
		case hourlyOutbound:
			cur.Outbound += int(n)
		}
	}
	if have {
		return stopOK(fn(cur))
	}
	return nil
}

// textsRecord holds the automatic texts edited in the console.
type textsRecord struct {
	V     int                   `json:"v"`
	Texts map[string]textRecord `json:"texts"`
}

type textRecord struct {
	Welcome    string `json:"welcome,omitempty"`
	Help       string `json:"help,omitempty"`
	OptOut     string `json:"opt_out,omitempty"`
	OptIn      string `json:"opt_in,omitempty"`
	Closing    string `json:"closing,omitempty"`
	AfterHours string `json:"after_hours,omitempty"`
}

func (r *textsRecord) version() int { return r.V }

const textsRecordVersion = 1

// StoredTexts returns the edited automatic texts, and false when there are none.
func (t *tx) StoredTexts() (map[string]hotline.Texts, bool, error) {
	v, err := t.get(bucketSettings, keySettingsTexts)
	if err != nil || v == nil {
		return nil, false, err
	}
	var r textsRecord
	if err := unmarshal("texts", v, &r, textsRecordVersion); err != nil {
		return nil, false, err
	}
	out := make(map[string]hotline.Texts, len(r.Texts))
	for lang, x := range r.Texts {
		out[lang] = hotline.Texts{Welcome: x.Welcome, Help: x.Help, OptOut: x.OptOut, OptIn: x.OptIn, Closing: x.Closing, AfterHours: x.AfterHours}
	}
	return out, true, nil
}

// PutStoredTexts replaces the edited automatic texts; an empty map deletes them.
func (t *tx) PutStoredTexts(texts map[string]hotline.Texts) error {
	b, err := t.bucket(bucketSettings)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return b.Delete(keySettingsTexts)
	}
	r := textsRecord{V: textsRecordVersion, Texts: make(map[string]textRecord, len(texts))}
	for lang, x := range texts {
		r.Texts[lang] = textRecord{Welcome: x.Welcome, Help: x.Help, OptOut: x.OptOut, OptIn: x.OptIn, Closing: x.Closing, AfterHours: x.AfterHours}
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put(keySettingsTexts, v)
}

// coordinator checks the API tokens (they decode, sit under their hash and belong
// to a user who exists), the settings (they decode) and the hourly counters (well
// formed).
func (c *checker) coordinator() error {
	err := c.each(bucketAPITokens, func(k, v []byte) {
		tok, err := decodeAPIToken(k, v)
		switch {
		case err != nil:
			c.report("api token %x: %v", k[:min(4, len(k))], err)
		case len(k) != len(hotline.TokenHash{}):
			c.report("api token %x: malformed key", k)
		case c.t.tx.Bucket(bucketUsers).Get(tok.UserID[:]) == nil:
			c.report("api token %s: user %s does not exist", tok.ID, tok.UserID)
		}
	})
	if err != nil {
		return err
	}
	if _, _, err := c.t.StoredTexts(); err != nil {
		c.report("settings texts: %v", err)
	}
	if _, _, err := c.t.StoredCloseLists(); err != nil {
		c.report("settings close_lists: %v", err)
	}
	return c.each(bucketStatsHourly, func(k, v []byte) {
		if len(k) != timeLen+1 || (k[timeLen] != hourlyInbound && k[timeLen] != hourlyOutbound) {
			c.report("stats_hourly %x: malformed key", k)
		} else if _, err := parseCounter(v); err != nil {
			c.report("stats_hourly %x: %v", k, err)
		}
	})
}
