//go:build !linux

package store

import (
	bolt "go.etcd.io/bbolt"
)

// releaseMapped does nothing outside Linux (ReleaseMappedPages).
func releaseMapped(*bolt.Tx) error { return nil }
