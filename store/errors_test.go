package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/hotlinehq/hotline/hotline"
)

func TestStoreError(t *testing.T) {
	conflict := hotline.Errorf(hotline.ECONFLICT, "taken")
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"nil", nil, ""},
		{"domain error passes as it is", conflict, hotline.ECONFLICT},
		{"disk full", &fs.PathError{Op: "write", Path: "/data/hotline.db", Err: syscall.ENOSPC}, hotline.EUNAVAILABLE},
		{"quota", fmt.Errorf("grow: %w", syscall.EDQUOT), hotline.EUNAVAILABLE},
		{"read-only file system", &fs.PathError{Op: "sync", Path: "/data/hotline.db", Err: syscall.EROFS}, hotline.EUNAVAILABLE},
		{"I/O error", fmt.Errorf("fdatasync: %w", syscall.EIO), hotline.EUNAVAILABLE},
		{"closed database", berrors.ErrDatabaseNotOpen, hotline.EUNAVAILABLE},
		{"read-only database", berrors.ErrDatabaseReadOnly, hotline.EUNAVAILABLE},
		{"closed file", os.ErrClosed, hotline.EUNAVAILABLE},
		{"anything else is internal", errors.New("decode contact record: syntax error"), hotline.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeError("update", tt.err)
			if code := hotline.ErrorCode(got); code != tt.code {
				t.Errorf("code = %q, want %q", code, tt.code)
			}
			if tt.err == nil {
				return
			}
			if tt.code == hotline.EUNAVAILABLE {
				// Callers (Twilio, the console) get a plain message without the file's
				// path; the server log gets what failed, through the error chain.
				if msg := hotline.ErrorMessage(got); strings.Contains(msg, "/data") || strings.Contains(msg, "store update") {
					t.Errorf("message %q shows the cause to callers", msg)
				}
				if !errors.Is(got, tt.err) || !strings.Contains(got.Error(), "store update: "+tt.err.Error()) {
					t.Errorf("storeError(%v) = %v, which does not keep the cause for the log", tt.err, got)
				}
			} else if !errors.Is(got, tt.err) {
				t.Errorf("storeError(%v) = %v, which does not wrap it", tt.err, got)
			}
		})
	}
}
