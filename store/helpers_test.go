package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// t0 is the start of every test's timeline.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func mustUpdate(tb testing.TB, s *store.Store, fn func(hotline.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

func mustView(tb testing.TB, s *store.Store, fn func(hotline.ReadTx) error) {
	tb.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		tb.Fatalf("View: %v", err)
	}
}

// newContact returns a contact first seen at second n, with a distinct address and handle.
func newContact(n int) hotline.Contact {
	return hotline.Contact{
		ID:        hotline.NewID(at(n)),
		Address:   hotline.Address(fmt.Sprintf("+1415555%04d", n)),
		Handle:    fmt.Sprintf("T-%04d", 1000+n),
		Language:  "en",
		FirstSeen: at(n),
		LastSeen:  at(n),
	}
}

// newConversation returns a waiting conversation of the contact, created at second n.
func newConversation(c hotline.Contact, n int) hotline.Conversation {
	return hotline.Conversation{
		ID:            hotline.NewID(at(n)),
		ContactID:     c.ID,
		Handle:        c.Handle,
		State:         hotline.StateWaiting,
		Priority:      hotline.PriorityNormal,
		Language:      "en",
		CreatedAt:     at(n),
		UpdatedAt:     at(n),
		WaitingSince:  at(n),
		LastInboundAt: at(n),
		InactiveAt:    at(n + 3600),
	}
}

// newMessage returns an inbound message of the conversation at second n.
func newMessage(conv hotline.Conversation, n int, sid string) hotline.Message {
	return hotline.Message{
		ID:             hotline.NewID(at(n)),
		ConversationID: conv.ID,
		Direction:      hotline.DirectionInbound,
		Body:           fmt.Sprintf("message %d", n),
		TwilioSID:      sid,
		Segments:       1,
		Status:         hotline.StatusReceived,
		CreatedAt:      at(n),
		UpdatedAt:      at(n),
	}
}

// putThread stores a contact and a conversation.
func putThread(tb testing.TB, s *store.Store, c hotline.Contact, conv hotline.Conversation) {
	tb.Helper()
	mustUpdate(tb, s, func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		return tx.PutConversation(conv)
	})
}

// wantCode fails the test unless err carries the domain error code.
func wantCode(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	if got := hotline.ErrorCode(err); got != code {
		tb.Errorf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// queueIDs returns the queue in order.
func queueIDs(tb testing.TB, s *store.Store) []hotline.ID {
	tb.Helper()
	var ids []hotline.ID
	mustView(tb, s, func(tx hotline.ReadTx) error {
		return tx.Queue(func(c hotline.Conversation) error {
			ids = append(ids, c.ID)
			return nil
		})
	})
	return ids
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
