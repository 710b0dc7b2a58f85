package store_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestSchedulesRoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	ana := hotline.User{ID: hotline.NewID(at(0)), Username: "ana", Role: hotline.RoleResponder}
	rot := hotline.Rotation{ID: hotline.NewID(at(1)), ResponderID: ana.ID, Weekdays: []time.Weekday{time.Monday, time.Friday},
		Start: 18 * 60, End: 2 * 60, From: at(0), Until: at(86400 * 90)}
	ov := hotline.Override{ID: hotline.NewID(at(2)), ResponderID: ana.ID, Kind: hotline.OverrideOff, Start: at(100), End: at(200), Note: "dentist"}
	cl := hotline.Closure{ID: hotline.NewID(at(3)), Start: at(300), End: at(400), Reason: "holiday"}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		for _, err := range []error{tx.PutUser(ana), tx.PutRotation(rot), tx.PutOverride(ov), tx.PutClosure(cl)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		gotRot, err := tx.Rotation(rot.ID)
		if err != nil || gotRot.ResponderID != ana.ID || !slices.Equal(gotRot.Weekdays, rot.Weekdays) || gotRot.Start != rot.Start ||
			gotRot.End != rot.End || !gotRot.From.Equal(rot.From) || !gotRot.Until.Equal(rot.Until) {
			t.Errorf("Rotation = %+v, %v; want %+v", gotRot, err, rot)
		}
		gotOv, err := tx.Override(ov.ID)
		if err != nil || gotOv.Kind != ov.Kind || gotOv.Note != "dentist" || !gotOv.Start.Equal(ov.Start) || !gotOv.End.Equal(ov.End) {
			t.Errorf("Override = %+v, %v", gotOv, err)
		}
		gotCl, err := tx.Closure(cl.ID)
		if err != nil || gotCl.Reason != "holiday" || !gotCl.End.Equal(cl.End) {
			t.Errorf("Closure = %+v, %v", gotCl, err)
		}
		n := 0
		for _, iter := range []func() error{
			func() error { return tx.Rotations(func(hotline.Rotation) error { n++; return nil }) },
			func() error { return tx.Overrides(func(hotline.Override) error { n++; return nil }) },
			func() error { return tx.Closures(func(hotline.Closure) error { n++; return nil }) },
		} {
			if err := iter(); err != nil {
				return err
			}
		}
		if n != 3 {
			t.Errorf("listed %d schedule records, want 3", n)
		}
		_, err = tx.Rotation(hotline.NewID(at(9)))
		wantCode(t, "an unknown rotation", err, hotline.ENOTFOUND)
		return nil
	})
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.DeleteOverride(ov.ID); err != nil {
			return err
		}
		wantCode(t, "deleting it twice", tx.DeleteOverride(ov.ID), hotline.ENOTFOUND)
		wantCode(t, "a rotation without an ID", tx.PutRotation(hotline.Rotation{}), hotline.EINVALID)
		return nil
	})
}

// TestAssigneeIndexFollowsTheConversation moves a conversation through offer,
// acceptance, transfer and close, and checks the index of open conversations per
// assignee at each step (Check, at cleanup, verifies it matches both ways).
func TestAssigneeIndexFollowsTheConversation(t *testing.T) {
	s := storetest.MustOpen(t)
	ana, bo := hotline.NewID(at(0)), hotline.NewID(at(1))
	c := newContact(1)
	conv := newConversation(c, 1)
	putThread(t, s, c, conv)
	counts := func() map[hotline.ID]int {
		var m map[hotline.ID]int
		mustView(t, s, func(tx hotline.ReadTx) error {
			var err error
			m, err = tx.OpenCounts()
			return err
		})
		return m
	}
	assigned := func(u hotline.ID) []hotline.ID {
		var ids []hotline.ID
		mustView(t, s, func(tx hotline.ReadTx) error {
			return tx.AssignedTo(u, func(id hotline.ID) error { ids = append(ids, id); return nil })
		})
		return ids
	}
	steps := []struct {
		name  string
		state hotline.State
		to    hotline.ID
		want  map[hotline.ID]int
	}{
		{"waiting", hotline.StateWaiting, hotline.ID{}, map[hotline.ID]int{}},
		{"offered to ana", hotline.StateAssigned, ana, map[hotline.ID]int{ana: 1}},
		{"answered by ana", hotline.StateActive, ana, map[hotline.ID]int{ana: 1}},
		{"transferred to bo", hotline.StateAssigned, bo, map[hotline.ID]int{bo: 1}},
		{"closed by bo", hotline.StateClosed, bo, map[hotline.ID]int{}},
	}
	for _, st := range steps {
		conv.State, conv.AssigneeID = st.state, st.to
		if st.state == hotline.StateClosed {
			conv.ClosedAt, conv.InactiveAt = at(100), time.Time{}
		}
		mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutConversation(conv) })
		if got := counts(); !maps.Equal(got, st.want) {
			t.Errorf("%s: OpenCounts = %v, want %v", st.name, got, st.want)
		}
		if got := assigned(st.to); st.want[st.to] == 1 && !slices.Equal(got, []hotline.ID{conv.ID}) {
			t.Errorf("%s: AssignedTo = %v, want %v", st.name, got, conv.ID)
		}
	}
}

func TestPagesNewestPerUser(t *testing.T) {
	s := storetest.MustOpen(t)
	ana, bo := hotline.User{ID: hotline.NewID(at(0)), Username: "ana", Role: hotline.RoleResponder},
		hotline.User{ID: hotline.NewID(at(0)), Username: "bo", Role: hotline.RoleResponder}
	var pages []hotline.PageRecord
	for i, u := range []hotline.ID{ana.ID, bo.ID, ana.ID, bo.ID, ana.ID} {
		pages = append(pages, hotline.PageRecord{ID: hotline.NewID(at(10 * i)), UserID: u, Audience: hotline.PageOnCall,
			Waiting: i + 1, Body: "hotline: texters waiting", CreatedAt: at(10 * i)})
	}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutUser(ana); err != nil {
			return err
		}
		if err := tx.PutUser(bo); err != nil {
			return err
		}
		for _, p := range pages {
			if err := tx.PutPage(p); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		for _, tt := range []struct {
			user hotline.ID
			want hotline.ID
		}{{ana.ID, pages[4].ID}, {bo.ID, pages[3].ID}} {
			got, ok, err := tx.LastPage(tt.user)
			if err != nil || !ok || got.ID != tt.want || got.Waiting == 0 {
				t.Errorf("LastPage(%v) = %+v, %v, %v; want %v", tt.user, got, ok, err, tt.want)
			}
		}
		if _, ok, err := tx.LastPage(hotline.NewID(at(99))); ok || err != nil {
			t.Errorf("LastPage of someone never paged = %v, %v", ok, err)
		}
		var newestFirst []hotline.ID
		if err := tx.Pages(hotline.ID{}, func(p hotline.PageRecord) error { newestFirst = append(newestFirst, p.ID); return nil }); err != nil {
			return err
		}
		if len(newestFirst) != 5 || newestFirst[0] != pages[4].ID || newestFirst[4] != pages[0].ID {
			t.Errorf("Pages = %v, want newest first", newestFirst)
		}
		var older []hotline.ID
		if err := tx.Pages(pages[2].ID, func(p hotline.PageRecord) error { older = append(older, p.ID); return nil }); err != nil {
			return err
		}
		if !slices.Equal(older, []hotline.ID{pages[1].ID, pages[0].ID}) {
			t.Errorf("Pages before the third = %v, want the two older", older)
		}
		return nil
	})
}
