// Package storetest opens throwaway stores for tests.
package storetest

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hotlinehq/hotline/store"
)

// MustOpen opens a new store in tb.TempDir(), without fsync for speed. When the test
// ends it runs the store's consistency check, failing the test on any problem, and
// closes the store.
//
// With HOTLINE_TEST_ENCRYPT=1 in the environment the store is encrypted at rest
// under a random master key, so that any package's tests can be run against an
// encrypted store: HOTLINE_TEST_ENCRYPT=1 go test ./...
func MustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	opts := store.Options{NoSync: true}
	if os.Getenv("HOTLINE_TEST_ENCRYPT") == "1" {
		opts.MasterKey = make([]byte, store.MasterKeySize)
		rand.Read(opts.MasterKey)
	}
	s, err := store.Open(filepath.Join(tb.TempDir(), "hotline.db"), opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	opened.Store(s, opts)
	tb.Cleanup(func() {
		defer opened.Delete(s)
		problems, err := s.Check(context.Background())
		if err != nil {
			tb.Errorf("check store: %v", err)
		}
		for _, p := range problems {
			tb.Errorf("store inconsistency: %s", p)
		}
		if err := s.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return s
}

// opened holds the options each open store was opened with.
var opened sync.Map // *store.Store → store.Options

// Options returns the options MustOpen opened s with (its master key, when
// encrypted), so that a test can open a copy of s, such as a backup, the same way.
// KeysPath is left empty: the copy's keystore is beside it.
func Options(tb testing.TB, s *store.Store) store.Options {
	tb.Helper()
	opts, ok := opened.Load(s)
	if !ok {
		tb.Fatal("storetest.Options: the store was not opened by MustOpen")
	}
	return opts.(store.Options)
}
