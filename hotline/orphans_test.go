package hotline_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

func orphan(t *testing.T, svc *hotline.Service, sid string) (hotline.OrphanStatus, bool) {
	t.Helper()
	var o hotline.OrphanStatus
	var found bool
	err := svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		var err error
		o, err = tx.OrphanStatus(sid)
		if hotline.IsNotFound(err) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, found
}

func TestRecordStatus_UnknownSIDIsKept(t *testing.T) {
	svc, clock, _ := newService(t)
	err := svc.RecordStatus(t.Context(), hotline.StatusUpdate{SID: "SMearly", Status: hotline.StatusSent})
	if !hotline.IsNotFound(err) {
		t.Fatalf("RecordStatus for an unknown SID = %v, want ENOTFOUND", err)
	}
	clock.Advance(time.Second)
	_ = svc.RecordStatus(t.Context(), hotline.StatusUpdate{SID: "SMearly", Status: hotline.StatusDelivered, DoneAt: "2503141200"})
	clock.Advance(time.Second)
	_ = svc.RecordStatus(t.Context(), hotline.StatusUpdate{SID: "SMearly", Status: hotline.StatusSent}) // late and out of order
	o, ok := orphan(t, svc, "SMearly")
	want := hotline.OrphanStatus{Update: hotline.StatusUpdate{SID: "SMearly", Status: hotline.StatusDelivered, DoneAt: "2503141200"}, ReceivedAt: t0}
	if !ok || o.Update != want.Update || !o.ReceivedAt.Equal(want.ReceivedAt) {
		t.Errorf("kept %+v, %v; want %+v: the furthest status, aged from the first report", o, ok, want)
	}
}

func TestPruneOrphanStatuses(t *testing.T) {
	svc, clock, _ := newService(t)
	_ = svc.RecordStatus(t.Context(), hotline.StatusUpdate{SID: "SMold", Status: hotline.StatusDelivered})
	clock.Advance(23 * time.Hour)
	_ = svc.RecordStatus(t.Context(), hotline.StatusUpdate{SID: "SMnew", Status: hotline.StatusDelivered})
	clock.Advance(2 * time.Hour)
	n, err := svc.PruneOrphanStatuses(t.Context(), 0)
	if err != nil || n != 1 {
		t.Fatalf("PruneOrphanStatuses = %d, %v; want 1, nil", n, err)
	}
	if _, ok := orphan(t, svc, "SMold"); ok {
		t.Error("the day-old report is still kept")
	}
	if _, ok := orphan(t, svc, "SMnew"); !ok {
		t.Error("the recent report was pruned")
	}
}

// TestDispatcher_AppliesAStatusThatCameFirst: the provider's callback beats its
// answer to the send; recording the SID applies what the callback said.
func TestDispatcher_AppliesAStatusThatCameFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		update hotline.StatusUpdate
		want   hotline.Status
	}{
		{"delivered", hotline.StatusUpdate{Status: hotline.StatusDelivered}, hotline.StatusDelivered},
		{"opted out at the carrier", hotline.StatusUpdate{Status: hotline.StatusFailed, ErrorCode: hotline.TwilioErrorOptedOut}, hotline.StatusFailed},
		{"a sent that adds nothing", hotline.StatusUpdate{Status: hotline.StatusSent}, hotline.StatusSent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h *dispatchHarness
			sender := &outboxSender{SendFunc: func(ctx context.Context, _ hotline.OutboundText) (hotline.SendReceipt, error) {
				u := tc.update
				u.SID = "SMfast"
				if err := h.svc.RecordStatus(ctx, u); !hotline.IsNotFound(err) {
					t.Errorf("the early callback got %v, want ENOTFOUND", err)
				}
				return hotline.SendReceipt{SID: "SMfast", Status: hotline.StatusSent}, nil
			}}
			h = newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
			h.run()
			res := h.inbound("+15555550199", "hello")
			waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
			m := h.outbound(res.ConversationID)[0]
			if m.Status != tc.want || m.TwilioSID != "SMfast" || m.ErrorCode != tc.update.ErrorCode {
				t.Errorf("welcome = %s, SID %q, error %d; want %s, SMfast, %d", m.Status, m.TwilioSID, m.ErrorCode, tc.want, tc.update.ErrorCode)
			}
			if got, want := h.contact(res.ConversationID).OptedOut, tc.update.ErrorCode == hotline.TwilioErrorOptedOut; got != want {
				t.Errorf("opted out = %v, want %v", got, want)
			}
			if _, ok := orphan(t, h.svc, "SMfast"); ok {
				t.Error("the report is still kept after it was applied")
			}
		})
	}
}
