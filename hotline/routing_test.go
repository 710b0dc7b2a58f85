package hotline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

func TestChooseResponder(t *testing.T) {
	ids := make([]hotline.ID, 5)
	for i := range ids {
		ids[i] = hotline.NewID(t0.Add(time.Duration(i) * time.Millisecond))
	}
	base := func(i int) hotline.Candidate {
		return hotline.Candidate{ID: ids[i], Languages: []string{"en"}, Capacity: 3, OnCall: true, Available: true}
	}
	with := func(c hotline.Candidate, f func(*hotline.Candidate)) hotline.Candidate { f(&c); return c }
	tests := []struct {
		name        string
		cands       []hotline.Candidate
		lang        string
		anyLanguage bool
		exclude     []hotline.ID
		want        int // index into ids; -1 for nobody
	}{
		{"the only eligible responder", []hotline.Candidate{base(0)}, "en", false, nil, 0},
		{"not on call", []hotline.Candidate{with(base(0), func(c *hotline.Candidate) { c.OnCall = false })}, "en", false, nil, -1},
		{"away", []hotline.Candidate{with(base(0), func(c *hotline.Candidate) { c.Available = false })}, "en", false, nil, -1},
		{"at capacity", []hotline.Candidate{with(base(0), func(c *hotline.Candidate) { c.Open = 3 })}, "en", false, nil, -1},
		{"fewest open conversations wins", []hotline.Candidate{
			with(base(0), func(c *hotline.Candidate) { c.Open = 2 }),
			with(base(1), func(c *hotline.Candidate) { c.Open = 1 }),
		}, "en", false, nil, 1},
		{"then the longest idle", []hotline.Candidate{
			with(base(0), func(c *hotline.Candidate) { c.LastAssignedAt = t0.Add(time.Hour) }),
			with(base(1), func(c *hotline.Candidate) { c.LastAssignedAt = t0 }),
		}, "en", false, nil, 1},
		{"never assigned is idle longest", []hotline.Candidate{
			with(base(0), func(c *hotline.Candidate) { c.LastAssignedAt = t0 }),
			base(1),
		}, "en", false, nil, 1},
		{"language: only a Spanish speaker", []hotline.Candidate{
			base(0),
			with(base(1), func(c *hotline.Candidate) { c.Languages = []string{"en", "ES"}; c.Open = 2 }),
		}, "es", false, nil, 1},
		{"language: nobody speaks it yet", []hotline.Candidate{base(0)}, "pt", false, nil, -1},
		{"language fallback after the wait", []hotline.Candidate{base(0)}, "pt", true, nil, 0},
		{"an offer that lapsed goes to the next", []hotline.Candidate{base(0), with(base(1), func(c *hotline.Candidate) { c.Open = 1 })}, "en", false, []hotline.ID{ids[0]}, 1},
	}
	for _, tt := range tests {
		got, ok := hotline.ChooseResponder(tt.cands, tt.lang, tt.anyLanguage, tt.exclude)
		switch {
		case tt.want < 0 && ok:
			t.Errorf("%s: chose %v, want nobody", tt.name, got)
		case tt.want >= 0 && (!ok || got != ids[tt.want]):
			t.Errorf("%s: chose %v (%v), want %v", tt.name, got, ok, ids[tt.want])
		}
	}
}

func TestQueueOrder(t *testing.T) {
	mk := func(p hotline.Priority, waited time.Duration) hotline.Conversation {
		return hotline.Conversation{ID: hotline.NewID(t0), Priority: p, WaitingSince: t0.Add(-waited)}
	}
	oldNormal, newNormal := mk(hotline.PriorityNormal, time.Hour), mk(hotline.PriorityNormal, time.Minute)
	oldUrgent, newUrgent := mk(hotline.PriorityUrgent, 30*time.Minute), mk(hotline.PriorityUrgent, time.Second)
	q := []hotline.Conversation{newNormal, oldNormal, newUrgent, oldUrgent}
	slices.SortFunc(q, func(a, b hotline.Conversation) int {
		if hotline.QueueLess(a, b) {
			return -1
		}
		if hotline.QueueLess(b, a) {
			return 1
		}
		return 0
	})
	want := []hotline.ID{oldUrgent.ID, newUrgent.ID, oldNormal.ID, newNormal.ID}
	for i := range want {
		if q[i].ID != want[i] {
			t.Fatalf("queue position %d = %v, want urgent first then oldest first", i, q[i].ID)
		}
	}
}
