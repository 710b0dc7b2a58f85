package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// openTest opens a store for white-box tests, which may break it on purpose: unlike
// storetest.MustOpen it does not check the store at the end.
func openTest(tb testing.TB, opts Options) *Store {
	tb.Helper()
	opts.NoSync = true
	s, err := Open(filepath.Join(tb.TempDir(), "hotline.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// raw changes the file behind the store's back.
func raw(tb testing.TB, s *Store, fn func(*bolt.Tx) error) {
	tb.Helper()
	if err := s.db.Update(fn); err != nil {
		tb.Fatal(err)
	}
}

var testTime = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// fixture stores a contact, a waiting conversation with a deadline, an outbound
// message with a SID and its outbox entry.
func fixture(tb testing.TB, s *Store) (hotline.Contact, hotline.Conversation, hotline.Message) {
	tb.Helper()
	c := hotline.Contact{ID: hotline.NewID(testTime), Address: "+14155550100", Handle: "T-1000"}
	conv := hotline.Conversation{ID: hotline.NewID(testTime), ContactID: c.ID, State: hotline.StateWaiting,
		Priority: hotline.PriorityNormal, WaitingSince: testTime, InactiveAt: testTime.Add(time.Hour)}
	m := hotline.Message{ID: hotline.NewID(testTime), ConversationID: conv.ID, Direction: hotline.DirectionOutbound,
		Body: "secret words", TwilioSID: "SM1", Status: hotline.StatusSent}
	err := s.Update(tb.Context(), func(tx hotline.Tx) error {
		for _, err := range []error{tx.PutContact(c), tx.PutConversation(conv), tx.PutMessage(m),
			tx.PutOutbox(hotline.OutboxEntry{ID: m.ID, ConversationID: conv.ID, To: c.Address, Body: m.Body})} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c, conv, m
}

func contextWithTimeout(tb testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.Context(), d)
}
