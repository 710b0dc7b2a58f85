package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// The hotline's signing key (Ed25519), which signs evidence bundles. Its public key
// is in meta ("signing_key"), readable without the master key. The private key is
// in the keystore, wrapped by the master key, in an encrypted store; in a plaintext
// store, which has no keystore, it sits in meta beside its public key, as
// unprotected as everything else in that file, and moves to the keystore when the
// store is encrypted.

var keySigning = []byte("signing_key")

const signingRecordVersion = 1

type signingRecord struct {
	V      int    `json:"v"`
	Public []byte `json:"public"`
	// Seed is the private key's seed, in a plaintext store only.
	Seed []byte `json:"seed,omitempty"`
}

func (r *signingRecord) version() int { return r.V }

func readSigning(btx *bolt.Tx) (signingRecord, bool, error) {
	var r signingRecord
	v := btx.Bucket(bucketMeta).Get(keySigning)
	if v == nil {
		return r, false, nil
	}
	if err := unmarshal("signing key", v, &r, signingRecordVersion); err != nil {
		return r, false, err
	}
	return r, true, nil
}

func writeSigning(btx *bolt.Tx, r signingRecord) error {
	r.V = signingRecordVersion
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return btx.Bucket(bucketMeta).Put(keySigning, v)
}

// PublicKey returns the hotline's public signing key, and false when none was made
// yet (SigningKey makes it).
func (s *Store) PublicKey(ctx context.Context) (ed25519.PublicKey, bool, error) {
	var pub ed25519.PublicKey
	var ok bool
	err := s.View(ctx, func(rt hotline.ReadTx) error {
		r, found, err := readSigning(rt.(*tx).tx)
		if err != nil || !found {
			return err
		}
		pub, ok = bytes.Clone(r.Public), true
		return nil
	})
	return pub, ok, err
}

// SigningKey returns the hotline's private signing key, making it the first time
// (the first start of a server). It is kept in memory once read: GET /api/v1/key,
// which anyone may call, costs no transaction.
func (s *Store) SigningKey(ctx context.Context) (ed25519.PrivateKey, error) {
	if p := s.signing.Load(); p != nil {
		return *p, nil
	}
	priv, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	s.signing.Store(&priv)
	return priv, nil
}

func (s *Store) signingKey(ctx context.Context) (ed25519.PrivateKey, error) {
	var priv ed25519.PrivateKey
	err := s.Update(ctx, func(htx hotline.Tx) error {
		priv = nil
		btx := htx.(*tx).tx
		r, found, err := readSigning(btx)
		if err != nil {
			return err
		}
		if found {
			if s.keys == nil {
				if len(r.Seed) != ed25519.SeedSize {
					return hotline.Errorf(hotline.EUNAVAILABLE, "the signing key's private half is not in this file: the store was encrypted, open it with its master key")
				}
				priv = ed25519.NewKeyFromSeed(r.Seed)
				return nil
			}
			seed, err := s.keys.secret(ksSecretSigning)
			if err != nil {
				return hotline.Errorf(hotline.EUNAVAILABLE, "the signing key: %v", err)
			}
			priv = ed25519.NewKeyFromSeed(seed)
			return nil
		}
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		priv = ed25519.NewKeyFromSeed(seed)
		r = signingRecord{Public: priv.Public().(ed25519.PublicKey)}
		if s.keys == nil {
			r.Seed = seed
		} else if err := s.keys.putSecret(ksSecretSigning, seed); err != nil {
			return err
		}
		return writeSigning(btx, r)
	})
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), mustPublic(s, ctx)) {
		return nil, hotline.Errorf(hotline.EINTERNAL, "the signing key does not match its public key in the store")
	}
	return priv, nil
}

func mustPublic(s *Store, ctx context.Context) ed25519.PublicKey {
	pub, _, _ := s.PublicKey(ctx)
	return pub
}

// moveSigningKey moves a plaintext store's private signing key into the keystore,
// wrapped, when the store is encrypted.
func (s *Store) moveSigningKey(btx *bolt.Tx) error {
	r, found, err := readSigning(btx)
	if err != nil || !found || r.Seed == nil {
		return err
	}
	if err := s.keys.putSecret(ksSecretSigning, r.Seed); err != nil {
		return err
	}
	r.Seed = nil
	return writeSigning(btx, r)
}

// secret returns one of the keystore's secrets, unwrapped.
func (kr *keyring) secret(name []byte) ([]byte, error) {
	var wrapped []byte
	if err := kr.db.View(func(btx *bolt.Tx) error {
		wrapped = bytes.Clone(btx.Bucket(ksBucketSecrets).Get(name))
		return nil
	}); err != nil {
		return nil, err
	}
	return kr.unwrap(name, wrapped)
}

// putSecret stores a secret in the keystore, wrapped.
func (kr *keyring) putSecret(name, secret []byte) error {
	return storeError("keystore", kr.db.Update(func(btx *bolt.Tx) error {
		return btx.Bucket(ksBucketSecrets).Put(name, kr.wrap(name, secret))
	}))
}
