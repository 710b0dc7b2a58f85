package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// releaseStore returns a store (encrypted when asked) holding convs conversations of
// perConv messages with bodies of about 1 KiB, and the messages it holds by
// conversation.
func releaseStore(tb testing.TB, encrypted bool, convs, perConv int) (*store.Store, []hotline.Conversation, map[hotline.ID][]hotline.Message) {
	tb.Helper()
	opts := store.Options{NoSync: true}
	if encrypted {
		opts.MasterKey = make([]byte, store.MasterKeySize)
		rand.Read(opts.MasterKey)
	}
	s, err := store.Open(filepath.Join(tb.TempDir(), "hotline.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	var list []hotline.Conversation
	written := map[hotline.ID][]hotline.Message{}
	for i := range convs {
		c := newContact(i * (perConv + 1))
		conv := newConversation(c, i*(perConv+1))
		list = append(list, conv)
		mustUpdate(tb, s, func(tx hotline.Tx) error {
			written[conv.ID] = written[conv.ID][:0]
			if err := tx.PutContact(c); err != nil {
				return err
			}
			if err := tx.PutConversation(conv); err != nil {
				return err
			}
			for j := range perConv {
				m := newMessage(conv, i*(perConv+1)+1+j, fmt.Sprintf("SM%08d%08d", i, j))
				m.Body = fmt.Sprintf("%d/%d ", i, j) + strings.Repeat("they took my passport. ", 45)
				if err := tx.PutMessage(m); err != nil {
					return err
				}
				written[conv.ID] = append(written[conv.ID], m)
			}
			return nil
		})
	}
	return s, list, written
}

// readAll reads every message of convs and fails unless they are the ones written
// (ID, SID and body).
func readAll(tb testing.TB, s *store.Store, convs []hotline.Conversation, want map[hotline.ID][]hotline.Message) {
	tb.Helper()
	for _, c := range convs {
		var got []hotline.Message
		err := s.View(context.Background(), func(tx hotline.ReadTx) error {
			got = got[:0]
			return tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
				got = append(got, m)
				return nil
			})
		})
		if err != nil {
			tb.Fatal(err)
		}
		w := want[c.ID]
		if len(got) != len(w) {
			tb.Fatalf("conversation %s: read %d messages, want %d", c.ID, len(got), len(w))
		}
		for i := range got {
			if got[i].ID != w[i].ID || got[i].TwilioSID != w[i].TwilioSID || got[i].Body != w[i].Body {
				tb.Fatalf("conversation %s, message %d: read %s %q %.20q…, want %s %q %.20q…", c.ID, i,
					got[i].ID, got[i].TwilioSID, got[i].Body, w[i].ID, w[i].TwilioSID, w[i].Body)
			}
		}
	}
}

// ReleaseMappedPages may run while other goroutines read (and write): they read the
// same records before and after, on every system (it does nothing outside Linux).
func TestReleaseMappedPages_ConcurrentReadersReadTheSame(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			s, convs, written := releaseStore(t, encrypted, 8, 60)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := s.ReleaseMappedPages(); err != nil {
						t.Errorf("ReleaseMappedPages: %v", err)
						return
					}
				}
			})
			// A writer grows the file meanwhile, so that bbolt may remap it.
			wg.Go(func() {
				for i := range 20 {
					c := newContact(100000 + i)
					conv := newConversation(c, 100000+i)
					if err := s.Update(context.Background(), func(tx hotline.Tx) error {
						if err := tx.PutContact(c); err != nil {
							return err
						}
						if err := tx.PutConversation(conv); err != nil {
							return err
						}
						m := newMessage(conv, 100000+i, "")
						m.Body = strings.Repeat("x", 64<<10)
						return tx.PutMessage(m)
					}); err != nil {
						t.Errorf("Update: %v", err)
						return
					}
				}
			})
			for range 3 {
				readAll(t, s, convs, written)
			}
			close(stop)
			wg.Wait()
			if err := s.ReleaseMappedPages(); err != nil {
				t.Fatal(err)
			}
			readAll(t, s, convs, written)
		})
	}
}

func TestReleaseMappedPages_ClosedStore(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.ReleaseMappedPages(); err == nil {
		t.Errorf("ReleaseMappedPages of a closed store: no error")
	}
}
