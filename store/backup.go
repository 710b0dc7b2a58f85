package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hotlinehq/hotline/hotline"
)

// Backup writes a consistent snapshot of the database to w while the store keeps
// serving (bbolt's Tx.WriteTo in a read transaction), and returns the bytes written.
// Writers are not blocked; the snapshot is the state when Backup began. Cancelling
// ctx stops the copy.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.View(ctx, func(rt hotline.ReadTx) error {
		var err error
		n, err = rt.(*tx).tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// BackupToFile writes a snapshot to path atomically: to a temporary file in the same
// directory, synced to disk, then renamed over path. A reader of path sees either the
// previous backup or the complete new one.
func (s *Store) BackupToFile(ctx context.Context, path string) (err error) {
	if abs, _ := filepath.Abs(path); abs != "" {
		if own, _ := filepath.Abs(s.path); own == abs {
			return hotline.Errorf(hotline.EINVALID, "backup: %s is the live database; choose another path", path)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return storeError("backup", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return storeError("backup", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := s.Backup(ctx, f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return storeError("backup", err)
	}
	if err := f.Close(); err != nil {
		return storeError("backup", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return storeError("backup", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return storeError("backup", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return storeError("backup", err)
	}
	return nil
}

// ctxWriter fails writes once ctx is done, so that a long backup can be cancelled.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
