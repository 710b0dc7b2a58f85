package hotline_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// fakeLister is a hotline.InboundLister that lists what the provider "received" at
// or after since, and remembers each since it was asked for.
type fakeLister struct {
	mu     sync.Mutex
	texts  []hotline.ListedInbound
	err    error
	asked  []time.Time
	before func() // runs before answering
}

func (f *fakeLister) ListInbound(_ context.Context, since time.Time) ([]hotline.ListedInbound, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, since)
	if f.before != nil {
		f.before()
	}
	if f.err != nil {
		return nil, f.err
	}
	var out []hotline.ListedInbound
	for _, l := range f.texts {
		if !l.ReceivedAt.Before(since) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *fakeLister) lastSince() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[len(f.asked)-1]
}

func listed(sid, from, body string, at time.Time) hotline.ListedInbound {
	return hotline.ListedInbound{InboundMessage: inbound(sid, from, body), ReceivedAt: at}
}

func checkpoint(t *testing.T, svc *hotline.Service) (time.Time, bool) {
	t.Helper()
	var cp time.Time
	var ok bool
	err := svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		var err error
		cp, ok, err = tx.Checkpoint(hotline.CheckpointInboundRecovery)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cp, ok
}

func TestRecoverMissedInbound_FirstRunLooksBackADay(t *testing.T) {
	svc, _, _ := newService(t)
	l := &fakeLister{texts: []hotline.ListedInbound{listed("SM1", "+15555550101", "help", t0.Add(-3*time.Hour))}}
	n, err := svc.RecoverMissedInbound(t.Context(), l)
	if err != nil || n != 1 {
		t.Fatalf("RecoverMissedInbound = %d, %v; want 1, nil", n, err)
	}
	if got, want := l.lastSince(), t0.Add(-hotline.DefaultRecoveryLookback); !got.Equal(want) {
		t.Errorf("listed since %v, want %v (now minus the lookback)", got, want)
	}
	// Nothing newer was listed than a few minutes ago: the checkpoint is the run's
	// start minus the overlap, so that the next run lists a short window.
	if cp, ok := checkpoint(t, svc); !ok || !cp.Equal(t0.Add(-hotline.DefaultRecoveryOverlap)) {
		t.Errorf("checkpoint = %v, %v; want %v", cp, ok, t0.Add(-hotline.DefaultRecoveryOverlap))
	}
}

func TestRecoverMissedInbound_NegativeLookbackStartsNow(t *testing.T) {
	svc, _, _ := newService(t)
	svc.SetRecoveryOptions(hotline.RecoveryOptions{Lookback: -1})
	l := &fakeLister{texts: []hotline.ListedInbound{listed("SM1", "+15555550101", "old news", t0.Add(-time.Hour))}}
	if n, err := svc.RecoverMissedInbound(t.Context(), l); err != nil || n != 0 {
		t.Errorf("RecoverMissedInbound = %d, %v; want 0, nil", n, err)
	}
	if got := l.lastSince(); !got.Equal(t0) {
		t.Errorf("listed since %v, want now (%v)", got, t0)
	}
}

func TestRecoverMissedInbound_ExactlyOnceAndCheckpointed(t *testing.T) {
	svc, clock, _ := newService(t)
	// The webhook stored SM1; SM2 and SM3 arrived while the server was down.
	if _, err := svc.ReceiveInbound(t.Context(), inbound("SM1", "+15555550101", "hello")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	newest := t0.Add(time.Hour - time.Second)
	l := &fakeLister{texts: []hotline.ListedInbound{
		listed("SM3", "+15555550101", "are you there", newest), // listed out of order
		listed("SM1", "+15555550101", "hello", t0),
		listed("SM2", "+15555550102", "I need help", t0.Add(30*time.Minute)),
	}}
	n, err := svc.RecoverMissedInbound(t.Context(), l)
	if err != nil || n != 2 {
		t.Fatalf("first run = %d, %v; want 2, nil", n, err)
	}
	cp, ok := checkpoint(t, svc)
	if !ok || !cp.Equal(newest) {
		t.Errorf("checkpoint = %v, %v; want the newest listed time %v", cp, ok, newest)
	}
	n, err = svc.RecoverMissedInbound(t.Context(), l)
	if err != nil || n != 0 {
		t.Errorf("second run = %d, %v; want 0, nil: nothing is stored twice", n, err)
	}
	if got, want := l.lastSince(), newest.Add(-hotline.DefaultRecoveryOverlap); !got.Equal(want) {
		t.Errorf("second run listed since %v, want the checkpoint minus the overlap %v", got, want)
	}
	// SM1 and SM3 belong to the same conversation, in the order they were sent.
	err = svc.Store().View(t.Context(), func(tx hotline.ReadTx) error {
		m1, err := tx.MessageBySID("SM1")
		if err != nil {
			return err
		}
		m3, err := tx.MessageBySID("SM3")
		if err != nil {
			return err
		}
		if m1.ConversationID != m3.ConversationID {
			t.Error("the recovered text opened a new conversation instead of joining the texter's")
		}
		if m3.Extra[hotline.ExtraRecovered] != "true" || m3.Extra[hotline.ExtraReceivedAt] != newest.Format(time.RFC3339) {
			t.Errorf("recovered text Extra = %v, want it marked recovered and received at %s", m3.Extra, newest.Format(time.RFC3339))
		}
		if _, ok := m1.Extra[hotline.ExtraRecovered]; ok {
			t.Error("the text the webhook stored was marked as recovered")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecoverMissedInbound_ListFailureKeepsTheCheckpoint(t *testing.T) {
	svc, clock, _ := newService(t)
	l := &fakeLister{}
	if _, err := svc.RecoverMissedInbound(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	before, _ := checkpoint(t, svc)
	clock.Advance(time.Hour)
	l.err = errors.New("Twilio is down")
	if _, err := svc.RecoverMissedInbound(t.Context(), l); err == nil || !strings.Contains(err.Error(), "Twilio is down") {
		t.Errorf("error = %v, want the lister's", err)
	}
	if after, _ := checkpoint(t, svc); !after.Equal(before) {
		t.Errorf("checkpoint moved from %v to %v after a failed run", before, after)
	}
}

func TestRecoverMissedInbound_StoreFailureKeepsTheCheckpoint(t *testing.T) {
	svc, clock, _ := newService(t)
	if _, err := svc.RecoverMissedInbound(t.Context(), &fakeLister{}); err != nil {
		t.Fatal(err)
	}
	before, _ := checkpoint(t, svc)
	clock.Advance(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	l := &fakeLister{texts: []hotline.ListedInbound{listed("SM1", "+15555550101", "help", t0.Add(50*time.Minute))}, before: cancel}
	if _, err := svc.RecoverMissedInbound(ctx, l); err == nil {
		t.Fatal("a run that could not store its text succeeded")
	}
	if after, _ := checkpoint(t, svc); !after.Equal(before) {
		t.Errorf("checkpoint moved from %v to %v although the text was not stored", before, after)
	}
	if n, err := svc.RecoverMissedInbound(t.Context(), l); err != nil || n != 1 {
		t.Errorf("the next run = %d, %v; want the text stored", n, err)
	}
}

func TestRecoverMissedInbound_SkipsWhatCanNeverBeStored(t *testing.T) {
	svc, clock, _ := newService(t)
	clock.Advance(time.Hour)
	bad := listed("SMbad", "", "from an alphanumeric sender", t0.Add(50*time.Minute))
	l := &fakeLister{texts: []hotline.ListedInbound{bad, listed("SMgood", "+15555550101", "help", t0.Add(40*time.Minute))}}
	n, err := svc.RecoverMissedInbound(t.Context(), l)
	if n != 1 {
		t.Errorf("ingested %d, want the good text", n)
	}
	if err == nil || !strings.Contains(err.Error(), "SMbad") || hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("error = %v, want EINVALID naming SMbad", err)
	}
	if cp, _ := checkpoint(t, svc); !cp.Equal(t0.Add(55 * time.Minute)) {
		t.Errorf("checkpoint = %v, want it past the skipped text (%v)", cp, t0.Add(55*time.Minute))
	}
}

func TestRunRecovery_RunsAtOnceThenPeriodically(t *testing.T) {
	svc, _, _ := newService(t)
	var runs atomic.Int32
	l := &fakeLister{before: func() { runs.Add(1) }}
	var recovered atomic.Int32
	svc.SetRecoveryOptions(hotline.RecoveryOptions{Recovered: func(n int) { recovered.Add(int32(n)) }})
	l.texts = []hotline.ListedInbound{listed("SM1", "+15555550101", "help", t0)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		svc.RunRecovery(ctx, l, 5*time.Millisecond, func(err error) { t.Errorf("onError(%v)", err) })
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("RunRecovery ran %d times in 5s, want at least 3", runs.Load())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunRecovery did not return after its context ended")
	}
	if got := recovered.Load(); got != 1 {
		t.Errorf("Recovered was told of %d texts, want 1", got)
	}
}
