package hotline_test

import (
	"context"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// The thread says who transferred a conversation; events of the texter and the
// hotline name nobody.
func TestThreadEventsNameTheResponder(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	res, err := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Accept(ctx, alice, res.ConversationID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Transfer(ctx, alice, res.ConversationID, hotline.ID{}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReceiveInbound(ctx, inbound("SM2", "+14155550100", "STOP")); err != nil {
		t.Fatal(err)
	}
	_, msgs, _ := thread(t, svc, res.ConversationID)
	var transferred, optedOut bool
	for _, m := range msgs {
		if m.Direction != hotline.DirectionSystem {
			continue
		}
		switch m.Body {
		case "Transferred back to the queue.":
			transferred = true
			if m.AuthorID != alice.ID {
				t.Errorf("%q by %v, want alice", m.Body, m.AuthorID)
			}
		default:
			optedOut = optedOut || !hotline.IsZeroID(m.AuthorID)
		}
	}
	if !transferred {
		t.Errorf("no transfer event in %v", directions(msgs))
	}
	if optedOut {
		t.Error("an event of the texter names a responder")
	}
}
