package hotline_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

func TestDashboard(t *testing.T) {
	svc, clock, _ := newService(t)
	ctx := context.Background()
	responder := hotline.User{ID: hotline.NewID(t0), Username: "ana", DisplayName: "Ana", Role: hotline.RoleResponder,
		Capacity: 3, Availability: hotline.AvailabilityAvailable}
	if err := svc.Store().Update(ctx, func(tx hotline.Tx) error { return tx.PutUser(responder) }); err != nil {
		t.Fatal(err)
	}
	// Yesterday: one answered after 2 minutes and closed; one closed unanswered.
	answered, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550101", "hello"))
	clock.Advance(2 * time.Minute)
	_ = svc.Accept(ctx, responder.Actor(), answered.ConversationID)
	if _, err := svc.Reply(ctx, responder.Actor(), answered.ConversationID, "hi"); err != nil {
		t.Fatal(err)
	}
	_ = svc.Close(ctx, responder.Actor(), answered.ConversationID, "", nil)
	unanswered, _ := svc.ReceiveInbound(ctx, inbound("SM2", "+14155550102", "hello"))
	_ = svc.Accept(ctx, responder.Actor(), unanswered.ConversationID)
	_ = svc.Close(ctx, responder.Actor(), unanswered.ConversationID, "", nil)
	// Today: an urgent texter and a normal one wait; Ana holds one conversation.
	clock.Advance(24 * time.Hour)
	normal, _ := svc.ReceiveInbound(ctx, inbound("SM3", "+14155550103", "hello"))
	clock.Advance(time.Minute)
	urgent, _ := svc.ReceiveInbound(ctx, inbound("SM4", "+14155550104", "he took my passport"))
	held, _ := svc.ReceiveInbound(ctx, inbound("SM5", "+14155550105", "hello"))
	_ = svc.Accept(ctx, responder.Actor(), held.ConversationID)
	clock.Advance(4 * time.Minute)

	d := hotline.NewDashboard(svc, time.UTC, func(context.Context, time.Time) ([]hotline.ID, bool, error) {
		return []hotline.ID{responder.ID}, false, nil
	})
	if _, err := d.Stats(ctx, hotline.Caller{User: responder}); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder's dashboard = %v, want EFORBIDDEN", err)
	}
	st, err := d.Stats(ctx, hotline.OperatorCaller("test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Waiting) != 2 || st.Waiting[0].ConversationID != urgent.ConversationID || st.Waiting[1].ConversationID != normal.ConversationID {
		t.Errorf("waiting = %+v, want the urgent texter first", st.Waiting)
	}
	if st.LongestWait != 5*time.Minute {
		t.Errorf("longest wait = %v, want 5m", st.LongestWait)
	}
	if len(st.Responders) != 1 || st.Responders[0].Open != 1 || st.Responders[0].OnCall == nil || !*st.Responders[0].OnCall {
		t.Errorf("responders = %+v", st.Responders)
	}
	if st.FirstReplyCount != 1 || st.FirstReplyMedian != 2*time.Minute || st.FirstReplyP90 != 2*time.Minute {
		t.Errorf("first reply: %d, median %v, p90 %v; want 1, 2m, 2m", st.FirstReplyCount, st.FirstReplyMedian, st.FirstReplyP90)
	}
	if st.ClosedWithoutReply != 1 || st.WindowConversations != 5 {
		t.Errorf("closed without reply %d, in window %d; want 1 and 5", st.ClosedWithoutReply, st.WindowConversations)
	}
	if len(st.TextsPerHour) != 168 {
		t.Fatalf("texts per hour has %d entries, want 168", len(st.TextsPerHour))
	}
	in, out := 0, 0
	for _, h := range st.TextsPerHour {
		in, out = in+h.Inbound, out+h.Outbound
	}
	if in != 5 || out < 6 { // five welcomes and a reply at least
		t.Errorf("texts in the window: %d in, %d out", in, out)
	}
	total := 0
	for _, b := range st.WaitDistribution {
		total += b.Count
	}
	if total != 5 || st.WaitDistribution[1].Count != 1 { // "1–5 min"
		t.Errorf("wait distribution = %+v", st.WaitDistribution)
	}
}
