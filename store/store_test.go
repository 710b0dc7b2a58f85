package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestOpen_CreatesPrivateDirAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "hotline.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700 | os.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
}

// TestOpen_Locked opens one file twice in one process. bbolt's flock belongs to the
// open file description, so the second Open waits just as another process would.
func TestOpen_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	first, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	const timeout = 200 * time.Millisecond
	start := time.Now()
	second, err := store.Open(path, store.Options{LockTimeout: timeout, NoSync: true})
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	wantCode(t, "second Open", err, hotline.EUNAVAILABLE)
	want := "open " + path + ": the database file is locked by another process (is another hotline running with the same data_dir?)"
	if got := hotline.ErrorMessage(err); got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	// bbolt retries the lock every 50ms and stops one retry short of the timeout.
	if elapsed < timeout-60*time.Millisecond || elapsed > timeout+time.Second {
		t.Errorf("second Open gave up after %v, want about %v", elapsed, timeout)
	}
}

func TestOpen_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c := newContact(1)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutContact(c) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.Contact(c.ID)
		return err
	})
}

func TestClosedStore_Unavailable(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutContact(newContact(1)) })
	wantCode(t, "Update after Close", err, hotline.EUNAVAILABLE)
	err = s.View(t.Context(), func(hotline.ReadTx) error { return nil })
	wantCode(t, "View after Close", err, hotline.EUNAVAILABLE)
	_, err = s.Stats(t.Context())
	wantCode(t, "Stats after Close", err, hotline.EUNAVAILABLE)
}

func TestCanceledContext(t *testing.T) {
	s := storetest.MustOpen(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	if err := s.Update(ctx, func(hotline.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update = %v, want context.Canceled", err)
	}
	if err := s.View(ctx, func(hotline.ReadTx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View = %v, want context.Canceled", err)
	}
	if ran {
		t.Error("fn ran although the context was canceled")
	}
}

func TestUpdate_ErrorRollsBack(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conflict := hotline.Errorf(hotline.ECONFLICT, "taken")
	err := s.Update(t.Context(), func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		return conflict
	})
	if err != conflict {
		t.Errorf("Update = %v, want fn's own error", err)
	}
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.Contact(c.ID)
		wantCode(t, "Contact after rollback", err, hotline.ENOTFOUND)
		return nil
	})
}

// TestUpdate_Concurrent runs 20 writers at once, every third of which fails: the
// group commit must keep the others' writes and none of the failures'.
func TestUpdate_Concurrent(t *testing.T) {
	s := storetest.MustOpen(t)
	const writers = 20
	contacts := make([]hotline.Contact, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		contacts[i] = newContact(i)
		wg.Go(func() {
			conv := newConversation(contacts[i], 100+i)
			errs[i] = s.Update(t.Context(), func(tx hotline.Tx) error {
				if err := tx.PutContact(contacts[i]); err != nil {
					return err
				}
				if err := tx.PutConversation(conv); err != nil {
					return err
				}
				if err := tx.PutMessage(newMessage(conv, 200+i, fmt.Sprintf("SM%d", i))); err != nil {
					return err
				}
				if i%3 == 0 {
					return hotline.Errorf(hotline.ECONFLICT, "writer %d fails", i)
				}
				return nil
			})
		})
	}
	wg.Wait()

	mustView(t, s, func(tx hotline.ReadTx) error {
		for i, c := range contacts {
			_, err := tx.Contact(c.ID)
			if i%3 == 0 {
				wantCode(t, fmt.Sprintf("writer %d", i), errs[i], hotline.ECONFLICT)
				wantCode(t, fmt.Sprintf("contact of failed writer %d", i), err, hotline.ENOTFOUND)
			} else if errs[i] != nil || err != nil {
				t.Errorf("writer %d: Update = %v, Contact = %v; want both nil", i, errs[i], err)
			}
		}
		return nil
	})
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Messages, int64(writers-7); got != want {
		t.Errorf("Stats.Messages = %d, want %d", got, want)
	}
}

// TestView_ValuesOutliveTransaction reads values, then grows the file so that bbolt
// remaps it: values that aliased the old map would now be garbage.
func TestView_ValuesOutliveTransaction(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	m := newMessage(conv, 3, "SMkeep")
	m.Media = []hotline.Media{{URL: "https://example.com/a.jpg", ContentType: "image/jpeg"}}
	putThread(t, s, c, conv)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutMessage(m) })

	var got hotline.Message
	var gotContact hotline.Contact
	mustView(t, s, func(tx hotline.ReadTx) error {
		var err error
		if gotContact, err = tx.Contact(c.ID); err != nil {
			return err
		}
		got, err = tx.Message(conv.ID, m.ID)
		return err
	})
	big := strings.Repeat("x", 1500)
	for i := range 20 {
		mustUpdate(t, s, func(tx hotline.Tx) error {
			for j := range 200 {
				msg := newMessage(conv, 10+i*200+j, "")
				msg.Body = big
				if err := tx.PutMessage(msg); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if got.Body != m.Body || got.TwilioSID != m.TwilioSID || got.Media[0].URL != m.Media[0].URL || gotContact.Handle != c.Handle {
		t.Errorf("values changed after their transaction: %+v", got)
	}
}

func TestStats(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	waiting, active := newConversation(c, 2), newConversation(c, 3)
	active.State, active.WaitingSince = hotline.StateActive, time.Time{}
	m := newMessage(active, 4, "")
	mustUpdate(t, s, func(tx hotline.Tx) error {
		for _, err := range []error{
			tx.PutContact(c), tx.PutConversation(waiting), tx.PutConversation(active),
			tx.PutMessage(m), tx.PutMessage(newMessage(waiting, 5, "")),
			tx.PutOutbox(hotline.OutboxEntry{ID: m.ID, ConversationID: active.ID, To: c.Address}),
			// Writing a record again does not count it twice.
			tx.PutContact(c), tx.PutConversation(active), tx.PutMessage(m),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := store.Stats{Contacts: 1, Conversations: 2, Messages: 2, Outbox: 1, Queue: 1, SizeBytes: got.SizeBytes, SchemaVersion: store.SchemaVersion()}
	if got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got.SizeBytes <= 0 {
		t.Errorf("Stats.SizeBytes = %d, want the file size", got.SizeBytes)
	}
}
