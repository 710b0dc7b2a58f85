package store_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestOutbox(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	putThread(t, s, c, conv)

	// Two replies in a conversation, and a page to a responder, which has no message.
	var entries []hotline.OutboxEntry
	mustUpdate(t, s, func(tx hotline.Tx) error {
		entries = entries[:0]
		for i := range 2 {
			m := newMessage(conv, 10+i, "")
			m.Direction, m.Status = hotline.DirectionOutbound, hotline.StatusQueued
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			entries = append(entries, hotline.OutboxEntry{ID: m.ID, ConversationID: conv.ID, To: c.Address, Body: m.Body,
				Status: hotline.StatusQueued, NextAttemptAt: at(10 + i), CreatedAt: at(10 + i)})
		}
		entries = append(entries, hotline.OutboxEntry{ID: hotline.NewID(at(20)), To: "+14155550000", Body: "A texter is waiting.",
			Status: hotline.StatusSending, Attempts: 2, NextAttemptAt: at(30), SendingSince: at(25), LastError: "timeout", CreatedAt: at(20)})
		// Written newest first: Outbox orders by ID.
		for _, e := range slices.Backward(entries) {
			if err := tx.PutOutbox(e); err != nil {
				return err
			}
		}
		return nil
	})

	var got []hotline.OutboxEntry
	mustView(t, s, func(tx hotline.ReadTx) error {
		for _, want := range entries {
			e, err := tx.OutboxEntry(want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, want) {
				t.Errorf("OutboxEntry =\n%+v\nwant\n%+v", e, want)
			}
		}
		return tx.Outbox(func(e hotline.OutboxEntry) error {
			got = append(got, e)
			return nil
		})
	})
	if !reflect.DeepEqual(got, entries) {
		t.Errorf("Outbox = %+v, want %+v (oldest first)", got, entries)
	}

	var stopped int
	mustView(t, s, func(tx hotline.ReadTx) error {
		return tx.Outbox(func(hotline.OutboxEntry) error { stopped++; return hotline.ErrStop })
	})
	if stopped != 1 {
		t.Errorf("Outbox ran fn %d times after ErrStop, want 1", stopped)
	}

	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.DeleteOutbox(entries[0].ID) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.OutboxEntry(entries[0].ID)
		wantCode(t, "OutboxEntry after delete", err, hotline.ENOTFOUND)
		return nil
	})
	err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeleteOutbox(entries[0].ID) })
	wantCode(t, "DeleteOutbox twice", err, hotline.ENOTFOUND)
	err = s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutOutbox(hotline.OutboxEntry{}) })
	wantCode(t, "PutOutbox without ID", err, hotline.EINVALID)
}
