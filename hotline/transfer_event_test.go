package hotline_test

import (
	"context"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// TestApplyTransferNamesTheRecipient: the machine records whom a transfer went to on
// the thread event (the console names them), and nobody for one back to the queue.
func TestApplyTransferNamesTheRecipient(t *testing.T) {
	p := hotline.DefaultPolicy()
	th := hotline.Thread{Contact: contact(), Conversation: conv(hotline.StateActive)}
	_, effects, err := hotline.Apply(th, hotline.Transfer{By: alice, To: bob.ID}, t0, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := recordedEvents(effects); len(got) != 1 || got[0].Target != bob.ID {
		t.Errorf("transfer to bob records %+v, want one event with Target %s", got, bob.ID)
	}
	_, effects, err = hotline.Apply(th, hotline.Transfer{By: alice}, t0, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := recordedEvents(effects); len(got) != 1 || !hotline.IsZeroID(got[0].Target) {
		t.Errorf("transfer to the queue records %+v, want one event naming nobody", got)
	}
}

func recordedEvents(effects []hotline.Effect) []hotline.RecordEvent {
	var out []hotline.RecordEvent
	for _, e := range effects {
		if r, ok := e.(hotline.RecordEvent); ok {
			out = append(out, r)
		}
	}
	return out
}

// TestAccess_TransferEventKeepsWhoAndToWhom: the stored system event of a transfer
// says who transferred (AuthorID) and to whom (TargetID).
func TestAccess_TransferEventKeepsWhoAndToWhom(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	id := f.text(t, "+14155550131", "help")
	if err := f.access.Accept(ctx, f.ana, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.accounts.SetAvailability(ctx, f.bo, hotline.AvailabilityAvailable); err != nil {
		t.Fatal(err)
	}
	if err := f.access.Transfer(ctx, f.ana, id, f.bo.User.ID, ""); err != nil {
		t.Fatal(err)
	}
	tr, err := f.access.Transcript(ctx, f.coord, id)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range tr.Messages {
		if m.Direction == hotline.DirectionSystem && m.TargetID == f.bo.User.ID {
			found = true
			if m.AuthorID != f.ana.User.ID {
				t.Errorf("the transfer event's author = %s, want ana %s", m.AuthorID, f.ana.User.ID)
			}
		}
	}
	if !found {
		t.Errorf("no system event names bo as the recipient in %+v", tr.Messages)
	}
}
