package store

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// tx implements hotline.Tx over one bbolt transaction. Every value it returns is
// decoded into fresh memory: nothing aliases the memory map after the transaction.
type tx struct {
	tx *bolt.Tx
	// keys are the store's keys; nil for a store without a master key.
	keys *keyring
	// newKeys are the data keys this transaction gave to records (crypto.go),
	// cached once it commits; shreds are the data keys to destroy once it has
	// committed (encrypt.go: shredKey).
	newKeys map[keyRef]cipher.AEAD
	shreds  []shred
	// convs and contacts remember what a write transaction decoded (memo); nil
	// until the first decode, and in read-only transactions.
	convs    *memo[hotline.Conversation]
	contacts *memo[hotline.Contact]
	// lastAddress and lastAddressKey are the address index key addressKey
	// computed last (contacts.go).
	lastAddress    hotline.Address
	lastAddressKey []byte
}

// encrypting reports whether the store is being encrypted (encrypt.go): records of
// both forms may be met.
func (t *tx) encrypting() bool { return t.keys != nil && t.keys.encrypting.Load() }

var _ hotline.Tx = (*tx)(nil)

// bucket returns a top-level bucket. Migration 1 creates them all, and Check reports
// any that is missing.
func (t *tx) bucket(name []byte) (*bolt.Bucket, error) {
	if t.tx == nil {
		return nil, hotline.Errorf(hotline.EINTERNAL, "store: transaction used after it ended")
	}
	b := t.tx.Bucket(name)
	if b == nil {
		return nil, hotline.Errorf(hotline.EINTERNAL, "store: bucket %q is missing", name)
	}
	return b, nil
}

// get returns a copy of the value at key in the bucket, or nil when there is none.
func (t *tx) get(name, key []byte) ([]byte, error) {
	b, err := t.bucket(name)
	if err != nil {
		return nil, err
	}
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

// updateIndex moves an index entry from oldKey to newKey (either may be nil, for
// "no entry"), writing value at newKey.
func (t *tx) updateIndex(name, oldKey, newKey, value []byte) error {
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	if oldKey != nil && !bytes.Equal(oldKey, newKey) {
		if err := b.Delete(oldKey); err != nil {
			return err
		}
	}
	if newKey != nil {
		if bytes.Equal(oldKey, newKey) {
			if v := b.Get(newKey); v != nil && bytes.Equal(v, value) {
				return nil // unchanged: do not dirty the page
			}
		}
		return b.Put(newKey, value)
	}
	return nil
}

// count adds delta to one of the record counters kept in the meta bucket (see Stats).
func (t *tx) count(name []byte, delta int64) error {
	b, err := t.bucket(bucketMeta)
	if err != nil {
		return err
	}
	key := counterKey(name)
	n, err := parseCounter(b.Get(key))
	if err != nil {
		return err
	}
	return b.Put(key, []byte(strconv.FormatInt(n+delta, 10)))
}

func counterKey(bucket []byte) []byte { return []byte(keyCountPrefix + string(bucket)) }

func parseCounter(v []byte) (int64, error) {
	if v == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, hotline.Errorf(hotline.EINTERNAL, "store: malformed counter %q", v)
	}
	return n, nil
}

// scan calls fn for each key with the prefix, starting after prefix‖after (or at the
// prefix when after is zero). In a write transaction fn may change the bucket: the
// cursor seeks again after each call instead of trusting a cursor across writes.
func (t *tx) scan(name, prefix []byte, after hotline.ID, fn func(k, v []byte) error) error {
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	c := b.Cursor()
	k, v := seekAfter(c, prefix, after)
	for hasPrefix(k, prefix) {
		last := bytes.Clone(k)
		if err := fn(k, v); err != nil {
			return stopOK(err)
		}
		if t.tx.Writable() {
			c = b.Cursor()
			if k, v = c.Seek(last); k != nil && bytes.Equal(k, last) {
				k, v = c.Next()
			}
		} else {
			k, v = c.Next()
		}
	}
	return nil
}

// stopOK turns hotline.ErrStop, which ends an iteration early, into success.
func stopOK(err error) error {
	if errors.Is(err, hotline.ErrStop) {
		return nil
	}
	return err
}

func notFound(format string, args ...any) error {
	return hotline.Errorf(hotline.ENOTFOUND, format, args...)
}

// memoSize is how many decoded records of a kind a write transaction remembers.
const memoSize = 4

// memo remembers the last records of one kind a write transaction decoded, each
// with the bytes it was decoded from, so that reading a record again while its bytes
// are unchanged does not decode (and, encrypted, open) it again: an inbound text
// reads its conversation three times (the latest conversation, the assignment
// check, PutConversation's old index keys) and its contact twice. A record whose
// bytes changed in between, by whatever path, is decoded afresh. The values are
// kept private (copied in and out by clone), so a caller that changes what it got
// cannot change what the next caller gets.
type memo[T any] struct {
	entries [memoSize]memoEntry[T]
	next    int
}

type memoEntry[T any] struct {
	id  hotline.ID
	raw []byte // nil: an empty slot
	v   T
}

// get returns a copy of the value decoded from raw under the ID, if remembered.
func (m *memo[T]) get(id hotline.ID, raw []byte, clone func(T) T) (T, bool) {
	for i := range m.entries {
		if e := &m.entries[i]; e.raw != nil && e.id == id && bytes.Equal(e.raw, raw) {
			return clone(e.v), true
		}
	}
	var zero T
	return zero, false
}

// put remembers v, decoded from raw under the ID; raw must not change afterwards.
func (m *memo[T]) put(id hotline.ID, raw []byte, v T, clone func(T) T) {
	for i := range m.entries {
		if m.entries[i].raw != nil && m.entries[i].id == id {
			m.entries[i] = memoEntry[T]{id: id, raw: raw, v: clone(v)}
			return
		}
	}
	m.entries[m.next] = memoEntry[T]{id: id, raw: raw, v: clone(v)}
	m.next = (m.next + 1) % memoSize
}
