package hotline_test

import (
	"context"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// TestLegalHoldsList: coordinators list the held conversations (only those), the
// list follows a hold placed and one released, a purge keeps the held one listed,
// and responders may not list them.
func TestLegalHoldsList(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := context.Background()
	coordinator := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Username: "coord", Role: hotline.RoleCoordinator}}
	responder := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Role: hotline.RoleResponder}}
	held := func() []hotline.ID {
		t.Helper()
		list, err := f.ret.Holds(ctx, coordinator)
		if err != nil {
			t.Fatal(err)
		}
		var ids []hotline.ID
		for _, c := range list {
			if !c.LegalHold {
				t.Errorf("listed %s without a hold", c.ID)
			}
			ids = append(ids, c.ID)
		}
		return ids
	}
	if got := held(); len(got) != 1 || got[0] != f.held {
		t.Errorf("holds = %v, want only %s", got, f.held)
	}
	if _, err := f.ret.Holds(ctx, responder); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder listing holds = %v, want EFORBIDDEN", err)
	}
	if _, err := f.ret.SetLegalHold(ctx, coordinator, f.stillOpen, true, "investigation"); err != nil {
		t.Fatal(err)
	}
	if got := held(); len(got) != 2 || got[0] != f.held || got[1] != f.stillOpen {
		t.Errorf("holds after a second = %v, want %s then %s", got, f.held, f.stillOpen)
	}
	if _, err := f.ret.Purge(ctx, coordinator, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ret.SetLegalHold(ctx, coordinator, f.stillOpen, false, ""); err != nil {
		t.Fatal(err)
	}
	if got := held(); len(got) != 1 || got[0] != f.held {
		t.Errorf("holds after the purge and a release = %v, want only %s", got, f.held)
	}
}
