package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/hotlinehq/hotline/hotline"
)

// Encryption at rest (doc.go tells the whole design).
//
// The master key (32 bytes from configuration) never touches a file the hotline
// writes. From it, HKDF-SHA256 derives the key-wrapping key (KWK) and a check value.
// Every conversation and every contact has its own random 256-bit data key; records
// are sealed with AES-256-GCM under their data key, with the bucket and the record's
// key as associated data, so a sealed value moved to another record does not open.
// Data keys, the address index key and the signing key are kept wrapped by the KWK
// in the keystore: a second bbolt file (hotline.keys.db by default) that backups of
// the store do not contain. Destroying a data key there (a purge) makes every copy of
// the records it sealed unreadable, in the live file and in every backup of it.

// MasterKeySize is the size of a master key: 32 bytes (AES-256; config.ParseMasterKey
// reads one).
const MasterKeySize = 32

// MasterKeyID names a master key without revealing it: 16 hex digits derived from
// it, shown in errors and by `hotline key`, so that an operator can tell keys apart.
func MasterKeyID(master []byte) string {
	id, _ := hkdf.Key(sha256.New, master, nil, "hotline master key id v1", 8)
	return hex.EncodeToString(id)
}

// Keystore layout (doc.go draws it).
var (
	ksBucketMeta    = []byte("meta")
	ksBucketKeys    = []byte("data_keys")
	ksBucketSecrets = []byte("secrets")
	ksKeyFormat     = []byte("format")
	ksKeyID         = []byte("id")
	ksKeyCheck      = []byte("kwk_check")
	ksKeyMasterID   = []byte("master_key_id")
	ksSecretIndex   = []byte("index")
	ksSecretSigning = []byte("signing")
)

const (
	keystoreFormat = "1"
	// keyCacheSize bounds the unwrapped data keys kept in memory as 32-byte keys,
	// about a hundred bytes an entry with the map's own: a miss costs a read of the
	// keystore and an unwrap.
	keyCacheSize = 1 << 12
	// readyKeyCacheSize bounds those also kept ready to use, as AES-GCM objects
	// (about 850 bytes each: the expanded AES key and GCM's tables): enough for
	// every open conversation and its texter on a busy line, few enough that an
	// export, which reads the keys of every conversation it walks, leaves about
	// 1.3 MiB of keys in the two caches (it was 3.5 MiB when all 4,096 were kept
	// ready, and under serve's GOGC=400 the heap may grow five times what is live).
	// A key cached but not ready costs an AES-GCM set-up (about 0.7 µs), not a
	// keystore read.
	readyKeyCacheSize = 1 << 10
	// sealVersion is the first byte of every sealed value.
	sealVersion byte = 1
)

// Kinds of data key: the first byte of a data_keys key.
const (
	keyKindConversation byte = 'c'
	keyKindContact      byte = 't' // texter
)

// keyRef names a data key.
type keyRef struct {
	kind byte
	id   hotline.ID
}

func (r keyRef) bytes() []byte { return join([]byte{r.kind}, r.id[:]) }

func (r keyRef) String() string {
	if r.kind == keyKindContact {
		return "contact " + r.id.String()
	}
	return "conversation " + r.id.String()
}

func conversationKey(id hotline.ID) keyRef { return keyRef{keyKindConversation, id} }
func contactKey(id hotline.ID) keyRef      { return keyRef{keyKindContact, id} }

// keyring is an encrypted store's view of its keystore: the wrapping key, the index
// key, and a cache of unwrapped data keys (raw, and the most recently used also
// ready as AES-GCM objects).
type keyring struct {
	db     *bolt.DB
	path   string
	id     []byte // the keystore's ID, which the store's meta names
	kwk    cipher.AEAD
	index  []byte // HMAC-SHA256 key of idx_contact_address
	master string // the master key's ID
	// encrypting is set while a plaintext store is being encrypted (encrypt.go).
	encrypting atomic.Bool

	mu    sync.Mutex
	raw   map[keyRef][]byte      // at most keyCacheSize
	ready map[keyRef]cipher.AEAD // at most readyKeyCacheSize, each also in raw
	// forgotten counts the calls of forget, so that a key read before one is not
	// cached after it.
	forgotten uint64
	pool      []poolKey
}

// dataAEAD is a data key ready to seal and open, with the bytes it was made from,
// which the cache keeps once the AES-GCM object is evicted.
type dataAEAD struct {
	cipher.AEAD
	raw []byte
}

func newDataAEAD(raw []byte) *dataAEAD {
	return &dataAEAD{AEAD: newAEAD(raw), raw: bytes.Clone(raw)}
}

// kdf derives a key from the master key for one purpose.
func kdf(master []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return k
}

func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key sizes are ours
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// kwkCheck is the value a keystore keeps to tell the right master key from a wrong
// one: HMAC-SHA256 under a key derived for this purpose, over the keystore's ID.
func kwkCheck(master, id []byte) []byte {
	m := hmac.New(sha256.New, kdf(master, "hotline keystore check v1"))
	m.Write(id)
	return m.Sum(nil)
}

// DefaultKeysPath is where the keystore of the database at dbPath is kept unless
// configured: beside it, hotline.db → hotline.keys.db. Keep it out of file-system
// snapshots of the data: see doc.go.
func DefaultKeysPath(dbPath string) string {
	return strings.TrimSuffix(dbPath, ".db") + ".keys.db"
}

// openKeystore opens (create: or creates) the keystore file and checks the master
// key against it. A keystore has one writer: the process that owns the store.
func openKeystore(path string, master []byte, create bool, opts Options) (*keyring, error) {
	_, statErr := os.Stat(path)
	switch {
	case errors.Is(statErr, os.ErrNotExist) && !create:
		return nil, hotline.Errorf(hotline.EUNAVAILABLE,
			"the keystore %s is missing: the store is encrypted and its data keys are there; restore the keystore from its backup, or set crypto.keys_file to where it is", path)
	case statErr != nil && !errors.Is(statErr, os.ErrNotExist):
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "open keystore %s: %v", path, statErr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "open keystore %s: %v", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "open keystore %s: the file is locked by another process (is a hotline running with it?)", path)
	} else if err != nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "open keystore %s: %v", path, err)
	}
	kr := &keyring{db: db, path: path, kwk: newAEAD(kdf(master, "hotline key wrapping v1")), master: MasterKeyID(master),
		raw: map[keyRef][]byte{}, ready: map[keyRef]cipher.AEAD{}}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(ksBucketMeta)
		if meta == nil { // a new keystore
			for _, name := range [][]byte{ksBucketMeta, ksBucketKeys, ksBucketSecrets} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			meta = tx.Bucket(ksBucketMeta)
			id := make([]byte, 16)
			rand.Read(id)
			index := make([]byte, 32)
			rand.Read(index)
			for _, kv := range [][2][]byte{{ksKeyFormat, []byte(keystoreFormat)}, {ksKeyID, id},
				{ksKeyCheck, kwkCheck(master, id)}, {ksKeyMasterID, []byte(kr.master)}} {
				if err := meta.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			if err := tx.Bucket(ksBucketSecrets).Put(ksSecretIndex, kr.wrap(ksSecretIndex, index)); err != nil {
				return err
			}
		}
		if f := string(meta.Get(ksKeyFormat)); f != keystoreFormat {
			return hotline.Errorf(hotline.EUNAVAILABLE, "keystore %s: format %q, this binary knows %q: upgrade the binary", path, f, keystoreFormat)
		}
		kr.id = bytes.Clone(meta.Get(ksKeyID))
		if !hmac.Equal(meta.Get(ksKeyCheck), kwkCheck(master, kr.id)) {
			return hotline.Errorf(hotline.EUNAVAILABLE,
				"the configured master key (id %s) does not open the keystore %s, whose keys are wrapped by master key %s: configure that key (after a rotation, the new one)",
				kr.master, path, meta.Get(ksKeyMasterID))
		}
		index, err := kr.unwrap(ksSecretIndex, tx.Bucket(ksBucketSecrets).Get(ksSecretIndex))
		if err != nil {
			return fmt.Errorf("keystore %s: the address index key: %w", path, err)
		}
		kr.index = index
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, storeError("open keystore", err)
	}
	return kr, nil
}

func (kr *keyring) close() error {
	if kr == nil {
		return nil
	}
	return kr.db.Close()
}

// wrap seals a key for the keystore, bound to the name it is stored under.
func (kr *keyring) wrap(name, key []byte) []byte {
	return sealWith(kr.kwk, join([]byte("hotline-key-v1\x00"), name), key)
}

// wrapWithNonce is wrap with a nonce the caller drew from crypto/rand.
func (kr *keyring) wrapWithNonce(name, key, nonce []byte) []byte {
	out := append([]byte{sealVersion}, nonce...)
	return kr.kwk.Seal(out, nonce, key, join([]byte("hotline-key-v1\x00"), name))
}

// unwrap opens a key wrapped under name.
func (kr *keyring) unwrap(name, wrapped []byte) ([]byte, error) {
	if wrapped == nil {
		return nil, errors.New("missing")
	}
	k, err := openWith(kr.kwk, join([]byte("hotline-key-v1\x00"), name), wrapped)
	if err != nil {
		return nil, errors.New("does not unwrap with the master key (damaged, or wrapped by another key)")
	}
	return k, nil
}

// sealWith encrypts plain: version ‖ 12-byte random nonce ‖ ciphertext and tag.
func sealWith(aead cipher.AEAD, aad, plain []byte) []byte {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return aead.Seal(out, out[1:1+aead.NonceSize()], plain, aad)
}

// openWith decrypts what sealWith wrote.
func openWith(aead cipher.AEAD, aad, sealed []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("malformed sealed value")
	}
	return aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
}

// errShredded is the cause of a record whose data key was destroyed.
var errShredded = errors.New("its data key was destroyed (crypto-shredded by a purge)")

// keyPoolSize is how many data keys the keystore gets at once, wrapped and synced
// in one transaction, ahead of the conversations and contacts that will use them:
// a new texter then costs no write to the keystore, and concurrent webhooks keep
// their group commit.
const keyPoolSize = 256

// poolKey is a data key already in the keystore, not yet given to a record.
type poolKey struct {
	id  []byte // its name in the keystore
	raw []byte
}

// dataKey returns the data key of ref. The store's data_keys bucket names the
// keystore entry that holds it (read in t, so a key given in t is seen at once);
// the keystore holds it wrapped. A ref without a key gets one from the pool when
// create is set, named in t's data_keys; the key is the transaction's until it
// commits (Store.write), and then the cache's. A ref whose key is named but gone
// from the keystore, or that has none and create is not set, is errShredded.
func (kr *keyring) dataKey(t *tx, ref keyRef, create bool) (cipher.AEAD, error) {
	if aead, ok := t.newKeys[ref]; ok {
		return aead, nil
	}
	kr.mu.Lock()
	aead, ok := kr.ready[ref]
	var raw []byte
	cached := false
	if !ok {
		raw, cached = kr.raw[ref]
	}
	forgotten := kr.forgotten
	kr.mu.Unlock()
	if ok {
		return aead, nil
	} else if cached {
		d := newDataAEAD(raw)
		kr.keep(ref, d, forgotten)
		return d, nil
	}
	names, err := t.bucket(bucketDataKeys)
	if err != nil {
		return nil, err
	}
	id := bytes.Clone(names.Get(ref.bytes()))
	if id == nil {
		if !create {
			return nil, errShredded
		}
		k, err := kr.take()
		if err != nil {
			return nil, err
		}
		if err := names.Put(ref.bytes(), k.id); err != nil {
			return nil, err
		}
		if t.newKeys == nil {
			t.newKeys = map[keyRef]cipher.AEAD{}
		}
		aead = newDataAEAD(k.raw)
		t.newKeys[ref] = aead
		return aead, nil
	}
	var wrapped []byte
	if err := kr.db.View(func(tx *bolt.Tx) error {
		wrapped = bytes.Clone(tx.Bucket(ksBucketKeys).Get(id))
		return nil
	}); err != nil {
		return nil, storeError("keystore", err)
	}
	if wrapped == nil {
		return nil, errShredded
	}
	unwrapped, err := kr.unwrap(id, wrapped)
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w", ref, err)
	}
	d := newDataAEAD(unwrapped)
	aead = d
	if t.tx.Writable() {
		// The name may be this (group-committed) transaction's: cache the key only
		// once it has committed.
		if t.newKeys == nil {
			t.newKeys = map[keyRef]cipher.AEAD{}
		}
		t.newKeys[ref] = aead
	} else {
		kr.keep(ref, d, forgotten)
	}
	return aead, nil
}

// take returns a data key from the pool, filling the pool first when it is empty.
// Keys taken by a transaction that then fails are never used: keys of nothing.
func (kr *keyring) take() (poolKey, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if len(kr.pool) == 0 {
		// One read of the system's randomness for the whole pool. Names are the
		// time in nanoseconds and a counter (8 bytes each, big-endian), so the
		// keystore's tree grows at its end; nothing about them is secret.
		per := 8 + 32 + kr.kwk.NonceSize()
		random := make([]byte, keyPoolSize*per)
		rand.Read(random)
		pool := make([]poolKey, keyPoolSize)
		wrapped := make([][]byte, keyPoolSize)
		now := uint64(time.Now().UnixNano())
		for i := range pool {
			r := random[i*per : (i+1)*per]
			id := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, now), binary.BigEndian.Uint64(r[:8])>>16<<16|uint64(i))
			pool[i] = poolKey{id: id, raw: r[8:40]}
			wrapped[i] = kr.wrapWithNonce(id, pool[i].raw, r[40:])
		}
		err := kr.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(ksBucketKeys)
			b.FillPercent = 0.9 // appended in order
			for i, k := range pool {
				if err := b.Put(k.id, wrapped[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return poolKey{}, storeError("keystore", err)
		}
		kr.pool = pool
	}
	k := kr.pool[len(kr.pool)-1]
	kr.pool = kr.pool[:len(kr.pool)-1]
	return k, nil
}

// remember caches the data keys a committed transaction gave out or read.
func (kr *keyring) remember(keys map[keyRef]cipher.AEAD) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	for ref, aead := range keys {
		if d, ok := aead.(*dataAEAD); ok {
			kr.cacheLocked(ref, d)
		}
	}
}

// keep caches a data key read outside a write, unless forget was called since the
// read began (forgotten): the key may have been destroyed meanwhile.
func (kr *keyring) keep(ref keyRef, d *dataAEAD, forgotten uint64) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.forgotten == forgotten {
		kr.cacheLocked(ref, d)
	}
}

// cacheLocked puts a key in both caches, evicting an entry of a full one (the
// first a map iteration meets: at random).
func (kr *keyring) cacheLocked(ref keyRef, d *dataAEAD) {
	if _, ok := kr.raw[ref]; !ok && len(kr.raw) >= keyCacheSize {
		for old := range kr.raw {
			delete(kr.raw, old)
			delete(kr.ready, old)
			break
		}
	}
	if _, ok := kr.ready[ref]; !ok && len(kr.ready) >= readyKeyCacheSize {
		for old := range kr.ready {
			delete(kr.ready, old)
			break
		}
	}
	kr.raw[ref] = d.raw
	kr.ready[ref] = d
}

// destroy deletes data keys from the keystore (crypto-shredding) by their names
// there, and forgets the refs'.
func (kr *keyring) destroy(ids [][]byte, refs []keyRef) error {
	err := kr.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(ksBucketKeys)
		for _, id := range ids {
			if err := b.Delete(id); err != nil {
				return err
			}
		}
		return nil
	})
	kr.forget(refs)
	return storeError("keystore", err)
}

// forget drops refs from the cache.
func (kr *keyring) forget(refs []keyRef) {
	kr.mu.Lock()
	kr.forgotten++
	for _, ref := range refs {
		delete(kr.raw, ref)
		delete(kr.ready, ref)
	}
	kr.mu.Unlock()
}

// has reports whether the keystore holds the data key named id.
func (kr *keyring) has(id []byte) (bool, error) {
	var ok bool
	err := kr.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(ksBucketKeys).Get(id) != nil
		return nil
	})
	return ok, err
}

// addressKey is the key of a texter's address in idx_contact_address of an
// encrypted store: 0x00 ‖ HMAC-SHA256(index key, address). Plain addresses never
// start with 0x00, so a store being encrypted tells the two apart.
func (kr *keyring) addressKey(a hotline.Address) []byte {
	m := hmac.New(sha256.New, kr.index)
	m.Write([]byte("hotline-address-v1\x00"))
	m.Write([]byte(a))
	return append([]byte{0}, m.Sum(nil)...)
}

// recordAAD binds a sealed value to where it is stored: bucket and record key.
func recordAAD(bucket, key []byte) []byte {
	return join([]byte("hotline-record-v1\x00"), bucket, []byte{0}, key)
}

// seal encrypts plain for the record at bucket/key under ref's data key, making
// the key when the keystore has none.
func (t *tx) seal(ref keyRef, bucket, key, plain []byte) ([]byte, error) {
	aead, err := t.keys.dataKey(t, ref, true)
	if err != nil {
		return nil, err
	}
	return sealWith(aead, recordAAD(bucket, key), plain), nil
}

// open decrypts a sealed record value. A record of an unencrypted store, or one
// whose key is gone, fails with a message that names the record, never its content.
func (t *tx) open(ref keyRef, bucket, key, sealed []byte) ([]byte, error) {
	if t.keys == nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "%s: the record is encrypted and the store was opened without its master key", ref)
	}
	aead, err := t.keys.dataKey(t, ref, false)
	if errors.Is(err, errShredded) {
		return nil, hotline.Errorf(hotline.ENOTFOUND, "%s: %v.", ref, errShredded)
	} else if err != nil {
		return nil, err
	}
	plain, err := openWith(aead, recordAAD(bucket, key), sealed)
	if err != nil {
		return nil, hotline.Errorf(hotline.EINTERNAL, "%s: a sealed record in %s does not open: it was changed, or moved from another record", ref, bucket)
	}
	return plain, nil
}

// cryptoRecord is meta's "crypto" value: whether (and how far) the store is
// encrypted, and which keystore holds its keys. Its absence means a plaintext store.
type cryptoRecord struct {
	V        int    `json:"v"`
	State    string `json:"state"` // cryptoEncrypting or cryptoEncrypted
	Keystore string `json:"keystore"`
	Since    int64  `json:"since,omitempty"`
}

func (r *cryptoRecord) version() int { return r.V }

const (
	cryptoRecordVersion = 1
	cryptoEncrypting    = "encrypting"
	cryptoEncrypted     = "encrypted"
)

var keyCrypto = []byte("crypto")

// readCrypto returns the store's encryption state; State is "" for a plaintext store.
func readCrypto(btx *bolt.Tx) (cryptoRecord, error) {
	var r cryptoRecord
	meta := btx.Bucket(bucketMeta)
	if meta == nil {
		return r, nil
	}
	v := meta.Get(keyCrypto)
	if v == nil {
		return r, nil
	}
	if err := unmarshal("crypto", v, &r, cryptoRecordVersion); err != nil {
		return r, err
	}
	return r, nil
}

func writeCrypto(btx *bolt.Tx, r cryptoRecord) error {
	r.V = cryptoRecordVersion
	if r.Since == 0 {
		r.Since = time.Now().UnixNano()
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return btx.Bucket(bucketMeta).Put(keyCrypto, v)
}
