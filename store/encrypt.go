package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// Opening with or without a master key, encrypting a plaintext store, destroying
// data keys, and rotating the master key.
//
// A store is plaintext (meta has no "crypto"), being encrypted ("encrypting") or
// encrypted ("encrypted", naming its keystore). Open with a master key encrypts a
// plaintext store in batches of encryptBatch records, each in its own transaction:
// a crash leaves some records sealed and some plain, which every read handles, and
// the next Open carries on. Open without a master key refuses a store that is (being)
// encrypted. There is no way back to plaintext.

// encryptBatch is how many records one transaction of the encryption seals.
const encryptBatch = 500

// EncryptProgress tells how far the encryption of a plaintext store got.
type EncryptProgress struct {
	Bucket  string // "contacts", "conversations", "messages" or "outbox"
	Records int    // sealed so far in this bucket
	Done    bool   // every record is sealed
}

// openKeys opens the keystore as the store's state and master key require, and
// finishes what an interrupted Open or purge left: the encryption, and data keys
// waiting to be destroyed.
func (s *Store) openKeys() error {
	var state cryptoRecord
	if err := s.db.View(func(btx *bolt.Tx) error {
		var err error
		state, err = readCrypto(btx)
		return err
	}); err != nil {
		return storeError("open", err)
	}
	master := s.opts.MasterKey
	switch {
	case master == nil && state.State == "":
		return nil
	case master == nil:
		return hotline.Errorf(hotline.EUNAVAILABLE,
			"open %s: the store is encrypted: set crypto.master_key_file (or HOTLINE_CRYPTO__MASTER_KEY) to the master key it was written with", s.path)
	case len(master) != MasterKeySize:
		return hotline.Errorf(hotline.EINVALID, "open %s: the master key is %d bytes, not %d", s.path, len(master), MasterKeySize)
	}
	kr, err := openKeystore(s.opts.KeysPath, master, state.State == "", s.opts)
	if err != nil {
		return err
	}
	s.keys = kr
	if state.State != "" && state.Keystore != hex.EncodeToString(kr.id) {
		return hotline.Errorf(hotline.EUNAVAILABLE,
			"open %s: its data keys are in keystore %s, but %s is keystore %s: set crypto.keys_file to the keystore of this store",
			s.path, state.Keystore, kr.path, hex.EncodeToString(kr.id))
	}
	if state.State != cryptoEncrypted {
		if _, err := s.encrypt(context.Background()); err != nil {
			return err
		}
		// The plain records are gone from the tree but not from the file's free
		// pages (nor are records deleted before): rewrite the file without them.
		if err := s.compact(); err != nil {
			return err
		}
	}
	return s.finishShreds()
}

// compact rewrites the database file with only its live records (bbolt's Compact
// into a new file, synced, renamed over the old one), so that no page still holds
// what the store no longer does.
func (s *Store) compact() error {
	tmp := s.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.opts.LockTimeout, NoSync: s.opts.NoSync})
	if err != nil {
		return storeError("compact", err)
	}
	if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return storeError("compact", err)
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		return storeError("compact", err)
	}
	if err := dst.Close(); err != nil {
		return storeError("compact", err)
	}
	if err := s.db.Close(); err != nil {
		return storeError("compact", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return storeError("compact", err)
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return err
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: s.opts.LockTimeout, NoSync: s.opts.NoSync})
	if err != nil {
		return storeError("compact", err)
	}
	db.MaxBatchDelay, db.MaxBatchSize = s.opts.BatchDelay, s.opts.BatchSize
	s.db = db
	return nil
}

// encrypt seals every plain record of a plaintext (or half-encrypted) store, and
// returns how many it sealed.
func (s *Store) encrypt(ctx context.Context) (int, error) {
	kr := s.keys
	kr.encrypting.Store(true)
	defer kr.encrypting.Store(false)
	id := hex.EncodeToString(kr.id)
	if err := s.db.Update(func(btx *bolt.Tx) error {
		if err := writeCrypto(btx, cryptoRecord{State: cryptoEncrypting, Keystore: id}); err != nil {
			return err
		}
		return s.moveSigningKey(btx)
	}); err != nil {
		return 0, storeError("encrypt", err)
	}
	sealed := 0
	for _, b := range []struct {
		name []byte
		seal func(t *tx, k, v []byte) error
	}{
		{bucketContacts, sealContact},
		{bucketConversations, sealConversation},
		{bucketMessages, sealMessage},
		{bucketOutbox, sealOutbox},
	} {
		var after []byte
		total := 0
		for {
			n, next, err := s.encryptBatch(ctx, b.name, after, b.seal)
			if err != nil {
				return sealed, fmt.Errorf("encrypt %s: %s: %w", s.path, b.name, err)
			}
			total += n
			sealed += n
			if s.opts.OnEncrypt != nil && n > 0 {
				s.opts.OnEncrypt(EncryptProgress{Bucket: string(b.name), Records: total})
			}
			if next == nil {
				break
			}
			after = next
		}
	}
	if err := s.db.Update(func(btx *bolt.Tx) error {
		return writeCrypto(btx, cryptoRecord{State: cryptoEncrypted, Keystore: id})
	}); err != nil {
		return sealed, storeError("encrypt", err)
	}
	if s.opts.OnEncrypt != nil && sealed > 0 {
		s.opts.OnEncrypt(EncryptProgress{Done: true})
	}
	return sealed, nil
}

// encryptBatch seals up to encryptBatch plain records of the bucket after the key
// after, in one transaction, and returns how many it sealed and the key to go on
// after (nil at the end).
func (s *Store) encryptBatch(ctx context.Context, name, after []byte, seal func(t *tx, k, v []byte) error) (int, []byte, error) {
	n := 0
	var next []byte
	err := s.write(ctx, s.db.Update, func(htx hotline.Tx) error {
		n, next = 0, nil
		t := htx.(*tx)
		b, err := t.bucket(name)
		if err != nil {
			return err
		}
		type kv struct{ k, v []byte }
		var todo []kv
		c := b.Cursor()
		k, v := c.First()
		if after != nil {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(todo) < encryptBatch; k, v = c.Next() {
			if !isSealed(v) {
				todo = append(todo, kv{bytes.Clone(k), bytes.Clone(v)})
			}
			next = bytes.Clone(k)
		}
		if k == nil {
			next = nil
		}
		for _, r := range todo {
			if err := seal(t, r.k, r.v); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, next, err
}

func sealContact(t *tx, k, v []byte) error {
	c, err := t.decodeContact(k, v)
	if err != nil {
		return err
	}
	nv, err := t.encodeContact(c)
	if err != nil {
		return err
	}
	idx := t.tx.Bucket(bucketContactByAddress)
	if owner := idx.Get([]byte(c.Address)); bytes.Equal(owner, k) {
		if err := idx.Delete([]byte(c.Address)); err != nil {
			return err
		}
	}
	if err := idx.Put(t.keys.addressKey(c.Address), bytes.Clone(k)); err != nil {
		return err
	}
	return t.tx.Bucket(bucketContacts).Put(k, nv)
}

func sealConversation(t *tx, k, v []byte) error {
	c, err := t.decodeConversation(k, v)
	if err != nil {
		return err
	}
	nv, err := t.encodeConversation(c)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketConversations).Put(k, nv)
}

func sealMessage(t *tx, k, v []byte) error {
	m, err := t.decodeMessage(k, v)
	if err != nil {
		return err
	}
	nv, err := t.encodeMessage(k, m)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketMessages).Put(k, nv)
}

func sealOutbox(t *tx, k, v []byte) error {
	e, err := t.decodeOutbox(k, v)
	if err != nil {
		return err
	}
	nv, err := t.encodeOutbox(e)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketOutbox).Put(k, nv)
}

// shred is a data key to destroy: its name in the keystore, and whose it was.
type shred struct {
	id  []byte
	ref keyRef
}

// shredKey marks ref's data key to be destroyed once the transaction commits: the
// record it sealed is being deleted. It forgets the key's name (data_keys) in the
// transaction and marks the name in shred_pending, so that a destruction cut short
// by a crash is finished at the next Open.
func (t *tx) shredKey(ref keyRef) error {
	if t.keys == nil {
		return nil
	}
	names, err := t.bucket(bucketDataKeys)
	if err != nil {
		return err
	}
	id := bytes.Clone(names.Get(ref.bytes()))
	if id == nil {
		return nil // nothing was ever sealed for it
	}
	if err := names.Delete(ref.bytes()); err != nil {
		return err
	}
	pending, err := t.bucket(bucketShredPending)
	if err != nil {
		return err
	}
	if err := pending.Put(id, emptyValue); err != nil {
		return err
	}
	t.shreds = append(t.shreds, shred{id: id, ref: ref})
	return nil
}

// shred destroys data keys whose records a committed transaction deleted, then
// forgets the marks.
func (s *Store) shred(shreds []shred) error {
	ids := make([][]byte, len(shreds))
	refs := make([]keyRef, len(shreds))
	for i, sh := range shreds {
		ids[i], refs[i] = sh.id, sh.ref
	}
	if err := s.keys.destroy(ids, refs); err != nil {
		return err
	}
	return s.db.Update(func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketShredPending)
		for _, id := range ids {
			if err := b.Delete(id); err != nil {
				return err
			}
		}
		return nil
	})
}

// finishShreds destroys the data keys still marked: their records are gone.
func (s *Store) finishShreds() error {
	var shreds []shred
	err := s.db.View(func(btx *bolt.Tx) error {
		return btx.Bucket(bucketShredPending).ForEach(func(k, _ []byte) error {
			shreds = append(shreds, shred{id: bytes.Clone(k)})
			return nil
		})
	})
	if err != nil || len(shreds) == 0 {
		return storeError("open", err)
	}
	return storeError("open", s.shred(shreds))
}

// HasDataKey reports whether the conversation still has a data key: false once a
// purge destroyed it (crypto-shredding), and for a store without a master key.
func (s *Store) HasDataKey(conversationID hotline.ID) (bool, error) {
	if s.keys == nil {
		return false, nil
	}
	var id []byte
	if err := s.db.View(func(btx *bolt.Tx) error {
		id = bytes.Clone(btx.Bucket(bucketDataKeys).Get(conversationKey(conversationID).bytes()))
		return nil
	}); err != nil || id == nil {
		return false, err
	}
	return s.keys.has(id)
}

// BackupKeys writes a consistent copy of the keystore to w. The keystore holds the
// data keys wrapped by the master key; keep its copies apart from the store's
// backups and only as long as needed, since a copy from before a purge can still
// open what the purge destroyed (README: backups and keys).
func (s *Store) BackupKeys(ctx context.Context, w interface{ Write([]byte) (int, error) }) (int64, error) {
	if s.keys == nil {
		return 0, hotline.Errorf(hotline.EINVALID, "The store is not encrypted: it has no keystore.")
	}
	var n int64
	err := s.keys.db.View(func(btx *bolt.Tx) error {
		var err error
		n, err = btx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	return n, err
}

// RotateMasterKey re-wraps every key of the keystore at keysPath (the data keys,
// the address index key and the signing key) from the master key old to new, in
// one transaction: records are not rewritten, and a crash leaves every key under
// one master key or the other. The store must not be open. Keep the old key until
// this returns, and for as long as you keep copies of the keystore from before.
func RotateMasterKey(keysPath string, old, new []byte, opts Options) (int, error) {
	if len(new) != MasterKeySize || len(old) != MasterKeySize {
		return 0, hotline.Errorf(hotline.EINVALID, "a master key is %d bytes", MasterKeySize)
	}
	if bytes.Equal(old, new) {
		return 0, hotline.Errorf(hotline.EINVALID, "the new master key is the one in use")
	}
	if _, err := os.Stat(keysPath); err != nil {
		return 0, hotline.Errorf(hotline.EUNAVAILABLE, "no keystore at %s: %v", keysPath, err)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	from, err := openKeystore(keysPath, old, false, opts)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EUNAVAILABLE {
			if probe, perr := openKeystore(keysPath, new, false, opts); perr == nil {
				_ = probe.close()
				return 0, hotline.Errorf(hotline.ECONFLICT, "the keystore %s is already wrapped by the new master key: nothing to do", keysPath)
			}
		}
		return 0, err
	}
	defer from.close()
	to := &keyring{kwk: newAEAD(kdf(new, "hotline key wrapping v1")), master: MasterKeyID(new)}
	n := 0
	err = from.db.Update(func(btx *bolt.Tx) error {
		for _, name := range [][]byte{ksBucketKeys, ksBucketSecrets} {
			b := btx.Bucket(name)
			type kv struct{ k, v []byte }
			var rewrapped []kv
			err := b.ForEach(func(k, v []byte) error {
				raw, err := from.unwrap(k, v)
				if err != nil {
					return fmt.Errorf("%s %x: %w", name, k, err)
				}
				rewrapped = append(rewrapped, kv{bytes.Clone(k), to.wrap(k, raw)})
				return nil
			})
			if err != nil {
				return err
			}
			for _, r := range rewrapped {
				if err := b.Put(r.k, r.v); err != nil {
					return err
				}
			}
			n += len(rewrapped)
		}
		meta := btx.Bucket(ksBucketMeta)
		if err := meta.Put(ksKeyCheck, kwkCheck(new, from.id)); err != nil {
			return err
		}
		return meta.Put(ksKeyMasterID, []byte(to.master))
	})
	if err != nil {
		return 0, storeError("rotate", err)
	}
	return n, nil
}
