package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/hotlinehq/hotline/hotline"
)

var _ hotline.Store = (*Store)(nil)

// Defaults for Options, chosen by BenchmarkBatch (see bench_test.go for the figures).
const (
	DefaultLockTimeout = 3 * time.Second
	DefaultBatchDelay  = 2 * time.Millisecond
	DefaultBatchSize   = 1000
)

// Options tune how a Store is opened. The zero value is the production default.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another process
	// (default 3s).
	LockTimeout time.Duration
	// BatchDelay is how long Update waits for other writers to join its group
	// commit (default DefaultBatchDelay).
	BatchDelay time.Duration
	// BatchSize is the most Update calls committed together (default
	// DefaultBatchSize).
	BatchSize int
	// NoSync skips fsync on commit. It loses data on a crash: tests only.
	NoSync bool
}

// Store is the bbolt implementation of hotline.Store. One process owns the file.
// It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
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
	s := &Store{db: db, path: path}
	if err := s.migrate(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the file. Transactions still running finish first.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return storeError("close", err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Update runs fn in a read-write transaction and commits it when fn returns nil.
// Concurrent calls are group-committed with bbolt's Batch, so fn may run more than
// once (when another call in its group fails): it must derive everything from tx.
func (s *Store) Update(ctx context.Context, fn func(hotline.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var fnErr error
	err := s.db.Batch(func(btx *bolt.Tx) error {
		t := &tx{tx: btx}
		fnErr = fn(t)
		t.tx = nil
		return fnErr
	})
	if err != nil && err == fnErr {
		return err
	}
	return storeError("update", err)
}

// update runs fn alone in a read-write transaction, without group commit.
func (s *Store) update(ctx context.Context, fn func(hotline.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var fnErr error
	err := s.db.Update(func(btx *bolt.Tx) error {
		t := &tx{tx: btx}
		fnErr = fn(t)
		t.tx = nil
		return fnErr
	})
	if err != nil && err == fnErr {
		return err
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
		t := &tx{tx: btx}
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
		return hotline.Errorf(hotline.EUNAVAILABLE, "store %s: %v", op, err)
	}
	return fmt.Errorf("store %s: %w", op, err)
}
