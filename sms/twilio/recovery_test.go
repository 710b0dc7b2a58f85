package twilio_test

import (
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
)

// TestRecovery_IngestsWhatTheWebhookMissed: Twilio lists a text the store lacks (the
// server was down when Twilio posted it). Recovery stores it exactly once, however
// often it runs, and moves the checkpoint past it.
func TestRecovery_IngestsWhatTheWebhookMissed(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{})
	received := time.Now().UTC().Truncate(time.Second).Add(-10 * time.Minute)
	h.fake.Add(faketwilio.Message{SID: "SMseen", From: "+14155550111", To: testFrom, Body: "first", Direction: "inbound", Created: received.Add(-time.Minute)})
	h.fake.Add(faketwilio.Message{SID: "SMmissed", From: "+14155550112", To: testFrom, Body: "please help", Direction: "inbound", Created: received})
	h.inbound("SMseen", "+14155550111", "first") // this one the webhook did deliver

	for run := 1; run <= 2; run++ {
		n, err := h.svc.RecoverMissedInbound(t.Context(), h.sender)
		if err != nil {
			t.Fatalf("run %d: RecoverMissedInbound: %v", run, err)
		}
		if want := map[int]int{1: 1, 2: 0}[run]; n != want {
			t.Errorf("run %d ingested %d texts, want %d", run, n, want)
		}
	}
	var m hotline.Message
	var checkpoint time.Time
	err := h.store.View(t.Context(), func(tx hotline.ReadTx) error {
		var err error
		if m, err = tx.MessageBySID("SMmissed"); err != nil {
			return err
		}
		checkpoint, _, err = tx.Checkpoint(hotline.CheckpointInboundRecovery)
		return err
	})
	if err != nil {
		t.Fatalf("the missed text is not stored: %v", err)
	}
	if m.Body != "please help" || m.Direction != hotline.DirectionInbound || m.Extra[hotline.ExtraRecovered] != "true" ||
		m.Extra[hotline.ExtraReceivedAt] != received.Format(time.RFC3339) {
		t.Errorf("stored %+v, want the text marked as recovered and received at %s", m, received.Format(time.RFC3339))
	}
	if checkpoint.Before(received) {
		t.Errorf("checkpoint = %v, want at least the newest text's time %v", checkpoint, received)
	}
	// The texter is answered like any other: the welcome is queued for them.
	if out := h.outbound(m.ConversationID); len(out) != 1 || out[0].Purpose != hotline.PurposeWelcome {
		t.Errorf("outbound after recovery = %+v, want the welcome", out)
	}
	if n := len(h.fake.Creates()); n != 0 {
		t.Errorf("recovery made %d create requests", n)
	}
}
