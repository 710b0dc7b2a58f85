package store_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestConversation_RoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	conv.State, conv.Priority = hotline.StateActive, hotline.PriorityUrgent
	conv.TriageTerms, conv.Tags = []string{"hurt"}, []string{"trafficking"}
	conv.AssigneeID = hotline.NewID(at(0))
	conv.Responders = []hotline.ID{hotline.NewID(at(0)), conv.AssigneeID}
	conv.WaitingSince, conv.FirstResponseAt = time.Time{}, at(30)
	conv.Disposition = "referred"
	putThread(t, s, c, conv)

	mustView(t, s, func(tx hotline.ReadTx) error {
		got, err := tx.Conversation(conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, conv) {
			t.Errorf("Conversation =\n%+v\nwant\n%+v", got, conv)
		}
		return nil
	})
}

func TestConversation_NotFound(t *testing.T) {
	s := storetest.MustOpen(t)
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.Conversation(hotline.NewID(t0))
		wantCode(t, "Conversation", err, hotline.ENOTFOUND)
		_, err = tx.LatestConversation(hotline.NewID(t0))
		wantCode(t, "LatestConversation", err, hotline.ENOTFOUND)
		return nil
	})
}

func TestLatestConversation(t *testing.T) {
	s := storetest.MustOpen(t)
	// Three contacts whose IDs interleave, so that a wrong seek would find a neighbour.
	a, b, c := newContact(1), newContact(2), newContact(3)
	old := newConversation(b, 10)
	old.State, old.WaitingSince = hotline.StateClosed, time.Time{}
	latest := newConversation(b, 20)
	putThread(t, s, a, newConversation(a, 30))
	putThread(t, s, b, old)
	putThread(t, s, b, latest)
	putThread(t, s, c, newConversation(c, 5))

	mustView(t, s, func(tx hotline.ReadTx) error {
		got, err := tx.LatestConversation(b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != latest.ID {
			t.Errorf("LatestConversation = %s, want the newer %s", got.ID, latest.ID)
		}
		if got, err := tx.LatestConversation(c.ID); err != nil || got.ContactID != c.ID {
			t.Errorf("LatestConversation(last contact) = %v, %v", got.ContactID, err)
		}
		return nil
	})
}

func TestPutConversation_Rejects(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	tests := []struct {
		name   string
		change func(*hotline.Conversation)
	}{
		{"zero ID", func(c *hotline.Conversation) { c.ID = hotline.ID{} }},
		{"no contact", func(c *hotline.Conversation) { c.ContactID = hotline.ID{} }},
		{"unknown state", func(c *hotline.Conversation) { c.State = "lost" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := newConversation(c, 2)
			tt.change(&conv)
			err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutConversation(conv) })
			wantCode(t, "PutConversation", err, hotline.EINVALID)
		})
	}
}

// TestPutConversation_Indexes follows one conversation through its life and checks
// that the queue and the deadlines follow it. (MustOpen's Check verifies every other
// index at the end.)
func TestPutConversation_Indexes(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	conv := newConversation(c, 2)
	putThread(t, s, c, conv)

	steps := []struct {
		name         string
		change       func(*hotline.Conversation)
		wantQueued   bool
		wantDeadline time.Time
	}{
		{"waiting", func(*hotline.Conversation) {}, true, at(2 + 3600)},
		{"raised to urgent", func(c *hotline.Conversation) { c.Priority = hotline.PriorityUrgent }, true, at(2 + 3600)},
		{"assigned", func(c *hotline.Conversation) {
			c.State, c.WaitingSince, c.AssigneeID = hotline.StateAssigned, time.Time{}, hotline.NewID(t0)
		}, false, at(2 + 3600)},
		{"texter writes again", func(c *hotline.Conversation) { c.InactiveAt = at(7200) }, false, at(7200)},
		{"released to the queue", func(c *hotline.Conversation) {
			c.State, c.WaitingSince, c.AssigneeID = hotline.StateWaiting, at(100), hotline.ID{}
		}, true, at(7200)},
		{"closed", func(c *hotline.Conversation) {
			c.State, c.WaitingSince, c.ClosedAt = hotline.StateClosed, time.Time{}, at(200)
		}, false, time.Time{}},
	}
	for _, step := range steps {
		step.change(&conv)
		mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutConversation(conv) })

		queue := queueIDs(t, s)
		if got, want := len(queue) == 1 && queue[0] == conv.ID, step.wantQueued; got != want {
			t.Errorf("%s: queued = %v (queue %v), want %v", step.name, got, queue, want)
		}
		mustView(t, s, func(tx hotline.ReadTx) error {
			next, ok, err := tx.NextDeadline()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ok, !step.wantDeadline.IsZero(); got != want {
				t.Errorf("%s: has a deadline = %v, want %v", step.name, got, want)
			} else if ok && !next.Equal(step.wantDeadline) {
				t.Errorf("%s: NextDeadline = %v, want %v", step.name, next, step.wantDeadline)
			}
			return nil
		})
	}
}

func TestQueue_UrgentFirstThenOldest(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	// IDs in creation order; waiting times and priorities chosen to disagree with it.
	convs := make([]hotline.Conversation, 5)
	for i := range convs {
		convs[i] = newConversation(c, 10+i)
	}
	convs[0].WaitingSince = at(50)                                            // normal, waiting since 50
	convs[1].WaitingSince, convs[1].Priority = at(40), hotline.PriorityUrgent // urgent, 40
	convs[2].WaitingSince = at(30)                                            // normal, 30
	convs[3].WaitingSince, convs[3].Priority = at(60), hotline.PriorityUrgent // urgent, 60
	convs[4].State, convs[4].WaitingSince = hotline.StateActive, time.Time{}  // not waiting
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		for _, conv := range convs {
			if err := tx.PutConversation(conv); err != nil {
				return err
			}
		}
		return nil
	})

	got := queueIDs(t, s)
	want := []hotline.ID{convs[1].ID, convs[3].ID, convs[2].ID, convs[0].ID}
	if !slices.Equal(got, want) {
		t.Errorf("Queue = %v, want %v (urgent oldest first, then normal oldest first)", got, want)
	}

	// ErrStop ends the walk without an error.
	var seen int
	mustView(t, s, func(tx hotline.ReadTx) error {
		return tx.Queue(func(hotline.Conversation) error {
			seen++
			return hotline.ErrStop
		})
	})
	if seen != 1 {
		t.Errorf("Queue called fn %d times after ErrStop, want 1", seen)
	}
}

func TestDueConversations(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	var convs []hotline.Conversation
	for i, deadline := range []int{300, 100, 200, 400} {
		conv := newConversation(c, 10+i)
		conv.InactiveAt = at(deadline)
		convs = append(convs, conv)
	}
	closed := newConversation(c, 20)
	closed.State, closed.WaitingSince, closed.InactiveAt = hotline.StateClosed, time.Time{}, at(50)
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		for _, conv := range append(convs, closed) {
			if err := tx.PutConversation(conv); err != nil {
				return err
			}
		}
		return nil
	})

	tests := []struct {
		now   time.Time
		limit int
		want  []hotline.ID
	}{
		{at(99), 10, nil},
		{at(100), 10, []hotline.ID{convs[1].ID}}, // at the deadline counts as due
		{at(300), 10, []hotline.ID{convs[1].ID, convs[2].ID, convs[0].ID}},
		{at(1000), 2, []hotline.ID{convs[1].ID, convs[2].ID}},
		{at(1000), 0, []hotline.ID{convs[1].ID, convs[2].ID, convs[0].ID, convs[3].ID}},
	}
	mustView(t, s, func(tx hotline.ReadTx) error {
		for _, tt := range tests {
			got, err := tx.DueConversations(tt.now, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("DueConversations(t0+%v, %d) = %v, want %v", tt.now.Sub(t0), tt.limit, got, tt.want)
			}
		}
		next, ok, err := tx.NextDeadline()
		if err != nil || !ok || !next.Equal(at(100)) {
			t.Errorf("NextDeadline = %v, %v, %v; want t0+100s, true (the closed conversation's timer is ignored)", next, ok, err)
		}
		return nil
	})
}

func TestNextDeadline_None(t *testing.T) {
	s := storetest.MustOpen(t)
	mustView(t, s, func(tx hotline.ReadTx) error {
		if _, ok, err := tx.NextDeadline(); ok || err != nil {
			t.Errorf("NextDeadline on an empty store = %v, %v; want false, nil", ok, err)
		}
		return nil
	})
}

func TestConversations_Filter(t *testing.T) {
	s := storetest.MustOpen(t)
	alice, bob := hotline.NewID(at(0)), hotline.NewID(at(0))
	ca, cb := newContact(1), newContact(2)
	// Conversations in creation order: w1 a-wait, x1 a-assigned(alice), y1 b-active(bob),
	// z1 a-closed, w2 b-wait, y2 a-active(alice).
	w1 := newConversation(ca, 10)
	x1 := newConversation(ca, 11)
	x1.State, x1.WaitingSince, x1.AssigneeID = hotline.StateAssigned, time.Time{}, alice
	y1 := newConversation(cb, 12)
	y1.State, y1.WaitingSince, y1.AssigneeID = hotline.StateActive, time.Time{}, bob
	z1 := newConversation(ca, 13)
	z1.State, z1.WaitingSince = hotline.StateClosed, time.Time{}
	w2 := newConversation(cb, 14)
	y2 := newConversation(ca, 15)
	y2.State, y2.WaitingSince, y2.AssigneeID = hotline.StateActive, time.Time{}, alice
	all := []hotline.Conversation{w1, x1, y1, z1, w2, y2}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		for _, c := range []hotline.Contact{ca, cb} {
			if err := tx.PutContact(c); err != nil {
				return err
			}
		}
		// Written out of order: the result order comes from the IDs.
		for _, i := range []int{5, 2, 0, 4, 1, 3} {
			if err := tx.PutConversation(all[i]); err != nil {
				return err
			}
		}
		return nil
	})

	ids := func(cs ...hotline.Conversation) []hotline.ID {
		var out []hotline.ID
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    hotline.ConversationFilter
		want []hotline.ID
	}{
		{"everything", hotline.ConversationFilter{}, ids(all...)},
		{"one state", hotline.ConversationFilter{States: []hotline.State{hotline.StateWaiting}}, ids(w1, w2)},
		{"open states, merged in ID order", hotline.ConversationFilter{States: []hotline.State{hotline.StateActive, hotline.StateWaiting, hotline.StateAssigned}}, ids(w1, x1, y1, w2, y2)},
		{"assignee", hotline.ConversationFilter{AssigneeID: alice}, ids(x1, y2)},
		{"assignee and state", hotline.ConversationFilter{AssigneeID: alice, States: []hotline.State{hotline.StateActive}}, ids(y2)},
		{"contact", hotline.ConversationFilter{ContactID: cb.ID}, ids(y1, w2)},
		{"contact and state", hotline.ConversationFilter{ContactID: ca.ID, States: []hotline.State{hotline.StateClosed}}, ids(z1)},
		{"after", hotline.ConversationFilter{After: y1.ID}, ids(z1, w2, y2)},
		{"after with state", hotline.ConversationFilter{After: w1.ID, States: []hotline.State{hotline.StateWaiting, hotline.StateActive}}, ids(y1, w2, y2)},
		{"after with contact", hotline.ConversationFilter{After: x1.ID, ContactID: ca.ID}, ids(z1, y2)},
		{"limit", hotline.ConversationFilter{Limit: 2}, ids(w1, x1)},
		{"limit counts matches", hotline.ConversationFilter{AssigneeID: alice, Limit: 1}, ids(x1)},
		{"nothing", hotline.ConversationFilter{ContactID: hotline.NewID(t0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []hotline.ID
			mustView(t, s, func(tx hotline.ReadTx) error {
				return tx.Conversations(tt.f, func(c hotline.Conversation) error {
					got = append(got, c.ID)
					return nil
				})
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("Conversations = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("unknown state", func(t *testing.T) {
		err := s.View(t.Context(), func(tx hotline.ReadTx) error {
			return tx.Conversations(hotline.ConversationFilter{States: []hotline.State{"lost"}}, func(hotline.Conversation) error { return nil })
		})
		wantCode(t, "Conversations", err, hotline.EINVALID)
	})
	t.Run("ErrStop", func(t *testing.T) {
		var n int
		mustView(t, s, func(tx hotline.ReadTx) error {
			return tx.Conversations(hotline.ConversationFilter{}, func(hotline.Conversation) error {
				n++
				return hotline.ErrStop
			})
		})
		if n != 1 {
			t.Errorf("fn ran %d times after ErrStop, want 1", n)
		}
	})
	t.Run("other errors end the walk", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.View(t.Context(), func(tx hotline.ReadTx) error {
			return tx.Conversations(hotline.ConversationFilter{}, func(hotline.Conversation) error { return boom })
		})
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
	})
}

// TestConversations_WritesWhileWalking moves each conversation on (waiting → active
// from the queue, then active → closed) from inside the walk: each must be visited
// exactly once although fn changes the very index being walked.
func TestConversations_WritesWhileWalking(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	var want []hotline.ID
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		for i := range 50 {
			conv := newConversation(c, 10+i)
			want = append(want, conv.ID)
			if err := tx.PutConversation(conv); err != nil {
				return err
			}
		}
		return nil
	})
	for _, walk := range []string{"Queue", "Conversations"} {
		var got []hotline.ID
		mustUpdate(t, s, func(tx hotline.Tx) error {
			got = got[:0]
			closeIt := func(conv hotline.Conversation) error {
				got = append(got, conv.ID)
				if conv.State == hotline.StateWaiting {
					conv.State, conv.WaitingSince = hotline.StateActive, time.Time{}
				} else {
					conv.State, conv.InactiveAt = hotline.StateClosed, time.Time{}
				}
				return tx.PutConversation(conv)
			}
			if walk == "Queue" {
				return tx.Queue(closeIt)
			}
			return tx.Conversations(hotline.ConversationFilter{States: []hotline.State{hotline.StateWaiting, hotline.StateActive}}, closeIt)
		})
		if !slices.Equal(got, want) {
			t.Errorf("%s visited %d conversations, want each of %d once", walk, len(got), len(want))
		}
	}
}
