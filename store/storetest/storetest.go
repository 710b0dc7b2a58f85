// Package storetest opens throwaway stores for tests.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hotlinehq/hotline/store"
)

// MustOpen opens a new store in tb.TempDir(), without fsync for speed. When the test
// ends it runs the store's consistency check, failing the test on any problem, and
// closes the store.
func MustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "hotline.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
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
