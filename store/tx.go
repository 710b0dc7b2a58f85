package store

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"strconv"
	"sync"

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
	// cache is the store's cache of decoded records, and gen its generation when
	// this transaction began (recordCache). deleted is set when the transaction
	// deletes a contact or a conversation: the cache is emptied once it commits.
	cache   *recordCaches
	gen     uint64
	deleted bool
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
	if delta < 0 && (bytes.Equal(name, bucketConversations) || bytes.Equal(name, bucketContacts)) {
		t.deleted = true
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

// recordCacheSize bounds how many records of a kind a recordCache keeps.
const recordCacheSize = 4096

// recordCache keeps decoded records of one kind across transactions, each with the
// bytes it was decoded from: reading a record whose stored bytes are the ones kept
// returns the kept value instead of decoding (and, encrypted, opening) it again.
// An inbound text from a returning texter reads its contact and conversation
// (several times) and writes them; Put keeps what it wrote, so the texter's next
// text, and the console's reads in between, find them. Which bytes are stored decides,
// so a record changed by any path (a rolled-back transaction, encryption, another
// version of the record in an older read transaction) is simply decoded again.
// Only write transactions fill it: a read takes what is kept but adds nothing, so
// that a scan (an export, the dashboard) neither pushes out the records the writer
// is using nor keeps thousands of decrypted records it will not read again.
//
// The values are copied in and out (clone), so that no caller can change another's.
// They hold what texters wrote (decrypted): when a transaction deletes contacts or
// conversations (purges, retention), the caches are emptied once it commits, and
// what a read transaction older than that would keep is dropped (gen).
type recordCache[T any] struct {
	mu      sync.Mutex
	entries map[hotline.ID]cachedRecord[T]
	gen     uint64 // counts clears
	clone   func(T) T
}

type cachedRecord[T any] struct {
	raw []byte
	v   T
}

func newRecordCache[T any](clone func(T) T) *recordCache[T] {
	return &recordCache[T]{entries: map[hotline.ID]cachedRecord[T]{}, clone: clone}
}

// get returns a copy of the value kept for the ID, if it was decoded from raw.
func (c *recordCache[T]) get(id hotline.ID, raw []byte) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && bytes.Equal(e.raw, raw) {
		return c.clone(e.v), true
	}
	var zero T
	return zero, false
}

// put keeps v as what raw, the record stored under the ID, decodes to; raw must not
// change afterwards. A transaction that began before the last clear (gen) keeps
// nothing.
func (c *recordCache[T]) put(gen uint64, id hotline.ID, raw []byte, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[id]; !ok && len(c.entries) >= recordCacheSize {
		for old := range c.entries { // a random one
			delete(c.entries, old)
			break
		}
	}
	c.entries[id] = cachedRecord[T]{raw: raw, v: c.clone(v)}
}

// generation returns the number of clears so far.
func (c *recordCache[T]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// clear forgets every record.
func (c *recordCache[T]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.gen++
}

// recordCaches are a store's caches of decoded records.
type recordCaches struct {
	convs    *recordCache[hotline.Conversation]
	contacts *recordCache[hotline.Contact]
}

func newRecordCaches() *recordCaches {
	return &recordCaches{convs: newRecordCache(cloneConversation), contacts: newRecordCache(cloneContact)}
}

// clear empties both caches.
func (c *recordCaches) clear() {
	c.convs.clear()
	c.contacts.clear()
}
