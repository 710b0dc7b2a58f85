package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/store/storetest"
)

// TestBackup_UnderConcurrentWrites takes a backup while writers keep writing: the
// copy opens, checks clean and holds a consistent prefix of the writes.
func TestBackup_UnderConcurrentWrites(t *testing.T) {
	s := storetest.MustOpen(t)
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := w*1_000_000 + i
				c := newContact(n)
				conv := newConversation(c, n)
				err := s.Update(t.Context(), func(tx hotline.Tx) error {
					for _, err := range []error{tx.PutContact(c), tx.PutConversation(conv), tx.PutMessage(newMessage(conv, n, ""))} {
						if err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		})
	}
	for written.Load() < 50 { // let the writers get going
		time.Sleep(time.Millisecond)
	}
	path := filepath.Join(t.TempDir(), "backups", "hotline-backup.db")
	err := s.BackupToFile(t.Context(), path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	if s.Encrypted() {
		// An encrypted backup opens only with its keystore, copied on its own.
		copyKeys(t, s, store.DefaultKeysPath(path))
	}
	b, err := store.Open(path, storetest.Options(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	problems, err := b.Check(t.Context())
	if err != nil || len(problems) != 0 {
		t.Errorf("Check of the backup = %q, %v; want no problems", problems, err)
	}
	st, err := b.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Contacts < 50 || st.Contacts != st.Conversations || st.Conversations != st.Messages {
		t.Errorf("backup holds %d contacts, %d conversations, %d messages; want equal counts of at least 50", st.Contacts, st.Conversations, st.Messages)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestBackup_ToWriter(t *testing.T) {
	s := storetest.MustOpen(t)
	var buf bytes.Buffer
	n, err := s.Backup(t.Context(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(buf.Len()), n; got != want || n == 0 {
		t.Errorf("Backup wrote %d bytes and returned %d", got, want)
	}
}

func TestBackupToFile_RefusesTheLiveFile(t *testing.T) {
	s := storetest.MustOpen(t)
	err := s.BackupToFile(t.Context(), s.Path())
	wantCode(t, "BackupToFile(own path)", err, hotline.EINVALID)
}

func TestBackup_Canceled(t *testing.T) {
	s := storetest.MustOpen(t)
	ctx, cancel := contextWithCancel(t)
	cancel()
	path := filepath.Join(t.TempDir(), "b.db")
	if err := s.BackupToFile(ctx, path); err == nil {
		t.Error("BackupToFile with a canceled context succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("canceled backup left %s behind", path)
	}
}

// copyKeys writes s's keystore to path.
func copyKeys(t *testing.T, s *store.Store, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BackupKeys(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
