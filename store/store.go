package store

import (
	"context"
	"crypto/cipher"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/hotlinehq/hotline/hotline"
)

var _ hotline.Store = (*Store)(nil)

// Defaults for Options.
//
// DefaultBatchDelay was chosen with BenchmarkCommit (bench_test.go): an inbound text's
// writes (contact, conversation, two messages, outbox entry) with fsync, on a 2-CPU
// VM with a virtio disk (fsync p50 about 0.1–0.5 ms), median commit latency and
// commits per second:
//
//	                           1 writer              64 writers
//	bbolt Update           0.59 ms    990/s       41 ms     1,500/s
//	Batch, 500µs delay     1.65 ms    520/s      3.3 ms    18,000/s
//	Batch, 1ms delay       1.68 ms    500/s      3.3 ms    17,500/s
//	Batch, 2ms delay       2.7 ms     340/s      4.7 ms    13,000/s
//	Batch, 5ms delay       6.0 ms     160/s      8.1 ms     7,800/s
//	Batch, 10ms (default)  11.2 ms     88/s     13.1 ms     4,800/s
//	Store.Update, 1ms      0.56 ms  1,600/s      3.4 ms    17,500/s
//
// A lone writer waits out the whole delay in Batch, so Store.Update commits at once
// when no other write is in flight and otherwise joins a group commit of its own
// (groupCommit), which has no timer: a group is whatever arrived while the previous
// commit ran. With the load tool at concurrency 64 it took 6,600–7,000 texts/s
// against 3,100–4,500 with Batch at 1ms (issue 8's notes in BENCHMARKS.md).
const (
	DefaultLockTimeout = 3 * time.Second
	DefaultBatchDelay  = time.Millisecond
	DefaultBatchSize   = 1000
)

// Options tune how a Store is opened. The zero value is the production default.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another process
	// (default 3s).
	LockTimeout time.Duration
	// BatchDelay tunes bbolt's own Batch (default DefaultBatchDelay). Update no
	// longer uses Batch (see groupCommit); BenchmarkCommit still compares with it.
	BatchDelay time.Duration
	// BatchSize is the most Update calls committed together (default
	// DefaultBatchSize).
	BatchSize int
	// NoSync skips fsync on commit. It loses data on a crash: tests only.
	NoSync bool
	// MasterKey (32 bytes, see ParseMasterKey) encrypts the store at rest
	// (crypto.go). Nil keeps it in plaintext, and refuses a store that is encrypted.
	// A plaintext store opened with a key is encrypted by Open (encrypt.go).
	MasterKey []byte
	// KeysPath is the keystore file, which holds the wrapped data keys; empty means
	// DefaultKeysPath. It must not be in the same backups as the store (doc.go).
	KeysPath string
	// OnEncrypt, when set, hears how far Open got with encrypting a plaintext store.
	OnEncrypt func(EncryptProgress)
}

// Store is the bbolt implementation of hotline.Store. One process owns the file.
// It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	// keys are the keystore's keys; nil without a master key.
	keys *keyring
	opts Options
	// signing is the signing key once read (signing.go).
	signing atomic.Pointer[ed25519.PrivateKey]
	// writers counts Update calls in flight, to choose between committing at once
	// and joining a group commit.
	writers atomic.Int32

	// Group commit: Update calls that arrive while another write is in flight queue
	// in pending; a committer goroutine, started when the queue was empty, commits
	// in one transaction everything that queued while the previous one ran, until
	// the queue is empty.
	gmu      sync.Mutex
	pending  []*groupCall
	leading  bool
	maxBatch int

	// cache keeps decoded contacts and conversations (tx.go: recordCache).
	cache *recordCaches
}

// Open opens the database file at path, creating it and its parent directory when
// missing, and brings its schema up to date. It fails with EUNAVAILABLE when another
// process holds the file for longer than opts.LockTimeout, and when the file was
// written by a newer hotline.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = DefaultBatchDelay
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "open %s: %v", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE,
			"open %s: the database file is locked by another process (is another hotline running with the same data_dir?)", path)
	} else if err != nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "open %s: %v", path, err)
	}
	db.MaxBatchDelay = opts.BatchDelay
	db.MaxBatchSize = opts.BatchSize
	if opts.KeysPath == "" {
		opts.KeysPath = DefaultKeysPath(path)
	}
	s := &Store{db: db, path: path, opts: opts, maxBatch: opts.BatchSize, cache: newRecordCaches()}
	if err := s.migrate(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.openKeys(); err != nil {
		_ = s.keys.close()
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the file and the keystore. Transactions still running finish first.
func (s *Store) Close() error {
	err := s.db.Close()
	if kerr := s.keys.close(); err == nil {
		err = kerr
	}
	if err != nil {
		return storeError("close", err)
	}
	return nil
}

// Encrypted reports whether the store is encrypted at rest (opened with its master
// key).
func (s *Store) Encrypted() bool { return s.keys != nil }

// KeysPath returns the keystore's path ("" without a master key).
func (s *Store) KeysPath() string {
	if s.keys == nil {
		return ""
	}
	return s.keys.path
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// groupCall is one Update waiting for the next group commit.
type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// errSolo tells a caller whose function failed inside a group to run it alone, so
// that it gets its own error and the others are not rolled back with it.
var errSolo = errors.New("store: run solo")

// groupCommit runs fn in the next group commit. Unlike bbolt's Batch, which closes a
// batch after MaxBatchDelay and then queues it behind the commit in progress (so
// batches stay as small as the arrivals in one delay, each paying its own fsyncs), a
// group here is everything that arrived while the previous commit ran: the busier
// the disk, the larger the group, and no timer delays a commit.
func (s *Store) groupCommit(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	s.gmu.Lock()
	s.pending = append(s.pending, c)
	if !s.leading {
		s.leading = true
		go s.commitLoop()
	}
	s.gmu.Unlock()
	err := <-c.done
	if err == errSolo {
		err = s.db.Update(fn)
	}
	return err
}

// commitLoop commits the queued calls, a group at a time, until none is left.
func (s *Store) commitLoop() {
	for {
		s.gmu.Lock()
		n := min(len(s.pending), s.maxBatch)
		if n == 0 {
			s.pending, s.leading = nil, false
			s.gmu.Unlock()
			return
		}
		group := s.pending[:n:n]
		s.pending = s.pending[n:]
		s.gmu.Unlock()
		s.commitGroup(group)
	}
}

// commitGroup runs the calls' functions in one transaction. When one fails, it is
// taken out and told to run alone, and the rest run again.
func (s *Store) commitGroup(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safelyCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].done <- errSolo
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.done <- err
		}
		return
	}
}

// safelyCall runs fn, turning a panic into an error: the failing call then runs
// alone in its caller's goroutine, where it panics again under the HTTP server's
// recovery, instead of taking the committer (and every other writer) down.
func safelyCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in a transaction: %v", p)
		}
	}()
	return fn(tx)
}

// Update runs fn in a read-write transaction and commits it when fn returns nil.
//
// A lone writer commits at once. Writers that arrive while another is in flight are
// group-committed (see groupCommit: one transaction and one fsync for up to
// BatchSize of them), so fn may run more than once, when another call in its group
// fails: it must derive everything from tx.
func (s *Store) Update(ctx context.Context, fn func(hotline.Tx) error) error {
	alone := s.writers.Add(1) == 1
	defer s.writers.Add(-1)
	if alone {
		return s.write(ctx, s.db.Update, fn)
	}
	return s.write(ctx, s.groupCommit, fn)
}

// write runs fn through bbolt's Update or Batch.
func (s *Store) write(ctx context.Context, commit func(func(*bolt.Tx) error) error, fn func(hotline.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var fnErr error
	var shreds []shred
	var newKeys map[keyRef]cipher.AEAD
	var deleted bool
	err := commit(func(btx *bolt.Tx) error {
		t := &tx{tx: btx, keys: s.keys, cache: s.cache, gen: s.cache.convs.generation()}
		fnErr = fn(t)
		t.tx = nil
		shreds, newKeys, deleted = t.shreds, t.newKeys, t.deleted
		return fnErr
	})
	if deleted {
		// Rolled back or not: what the cache holds of deleted records goes.
		s.cache.clear()
	}
	if err != nil && err == fnErr {
		return err
	}
	if err == nil && len(newKeys) > 0 {
		s.keys.remember(newKeys)
	}
	if err == nil && len(shreds) > 0 {
		err = s.shred(shreds)
	}
	return storeError("update", err)
}

// View runs fn in a read-only transaction. Everything it reads is decoded into fresh
// values, safe to keep after fn returns.
func (s *Store) View(ctx context.Context, fn func(hotline.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var fnErr error
	err := s.db.View(func(btx *bolt.Tx) error {
		t := &tx{tx: btx, keys: s.keys, cache: s.cache, gen: s.cache.convs.generation()}
		fnErr = fn(t)
		t.tx = nil
		return fnErr
	})
	if err != nil && err == fnErr {
		return err
	}
	return storeError("view", err)
}

// storeError maps an error from bbolt or the file system. Domain errors pass as they
// are; failures that mean the store cannot write now (a closed database, a full or
// read-only disk, an I/O error) become EUNAVAILABLE, keeping the underlying text for
// operators; anything else is wrapped and so counts as EINTERNAL.
func storeError(op string, err error) error {
	var he *hotline.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return err
	case errors.Is(err, berrors.ErrDatabaseNotOpen),
		errors.Is(err, berrors.ErrDatabaseReadOnly),
		errors.Is(err, berrors.ErrMaxSizeReached),
		errors.Is(err, berrors.ErrTimeout),
		errors.Is(err, syscall.ENOSPC),
		errors.Is(err, syscall.EDQUOT),
		errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.EIO),
		errors.Is(err, os.ErrClosed):
		// The message reaches webhook and console callers; the cause, which names the
		// database file, only the server log.
		return &hotline.Error{Code: hotline.EUNAVAILABLE, Err: fmt.Errorf("store %s: %w", op, err),
			Message: "The hotline cannot store anything right now (its disk is full or failing); try again shortly."}
	}
	return fmt.Errorf("store %s: %w", op, err)
}
