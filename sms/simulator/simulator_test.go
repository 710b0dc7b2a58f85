package simulator_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/sms/simulator"
)

var sidPattern = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

// inboundFunc is a simulator.Inbound whose behaviour is a function.
type inboundFunc func(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error)

func (f inboundFunc) ReceiveInbound(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error) {
	return f(ctx, in)
}

// statusLog is a simulator.StatusRecorder that remembers the updates, and fails the
// first failFirst of them with ENOTFOUND (a callback racing the dispatcher).
type statusLog struct {
	mu        sync.Mutex
	updates   []hotline.StatusUpdate
	failFirst int
	calls     int
}

func (l *statusLog) RecordStatus(_ context.Context, u hotline.StatusUpdate) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls <= l.failFirst {
		return hotline.Errorf(hotline.ENOTFOUND, "No message with SID %s.", u.SID)
	}
	l.updates = append(l.updates, u)
	return nil
}

func (l *statusLog) statuses() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ""
	for _, u := range l.updates {
		s += string(u.Status) + " "
	}
	return s
}

func newSimulator(t *testing.T, in simulator.Inbound, st simulator.StatusRecorder) *simulator.Simulator {
	t.Helper()
	sim := simulator.New(in, st, simulator.Options{DeliveryDelay: 10 * time.Millisecond})
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func text(to, body string) hotline.OutboundText {
	return hotline.OutboundText{ID: hotline.NewID(time.Now()), To: hotline.Address(to), Body: body}
}

func TestSendReportsSentThenDelivered(t *testing.T) {
	st := &statusLog{}
	sim := newSimulator(t, nil, st)
	r, err := sim.Send(context.Background(), text("+15555550123", "hello"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !sidPattern.MatchString(r.SID) {
		t.Errorf("SID %q, want SM and 32 hex digits", r.SID)
	}
	waitFor(t, "two status reports", func() bool { return st.statuses() == "sent delivered " })
	for _, u := range st.updates {
		if u.SID != r.SID {
			t.Errorf("status for %q, want %q", u.SID, r.SID)
		}
	}
}

func TestStatusReportsRetryUntilTheDispatcherKnowsTheSID(t *testing.T) {
	st := &statusLog{failFirst: 2}
	sim := newSimulator(t, nil, st)
	if _, err := sim.Send(context.Background(), text("+15555550123", "hello")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	waitFor(t, "both statuses despite early ENOTFOUND", func() bool { return st.statuses() == "sent delivered " })
}

func TestFailureModes(t *testing.T) {
	for _, tc := range []struct {
		mode      simulator.Mode
		retryable bool
		code      int
	}{
		{simulator.ModeFailRetryable, true, simulator.CodeServiceUnavailable},
		{simulator.ModeFailPermanent, false, simulator.CodeUnreachable},
		{simulator.ModeOptedOut, false, hotline.TwilioErrorOptedOut},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			st := &statusLog{}
			sim := newSimulator(t, nil, st)
			if err := sim.SetMode(tc.mode); err != nil {
				t.Fatalf("SetMode: %v", err)
			}
			_, err := sim.Send(context.Background(), text("+15555550123", "hello"))
			var se *hotline.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send error %v, want a *hotline.SendError", err)
			}
			if se.Retryable != tc.retryable || se.Code != tc.code {
				t.Errorf("got retryable=%v code=%d, want retryable=%v code=%d", se.Retryable, se.Code, tc.retryable, tc.code)
			}
			time.Sleep(30 * time.Millisecond) // longer than the delivery delay
			if s := st.statuses(); s != "" {
				t.Errorf("statuses %q reported for a refused text, want none", s)
			}

			if err := sim.SetMode(simulator.ModeNormal); err != nil {
				t.Fatal(err)
			}
			if _, err := sim.Send(context.Background(), text("+15555550123", "hello")); err != nil {
				t.Errorf("Send after switching back to normal: %v", err)
			}
		})
	}
}

func TestSetModeRejectsUnknownModes(t *testing.T) {
	sim := newSimulator(t, nil, nil)
	if err := sim.SetMode("flaky"); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("SetMode(flaky) = %v, want EINVALID", err)
	}
	if got := sim.Mode(); got != simulator.ModeNormal {
		t.Errorf("mode %q, want normal", got)
	}
}

func TestSendIsIdempotentPerOutboxEntryAndLookupFindsIt(t *testing.T) {
	sim := newSimulator(t, nil, nil)
	ctx := context.Background()
	tx := text("+15555550123", "hello")
	first, err := sim.Send(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := sim.Send(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	if again.SID != first.SID {
		t.Errorf("second Send of the same entry got SID %q, want the first one, %q", again.SID, first.SID)
	}
	r, found, err := sim.Lookup(ctx, tx, time.Now().Add(-time.Minute))
	if err != nil || !found || r.SID != first.SID {
		t.Errorf("Lookup = %v %v %v, want found with %q", r, found, err, first.SID)
	}
	_, found, err = sim.Lookup(ctx, text("+15555550123", "never sent"), time.Now().Add(-time.Minute))
	if err != nil || found {
		t.Errorf("Lookup of a text never sent = %v %v, want not found", found, err)
	}
}

func TestCloseStopsPendingReports(t *testing.T) {
	st := &statusLog{}
	sim := simulator.New(nil, st, simulator.Options{DeliveryDelay: time.Hour})
	if _, err := sim.Send(context.Background(), text("+15555550123", "hello")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = sim.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for a delivery an hour away")
	}
	if s := st.statuses(); strings.Contains(s, "delivered") {
		t.Errorf("statuses %q, want no delivered after Close", s)
	}
}
