package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

// TestDeleteConversationLeavesNothingBehind purges one of two conversations of a
// texter: its messages, their SIDs, its outbox entry and its index entries go, the
// other conversation and the contact stay, the counters follow, and the store checks
// clean (storetest runs Check at the end).
func TestDeleteConversationLeavesNothingBehind(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	old := hotline.Conversation{ID: hotline.NewID(at(1)), ContactID: c.ID, Handle: c.Handle, State: hotline.StateClosed,
		CreatedAt: at(1), ClosedAt: at(2)}
	live := hotline.Conversation{ID: hotline.NewID(at(3)), ContactID: c.ID, Handle: c.Handle, State: hotline.StateWaiting,
		Priority: hotline.PriorityNormal, CreatedAt: at(3), WaitingSince: at(3), InactiveAt: at(3).Add(time.Hour)}
	var oldMsgs []hotline.Message
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		for _, conv := range []hotline.Conversation{old, live} {
			if err := tx.PutConversation(conv); err != nil {
				return err
			}
		}
		for i := range 3 {
			m := hotline.Message{ID: hotline.NewID(at(1 + i)), ConversationID: old.ID, Direction: hotline.DirectionInbound,
				Body: "words", TwilioSID: fmt.Sprintf("SMold%d", i), Status: hotline.StatusReceived, CreatedAt: at(1 + i)}
			if i == 2 {
				m.Direction, m.Status = hotline.DirectionOutbound, hotline.StatusQueued
				if err := tx.PutOutbox(hotline.OutboxEntry{ID: m.ID, ConversationID: old.ID, To: c.Address, Body: m.Body}); err != nil {
					return err
				}
			}
			oldMsgs = append(oldMsgs, m)
			if err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return tx.PutMessage(hotline.Message{ID: hotline.NewID(at(3)), ConversationID: live.ID, Direction: hotline.DirectionInbound,
			TwilioSID: "SMlive", Status: hotline.StatusReceived, CreatedAt: at(3)})
	})
	before, _ := s.Stats(t.Context())
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.DeleteConversation(old.ID) })
	after, _ := s.Stats(t.Context())
	if before.Conversations-after.Conversations != 1 || before.Messages-after.Messages != 3 || after.Contacts != before.Contacts || after.Outbox != 0 {
		t.Errorf("stats before %+v, after %+v: want one conversation, three messages and the outbox entry gone", before, after)
	}
	mustView(t, s, func(tx hotline.ReadTx) error {
		if _, err := tx.Conversation(old.ID); !hotline.IsNotFound(err) {
			t.Errorf("the purged conversation: %v", err)
		}
		for _, m := range oldMsgs {
			if _, err := tx.MessageBySID(m.TwilioSID); !hotline.IsNotFound(err) {
				t.Errorf("SID %s still found: %v", m.TwilioSID, err)
			}
		}
		if latest, err := tx.LatestConversation(c.ID); err != nil || latest.ID != live.ID {
			t.Errorf("latest conversation = %v, %v; want the live one", latest.ID, err)
		}
		return nil
	})
	// The texter still has a conversation: the contact cannot go yet.
	err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeleteContact(c.ID) })
	if hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Errorf("DeleteContact with a conversation left = %v, want ECONFLICT", err)
	}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.DeleteConversation(live.ID); err != nil {
			return err
		}
		return tx.DeleteContact(c.ID)
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		if _, err := tx.ContactByAddress(c.Address); !hotline.IsNotFound(err) {
			t.Errorf("the deleted contact's address still finds it: %v", err)
		}
		if _, err := tx.ContactByHandle(c.Handle); !hotline.IsNotFound(err) {
			t.Errorf("the deleted contact's handle still finds it: %v", err)
		}
		return nil
	})
	err = s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeleteConversation(old.ID) })
	if !hotline.IsNotFound(err) {
		t.Errorf("deleting twice = %v, want ENOTFOUND", err)
	}
}

func TestHourlyCountsFollowNewMessagesOnly(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := hotline.Conversation{ID: hotline.NewID(at(0)), ContactID: c.ID, State: hotline.StateActive, CreatedAt: at(0)}
	h0 := t0.Truncate(time.Hour)
	msgs := []hotline.Message{
		{Direction: hotline.DirectionInbound, CreatedAt: h0.Add(time.Minute)},
		{Direction: hotline.DirectionOutbound, CreatedAt: h0.Add(2 * time.Minute)},
		{Direction: hotline.DirectionNote, CreatedAt: h0.Add(3 * time.Minute)},
		{Direction: hotline.DirectionInbound, CreatedAt: h0.Add(3 * time.Hour)},
	}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		if err := tx.PutConversation(conv); err != nil {
			return err
		}
		for i := range msgs {
			msgs[i].ID, msgs[i].ConversationID = hotline.NewID(msgs[i].CreatedAt), conv.ID
			if err := tx.PutMessage(msgs[i]); err != nil {
				return err
			}
		}
		msgs[1].Status = hotline.StatusDelivered // an update is not a new text
		return tx.PutMessage(msgs[1])
	})
	var got []hotline.HourCount
	mustView(t, s, func(tx hotline.ReadTx) error {
		return tx.HourlyCounts(h0, h0.Add(4*time.Hour), func(h hotline.HourCount) error { got = append(got, h); return nil })
	})
	want := []hotline.HourCount{{Hour: h0, Inbound: 1, Outbound: 1}, {Hour: h0.Add(3 * time.Hour), Inbound: 1}}
	if len(got) != len(want) || !got[0].Hour.Equal(want[0].Hour) || got[0].Inbound != 1 || got[0].Outbound != 1 ||
		!got[1].Hour.Equal(want[1].Hour) || got[1].Inbound != 1 || got[1].Outbound != 0 {
		t.Errorf("hourly counts = %+v, want %+v", got, want)
	}
}

func TestAPITokensAndTextsRoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	u := hotline.User{ID: hotline.NewID(t0), Username: "coord", Role: hotline.RoleCoordinator}
	tok := hotline.APIToken{ID: hotline.NewID(t0), Hash: hotline.HashToken("hlt_x"), UserID: u.ID, Name: "nightly", CreatedAt: t0}
	texts := map[string]hotline.Texts{"en": {Welcome: "Hi", Help: "Help"}}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if err := tx.PutAPIToken(tok); err != nil {
			return err
		}
		return tx.PutStoredTexts(texts)
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		got, err := tx.APIToken(tok.Hash)
		if err != nil || got.ID != tok.ID || got.Name != "nightly" || got.UserID != u.ID || !got.CreatedAt.Equal(t0) {
			t.Errorf("APIToken = %+v, %v", got, err)
		}
		stored, ok, err := tx.StoredTexts()
		if err != nil || !ok || stored["en"].Welcome != "Hi" {
			t.Errorf("StoredTexts = %v, %v, %v", stored, ok, err)
		}
		return nil
	})
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.DeleteAPIToken(tok.Hash); err != nil {
			return err
		}
		return tx.PutStoredTexts(nil)
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		if _, err := tx.APIToken(tok.Hash); !hotline.IsNotFound(err) {
			t.Errorf("revoked token: %v", err)
		}
		if _, ok, _ := tx.StoredTexts(); ok {
			t.Error("texts still stored after an empty put")
		}
		return nil
	})
}

// TestDeletePageLeavesNothingBehind deletes a page record: the record and its entry
// in the per-user index go (the user's newest page is then the one before), and the
// store checks clean.
func TestDeletePageLeavesNothingBehind(t *testing.T) {
	s := storetest.MustOpen(t)
	user := hotline.NewID(at(1))
	first := hotline.PageRecord{ID: hotline.NewID(at(1)), UserID: user, Audience: hotline.PageOnCall, Waiting: 1, Body: "hotline: 1 texter waiting", CreatedAt: at(1)}
	second := first
	second.ID, second.CreatedAt = hotline.NewID(at(2)), at(2)
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutPage(first); err != nil {
			return err
		}
		return tx.PutPage(second)
	})
	lastPage := func() (hotline.ID, bool) {
		var id hotline.ID
		var ok bool
		err := s.View(t.Context(), func(tx hotline.ReadTx) error {
			p, found, err := tx.LastPage(user)
			id, ok = p.ID, found
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return id, ok
	}
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.DeletePage(second.ID) })
	if id, ok := lastPage(); !ok || id != first.ID {
		t.Errorf("last page after deleting the newest = %v, %v; want the first", id, ok)
	}
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.DeletePage(first.ID) })
	if id, ok := lastPage(); ok {
		t.Errorf("last page after deleting both = %v, want none", id)
	}
	n := 0
	err := s.View(t.Context(), func(tx hotline.ReadTx) error {
		return tx.Pages(hotline.ID{}, func(hotline.PageRecord) error { n++; return nil })
	})
	if err != nil || n != 0 {
		t.Errorf("pages left = %d, %v; want none", n, err)
	}
	err = s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeletePage(first.ID) })
	if !hotline.IsNotFound(err) {
		t.Errorf("deleting a page twice: %v, want ENOTFOUND", err)
	}
}
