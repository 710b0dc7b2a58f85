package store_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestMessage_RoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	in := newMessage(conv, 3, "SM00000000000000000000000000000001")
	in.Media = []hotline.Media{{URL: "https://api.twilio.com/media/1", ContentType: "image/jpeg"}}
	in.Extra = map[string]string{"FromCity": "Oakland"}
	out := hotline.Message{
		ID: hotline.NewID(at(4)), ConversationID: conv.ID, Direction: hotline.DirectionOutbound,
		Body: "We're here. You are safe to text.", Purpose: hotline.PurposeReply, AuthorID: hotline.NewID(t0),
		Segments: 1, Status: hotline.StatusFailed, ErrorCode: 30003, ErrorMessage: "Unreachable destination handset",
		CreatedAt: at(4), UpdatedAt: at(5),
	}
	putThread(t, s, c, conv)
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutMessage(in); err != nil {
			return err
		}
		return tx.PutMessage(out)
	})

	mustView(t, s, func(tx hotline.ReadTx) error {
		for i, want := range []hotline.Message{in, out} {
			got, err := tx.Message(conv.ID, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The store chains each new message (chain.go): the nth is entry n.
			if got.Chain.Seq != uint64(i+1) || got.Chain.Hash.IsZero() || len(got.Chain.Nonce) != 16 {
				t.Errorf("Message %d chain link = %+v, want entry %d with a hash and a nonce", i, got.Chain, i+1)
			}
			got.Chain = hotline.ChainLink{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Message =\n%+v\nwant\n%+v", got, want)
			}
		}
		got, err := tx.MessageBySID(in.TwilioSID)
		if err != nil {
			t.Fatal(err)
		}
		got.Chain = hotline.ChainLink{}
		if !reflect.DeepEqual(got, in) {
			t.Errorf("MessageBySID =\n%+v\nwant\n%+v", got, in)
		}
		return nil
	})
}

func TestMessage_NotFound(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	m := newMessage(conv, 3, "SM1")
	putThread(t, s, c, conv)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutMessage(m) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.Message(conv.ID, hotline.NewID(t0))
		wantCode(t, "Message(unknown ID)", err, hotline.ENOTFOUND)
		_, err = tx.Message(hotline.NewID(t0), m.ID)
		wantCode(t, "Message(other conversation)", err, hotline.ENOTFOUND)
		_, err = tx.MessageBySID("SM2")
		wantCode(t, "MessageBySID", err, hotline.ENOTFOUND)
		_, err = tx.MessageBySID("")
		wantCode(t, "MessageBySID empty", err, hotline.ENOTFOUND)
		_, _, err = tx.MessageIDBySID("SM2")
		wantCode(t, "MessageIDBySID", err, hotline.ENOTFOUND)
		_, _, err = tx.MessageIDBySID("")
		wantCode(t, "MessageIDBySID empty", err, hotline.ENOTFOUND)
		return nil
	})
}

// TestMessageIDBySID: the SID index answers with the message's conversation and ID,
// in read and in write transactions, and follows the SID when it changes.
func TestMessageIDBySID(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	m := newMessage(conv, 3, "SM1")
	putThread(t, s, c, conv)
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if _, _, err := tx.MessageIDBySID("SM1"); !hotline.IsNotFound(err) {
			t.Errorf("MessageIDBySID before PutMessage: %v, want ENOTFOUND", err)
		}
		if err := tx.PutMessage(m); err != nil {
			return err
		}
		convID, id, err := tx.MessageIDBySID("SM1")
		if err != nil || convID != conv.ID || id != m.ID {
			t.Errorf("MessageIDBySID in the writing transaction = %s %s, %v; want %s %s", convID, id, err, conv.ID, m.ID)
		}
		return nil
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		convID, id, err := tx.MessageIDBySID("SM1")
		if err != nil || convID != conv.ID || id != m.ID {
			t.Errorf("MessageIDBySID = %s %s, %v; want %s %s", convID, id, err, conv.ID, m.ID)
		}
		return nil
	})
	m.TwilioSID = "SM1b"
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutMessage(m) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, _, err := tx.MessageIDBySID("SM1")
		wantCode(t, "MessageIDBySID(old SID)", err, hotline.ENOTFOUND)
		if _, id, err := tx.MessageIDBySID("SM1b"); err != nil || id != m.ID {
			t.Errorf("MessageIDBySID(new SID) = %s, %v; want %s", id, err, m.ID)
		}
		return nil
	})
}

// TestPutMessage_SIDIndex follows an outbound text: queued without a SID, then given
// one when Twilio accepts it.
func TestPutMessage_SIDIndex(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	m := newMessage(conv, 3, "")
	m.Direction, m.Status = hotline.DirectionOutbound, hotline.StatusQueued
	putThread(t, s, c, conv)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutMessage(m) })

	m.TwilioSID, m.Status = "SMaccepted", hotline.StatusSent
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutMessage(m) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		got, err := tx.MessageBySID("SMaccepted")
		if err != nil || got.ID != m.ID || got.Status != hotline.StatusSent {
			t.Errorf("MessageBySID = %v %v, %v; want message %s, sent", got.ID, got.Status, err, m.ID)
		}
		return nil
	})

	m.TwilioSID = "SMreplaced"
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutMessage(m) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.MessageBySID("SMaccepted")
		wantCode(t, "old SID", err, hotline.ENOTFOUND)
		return nil
	})

	other := newMessage(conv, 4, "SMreplaced")
	err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutMessage(other) })
	wantCode(t, "another message's SID", err, hotline.ECONFLICT)
}

func TestPutMessage_Rejects(t *testing.T) {
	s := storetest.MustOpen(t)
	conv := newConversation(newContact(1), 2)
	noID, noConv := newMessage(conv, 3, ""), newMessage(conv, 4, "")
	noID.ID, noConv.ConversationID = hotline.ID{}, hotline.ID{}
	for name, m := range map[string]hotline.Message{"zero ID": noID, "no conversation": noConv} {
		err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutMessage(m) })
		wantCode(t, name, err, hotline.EINVALID)
	}
}

func TestMessages_After(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv, other := newConversation(c, 2), newConversation(c, 3)
	var thread []hotline.ID
	mustUpdate(t, s, func(tx hotline.Tx) error {
		for _, err := range []error{tx.PutContact(c), tx.PutConversation(conv), tx.PutConversation(other)} {
			if err != nil {
				return err
			}
		}
		for i := range 5 {
			// The other conversation's messages interleave in time with this one's.
			if err := tx.PutMessage(newMessage(other, 10+2*i, "")); err != nil {
				return err
			}
			m := newMessage(conv, 11+2*i, "")
			thread = append(thread, m.ID)
			if err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return nil
	})

	tests := []struct {
		name  string
		conv  hotline.ID
		after hotline.ID
		stop  int // return ErrStop after this many; 0 never
		want  []hotline.ID
	}{
		{"from the first", conv.ID, hotline.ID{}, 0, thread},
		{"after the second", conv.ID, thread[1], 0, thread[2:]},
		{"after the last", conv.ID, thread[4], 0, nil},
		{"after an ID between messages", conv.ID, hotline.NewID(at(12)), 0, thread[1:]},
		{"stopped", conv.ID, hotline.ID{}, 2, thread[:2]},
		{"unknown conversation", hotline.NewID(t0), hotline.ID{}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []hotline.ID
			mustView(t, s, func(tx hotline.ReadTx) error {
				return tx.Messages(tt.conv, tt.after, func(m hotline.Message) error {
					if m.ConversationID != tt.conv {
						t.Errorf("message %s of conversation %s in %s's thread", m.ID, m.ConversationID, tt.conv)
					}
					got = append(got, m.ID)
					if len(got) == tt.stop {
						return hotline.ErrStop
					}
					return nil
				})
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("Messages = %v, want %v", got, tt.want)
			}
		})
	}
}
