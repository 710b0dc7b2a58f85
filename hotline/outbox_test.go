package hotline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/dispatchtest"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/store/storetest"
)

// outboxSender is a hotline.Sender whose behaviour is a function field.
type outboxSender struct {
	SendFunc func(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error)
}

func (f *outboxSender) Send(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
	return f.SendFunc(ctx, t)
}

// outboxReconciler is a outboxSender that also implements hotline.Reconciler.
type outboxReconciler struct {
	outboxSender
	LookupFunc func(ctx context.Context, t hotline.OutboundText, since time.Time) (hotline.SendReceipt, bool, error)
}

func (f *outboxReconciler) Lookup(ctx context.Context, t hotline.OutboundText, since time.Time) (hotline.SendReceipt, bool, error) {
	return f.LookupFunc(ctx, t, since)
}

// outboxClock is a settable hotline.Clock.
type outboxClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *outboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *outboxClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sendLog counts sends and remembers them in order; it is what the fake provider saw.
type sendLog struct {
	mu    sync.Mutex
	texts []hotline.OutboundText
}

func (r *sendLog) add(t hotline.OutboundText) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts = append(r.texts, t)
	return len(r.texts)
}

func (r *sendLog) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.texts)
}

func (r *sendLog) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b []string
	for _, t := range r.texts {
		b = append(b, t.Body)
	}
	return b
}

// dispatchHarness is a service on a fresh store with a dispatcher wired as its notifier.
type dispatchHarness struct {
	t     *testing.T
	store *store.Store
	svc   *hotline.Service
	d     *hotline.Dispatcher
	obs   *dispatchtest.Recorder

	mu      sync.Mutex
	changes []hotline.Change
}

// newDispatchHarness opens a store and a service. clock may be nil (the system clock).
func newDispatchHarness(t *testing.T, clock hotline.Clock, sender hotline.Sender, opts hotline.DispatcherOptions) *dispatchHarness {
	t.Helper()
	h := &dispatchHarness{t: t, store: storetest.MustOpen(t), obs: &dispatchtest.Recorder{}}
	if opts.FirstRetryDelay == 0 {
		opts.FirstRetryDelay = time.Millisecond
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	opts.Observer = h.obs
	var d *hotline.Dispatcher
	notify := hotline.NotifierFunc(func(cs ...hotline.Change) {
		h.mu.Lock()
		h.changes = append(h.changes, cs...)
		h.mu.Unlock()
		d.Publish(cs...)
	})
	h.svc = hotline.NewService(h.store, clock, notify, hotline.DefaultPolicy())
	d = hotline.NewDispatcher(h.svc, sender, opts)
	h.d = d
	return h
}

// run starts the dispatcher and stops it (waiting for Run to return) when the test ends.
func (h *dispatchHarness) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.d.Run(ctx)
		close(done)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				h.t.Error("Run did not return after its context ended")
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

// inbound stores a text from the number and returns the result.
func (h *dispatchHarness) inbound(from, body string) hotline.InboundResult {
	h.t.Helper()
	res, err := h.svc.ReceiveInbound(context.Background(), hotline.InboundMessage{
		SID: "SM" + strings.ReplaceAll(hotline.NewID(time.Now()).String(), "-", ""), From: hotline.Address(from), To: "233733", Body: body,
	})
	if err != nil {
		h.t.Fatalf("ReceiveInbound: %v", err)
	}
	return res
}

// outbound returns the conversation's outbound messages, oldest first.
func (h *dispatchHarness) outbound(conv hotline.ID) []hotline.Message {
	h.t.Helper()
	var msgs []hotline.Message
	err := h.store.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Messages(conv, hotline.ID{}, func(m hotline.Message) error {
			if m.Direction == hotline.DirectionOutbound {
				msgs = append(msgs, m)
			}
			return nil
		})
	})
	if err != nil {
		h.t.Fatalf("read messages: %v", err)
	}
	return msgs
}

// outbox returns the pending outbox entries.
func (h *dispatchHarness) outbox() []hotline.OutboxEntry {
	h.t.Helper()
	var es []hotline.OutboxEntry
	err := h.store.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Outbox(func(e hotline.OutboxEntry) error { es = append(es, e); return nil })
	})
	if err != nil {
		h.t.Fatalf("read outbox: %v", err)
	}
	return es
}

func (h *dispatchHarness) contact(conv hotline.ID) hotline.Contact {
	h.t.Helper()
	var c hotline.Contact
	err := h.store.View(context.Background(), func(tx hotline.ReadTx) error {
		cv, err := tx.Conversation(conv)
		if err != nil {
			return err
		}
		c, err = tx.Contact(cv.ContactID)
		return err
	})
	if err != nil {
		h.t.Fatalf("read contact: %v", err)
	}
	return c
}

func (h *dispatchHarness) sawChange(kind hotline.ChangeKind, msg hotline.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.changes {
		if c.Kind == kind && c.MessageID == msg {
			return true
		}
	}
	return false
}

// waitFor fails the test unless cond becomes true within a few seconds.
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

func acceptingSender(rec *sendLog) *outboxSender {
	return &outboxSender{SendFunc: func(_ context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		n := rec.add(t)
		return hotline.SendReceipt{SID: fmt.Sprintf("SM%032d", n), Status: hotline.StatusQueued}, nil
	}}
}

func TestDispatcher_SendsAndRecordsSID(t *testing.T) {
	rec := &sendLog{}
	h := newDispatchHarness(t, nil, acceptingSender(rec), hotline.DispatcherOptions{})
	h.run()
	res := h.inbound("+15555550101", "hello")

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	msgs := h.outbound(res.ConversationID)
	if len(msgs) != 1 {
		t.Fatalf("got %d outbound messages, want the welcome only", len(msgs))
	}
	m := msgs[0]
	if got, want := m.Status, hotline.StatusSent; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got, want := m.TwilioSID, fmt.Sprintf("SM%032d", 1); got != want {
		t.Errorf("SID = %q, want %q", got, want)
	}
	if got, want := rec.count(), 1; got != want {
		t.Errorf("sent %d times, want %d", got, want)
	}
	if got := rec.texts[0]; got.To != "+15555550101" || got.ID != m.ID || got.Body != m.Body {
		t.Errorf("sent %+v, want the welcome to the texter with the message ID", got)
	}
	if !h.sawChange(hotline.ChangeStatus, m.ID) {
		t.Error("no ChangeStatus published for the sent message")
	}
	if got, want := h.obs.Outcomes(), []hotline.DispatchOutcome{hotline.OutcomeSent}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

func TestDispatcher_RetriesRetryableFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"SendError", &hotline.SendError{Retryable: true, Code: 20500, Message: "Twilio answered 500"}},
		{"other error", errors.New("connection refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &outboxClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			rec := &sendLog{}
			var mu sync.Mutex
			calls := 0
			sender := &outboxSender{SendFunc: func(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
				mu.Lock()
				calls++
				first := calls == 1
				mu.Unlock()
				if first {
					return hotline.SendReceipt{}, tc.err
				}
				return acceptingSender(rec).SendFunc(ctx, t)
			}}
			const delay = 2 * time.Second
			h := newDispatchHarness(t, clock, sender, hotline.DispatcherOptions{FirstRetryDelay: delay})
			h.run()
			res := h.inbound("+15555550102", "hello")

			var e hotline.OutboxEntry
			waitFor(t, "the failed attempt to be queued again", func() bool {
				es := h.outbox()
				if len(es) == 1 && es[0].Status == hotline.StatusQueued && es[0].Attempts == 1 {
					e = es[0]
					return true
				}
				return false
			})
			if wait := e.NextAttemptAt.Sub(clock.Now()); wait < delay/2 || wait > delay {
				t.Errorf("next attempt in %s, want between %s and %s", wait, delay/2, delay)
			}
			if e.LastError == "" {
				t.Error("LastError is empty")
			}
			if got := h.outbound(res.ConversationID)[0].Status; got != hotline.StatusSending {
				t.Errorf("status while waiting for the retry = %q, want %q", got, hotline.StatusSending)
			}

			clock.Advance(delay)
			h.d.Publish(hotline.Change{Kind: hotline.ChangeOutbox})
			waitFor(t, "the retry to succeed", func() bool { return len(h.outbox()) == 0 })
			if got, want := h.outbound(res.ConversationID)[0].Status, hotline.StatusSent; got != want {
				t.Errorf("status = %q, want %q", got, want)
			}
			if got, want := rec.count(), 1; got != want {
				t.Errorf("delivered %d times, want %d", got, want)
			}
			if got, want := fmt.Sprint(h.obs.Outcomes()), "[retry sent]"; got != want {
				t.Errorf("observed %s, want %s", got, want)
			}
		})
	}
}

func TestDispatcher_GivesUpAfterMaxAttempts(t *testing.T) {
	rec := &sendLog{}
	sender := &outboxSender{SendFunc: func(_ context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		rec.add(t)
		return hotline.SendReceipt{}, &hotline.SendError{Retryable: true, Code: 20429, Message: "Too many requests"}
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{MaxAttempts: 3})
	h.run()
	res := h.inbound("+15555550103", "hello")

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	m := h.outbound(res.ConversationID)[0]
	if got, want := m.Status, hotline.StatusFailed; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if !strings.Contains(m.ErrorMessage, "after 3 attempts") {
		t.Errorf("error message = %q, want it to say after 3 attempts", m.ErrorMessage)
	}
	if got, want := rec.count(), 3; got != want {
		t.Errorf("sent %d times, want %d", got, want)
	}
}

func TestDispatcher_PermanentFailureFailsTheMessage(t *testing.T) {
	rec := &sendLog{}
	sender := &outboxSender{SendFunc: func(_ context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		rec.add(t)
		return hotline.SendReceipt{}, &hotline.SendError{Code: 21211, Message: "Invalid 'To' phone number"}
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
	h.run()
	res := h.inbound("+15555550104", "hello")

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	m := h.outbound(res.ConversationID)[0]
	if got, want := m.Status, hotline.StatusFailed; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if m.ErrorCode != 21211 || m.ErrorMessage != "Invalid 'To' phone number" {
		t.Errorf("error = %d %q, want 21211 and the provider's message", m.ErrorCode, m.ErrorMessage)
	}
	if got, want := rec.count(), 1; got != want {
		t.Errorf("sent %d times, want %d", got, want)
	}
	if h.contact(res.ConversationID).OptedOut {
		t.Error("an invalid number opted the texter out")
	}
}

// queueRepliesTo accepts the conversation and queues n replies, returning their bodies.
func queueRepliesTo(t *testing.T, svc *hotline.Service, conv hotline.ID, n int) []string {
	t.Helper()
	ctx := context.Background()
	by := hotline.Actor{ID: hotline.NewID(time.Now())}
	if err := svc.Accept(ctx, by, conv); err != nil {
		t.Errorf("Accept: %v", err)
		return nil
	}
	var bodies []string
	for i := range n {
		body := fmt.Sprintf("reply %d to %s", i, conv)
		if _, err := svc.Reply(ctx, by, conv, body); err != nil {
			t.Errorf("Reply: %v", err)
			return nil
		}
		bodies = append(bodies, body)
	}
	return bodies
}

func TestDispatcher_CarrierOptOutStopsTheRest(t *testing.T) {
	rec := &sendLog{}
	sender := &outboxSender{SendFunc: func(_ context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		rec.add(t)
		return hotline.SendReceipt{}, &hotline.SendError{Code: hotline.TwilioErrorOptedOut, Message: "Attempt to send to unsubscribed recipient"}
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
	res := h.inbound("+15555550105", "hello")
	queueRepliesTo(t, h.svc, res.ConversationID, 2)
	h.run()

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	if got, want := rec.count(), 1; got != want {
		t.Errorf("sent %d times, want %d (nothing after the carrier opt-out)", got, want)
	}
	if !h.contact(res.ConversationID).OptedOut {
		t.Error("the texter is not opted out after error 21610")
	}
	msgs := h.outbound(res.ConversationID)
	if len(msgs) != 3 {
		t.Fatalf("got %d outbound messages, want 3", len(msgs))
	}
	if msgs[0].Status != hotline.StatusFailed || msgs[0].ErrorCode != hotline.TwilioErrorOptedOut {
		t.Errorf("welcome: %q %d, want failed with 21610", msgs[0].Status, msgs[0].ErrorCode)
	}
	for _, m := range msgs[1:] {
		if m.Status != hotline.StatusFailed || !strings.Contains(m.ErrorMessage, "opted out") {
			t.Errorf("reply %q: %q %q, want failed because the texter opted out", m.Body, m.Status, m.ErrorMessage)
		}
	}
}

func TestDispatcher_NeverSendsToOptedOutContactButTheConfirmation(t *testing.T) {
	rec := &sendLog{}
	h := newDispatchHarness(t, nil, acceptingSender(rec), hotline.DispatcherOptions{})
	res := h.inbound("+15555550106", "hello") // queues the welcome
	h.inbound("+15555550106", "STOP")         // opts out and queues the confirmation
	h.run()

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	optOut := hotline.DefaultPolicy().TextsFor("en").OptOut
	if got, want := fmt.Sprint(rec.bodies()), fmt.Sprint([]string{optOut}); got != want {
		t.Errorf("sent %s, want only the opt-out confirmation", got)
	}
	msgs := h.outbound(res.ConversationID)
	if msgs[0].Purpose != hotline.PurposeWelcome || msgs[0].Status != hotline.StatusFailed {
		t.Errorf("welcome: %q %q, want failed", msgs[0].Purpose, msgs[0].Status)
	}
}

func TestDispatcher_FailsTextsOlderThanMaxAge(t *testing.T) {
	clock := &outboxClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	rec := &sendLog{}
	h := newDispatchHarness(t, clock, acceptingSender(rec), hotline.DispatcherOptions{MaxAge: time.Hour})
	res := h.inbound("+15555550107", "hello")
	clock.Advance(2 * time.Hour) // the hotline was down
	h.run()

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	if rec.count() != 0 {
		t.Errorf("sent %v, want nothing", rec.bodies())
	}
	if m := h.outbound(res.ConversationID)[0]; m.Status != hotline.StatusFailed || !strings.Contains(m.ErrorMessage, "waited more than 1h0m0s") {
		t.Errorf("message: %q %q, want failed for waiting too long", m.Status, m.ErrorMessage)
	}
}

func TestDispatcher_KeepsOrderPerConversation(t *testing.T) {
	const conversations, replies = 20, 10
	var mu sync.Mutex
	got := map[hotline.Address][]string{}
	busy := map[hotline.Address]bool{}
	inFlight, maxInFlight, overlaps := 0, 0, 0
	sender := &outboxSender{SendFunc: func(_ context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		mu.Lock()
		if busy[t.To] {
			overlaps++
			mu.Unlock()
			return hotline.SendReceipt{}, fmt.Errorf("two texts to %s in flight at once", t.To)
		}
		busy[t.To] = true
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		fail := rand.IntN(10) == 0
		mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		mu.Lock()
		defer mu.Unlock()
		busy[t.To] = false
		inFlight--
		if fail {
			return hotline.SendReceipt{}, &hotline.SendError{Retryable: true, Code: 20503, Message: "try later"}
		}
		got[t.To] = append(got[t.To], t.Body)
		return hotline.SendReceipt{SID: fmt.Sprintf("SM%x", t.ID[:])}, nil
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{Workers: 8})
	h.run()

	want := make([][]string, conversations)
	addrs := make([]hotline.Address, conversations)
	var wg sync.WaitGroup
	for i := range conversations {
		addrs[i] = hotline.Address(fmt.Sprintf("+1555555%04d", 2000+i))
		wg.Go(func() {
			res := h.inbound(string(addrs[i]), "hello")
			welcome := h.outbound(res.ConversationID)[0].Body
			want[i] = append([]string{welcome}, queueRepliesTo(t, h.svc, res.ConversationID, replies)...)
		})
	}
	wg.Wait()
	defer func() {
		if t.Failed() {
			for _, e := range h.outbox() {
				t.Logf("left: %s %s %s attempts=%d next=%s err=%s", e.To, e.ID, e.Status, e.Attempts, e.NextAttemptAt, e.LastError)
			}
			t.Logf("dispatcher errors: %v", h.obs.Errors())
		}
	}()
	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })

	mu.Lock()
	defer mu.Unlock()
	for i, a := range addrs {
		if g, w := strings.Join(got[a], "|"), strings.Join(want[i], "|"); g != w {
			t.Errorf("texts to %s arrived as\n%s\nwant\n%s", a, g, w)
		}
	}
	if overlaps > 0 {
		t.Errorf("%d sends overlapped another send to the same texter", overlaps)
	}
	if maxInFlight < 2 {
		t.Errorf("at most %d send in flight, want conversations sent in parallel", maxInFlight)
	}
}

// markInterrupted commits the conversation's first outbox entry as sending, as a process
// that crashed during the send would have left it, and returns it.
func markInterrupted(t *testing.T, h *dispatchHarness) hotline.OutboxEntry {
	t.Helper()
	var e hotline.OutboxEntry
	err := h.store.Update(context.Background(), func(tx hotline.Tx) error {
		var err error
		if e, err = tx.OutboxEntry(h.outbox()[0].ID); err != nil {
			return err
		}
		e.Status, e.SendingSince, e.Attempts = hotline.StatusSending, time.Now(), 1
		if err := tx.PutOutbox(e); err != nil {
			return err
		}
		m, err := tx.Message(e.ConversationID, e.ID)
		if err != nil {
			return err
		}
		m.Status = hotline.StatusSending
		return tx.PutMessage(m)
	})
	if err != nil {
		t.Fatalf("mark sending: %v", err)
	}
	return e
}

func TestDispatcher_ReconcilesInterruptedSends(t *testing.T) {
	const foundSID = "SM0123456789abcdef0123456789abcdef"
	lookupFails := errors.New("the provider's API is down")
	for _, tc := range []struct {
		name      string
		reconcile bool
		lookups   []string // what each Lookup answers: found, missing or error
		wantSends int
		wantSID   string
	}{
		{name: "provider has it", reconcile: true, lookups: []string{"found"}, wantSends: 0, wantSID: foundSID},
		{name: "provider never got it", reconcile: true, lookups: []string{"missing"}, wantSends: 1},
		{name: "lookup fails then finds it", reconcile: true, lookups: []string{"error", "error", "found"}, wantSends: 0, wantSID: foundSID},
		{name: "sender cannot reconcile", reconcile: false, wantSends: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &sendLog{}
			var mu sync.Mutex
			var lookups []hotline.OutboundText
			var sender hotline.Sender = acceptingSender(rec)
			if tc.reconcile {
				sender = &outboxReconciler{outboxSender: *acceptingSender(rec), LookupFunc: func(_ context.Context, t hotline.OutboundText, since time.Time) (hotline.SendReceipt, bool, error) {
					mu.Lock()
					defer mu.Unlock()
					lookups = append(lookups, t)
					switch tc.lookups[min(len(lookups), len(tc.lookups))-1] {
					case "found":
						return hotline.SendReceipt{SID: foundSID, Status: hotline.StatusSent}, true, nil
					case "error":
						return hotline.SendReceipt{}, false, lookupFails
					}
					return hotline.SendReceipt{}, false, nil
				}}
			}
			h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
			res := h.inbound("+15555550108", "hello")
			e := markInterrupted(t, h)
			h.run()

			waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
			if got := rec.count(); got != tc.wantSends {
				t.Errorf("sent %d times, want %d", got, tc.wantSends)
			}
			m := h.outbound(res.ConversationID)[0]
			if m.Status != hotline.StatusSent {
				t.Errorf("status = %q, want sent", m.Status)
			}
			if tc.wantSID != "" && m.TwilioSID != tc.wantSID {
				t.Errorf("SID = %q, want the one the provider reported, %q", m.TwilioSID, tc.wantSID)
			}
			mu.Lock()
			defer mu.Unlock()
			if got, want := len(lookups), len(tc.lookups); got != want {
				t.Errorf("asked the provider %d times, want %d", got, want)
			}
			if len(lookups) > 0 && (lookups[0].ID != e.ID || lookups[0].To != e.To || lookups[0].Body != e.Body) {
				t.Errorf("looked up %+v, want the interrupted entry", lookups[0])
			}
		})
	}
}

func TestDispatcher_NothingIsSentBeforeInterruptedSendsAreReconciled(t *testing.T) {
	rec := &sendLog{}
	release := make(chan struct{})
	sender := &outboxReconciler{outboxSender: *acceptingSender(rec), LookupFunc: func(context.Context, hotline.OutboundText, time.Time) (hotline.SendReceipt, bool, error) {
		<-release
		return hotline.SendReceipt{}, false, nil
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
	h.inbound("+15555550109", "hello")
	markInterrupted(t, h)
	h.inbound("+15555550110", "hello") // another texter's welcome, queued
	h.run()

	time.Sleep(30 * time.Millisecond)
	if n := rec.count(); n != 0 {
		t.Errorf("sent %d texts while an interrupted send was being reconciled, want none", n)
	}
	close(release)
	waitFor(t, "both welcomes to be sent", func() bool { return rec.count() == 2 })
}

func TestDispatcher_ReconcilesTimedOutSends(t *testing.T) {
	for _, found := range []bool{true, false} {
		t.Run(fmt.Sprintf("found=%v", found), func(t *testing.T) {
			rec := &sendLog{}
			var mu sync.Mutex
			attempts := 0
			sender := &outboxReconciler{}
			sender.SendFunc = func(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
				mu.Lock()
				attempts++
				first := attempts == 1
				mu.Unlock()
				if first {
					<-ctx.Done() // the provider does not answer in time
					return hotline.SendReceipt{}, fmt.Errorf("post message: %w", ctx.Err())
				}
				return acceptingSender(rec).SendFunc(ctx, t)
			}
			sender.LookupFunc = func(context.Context, hotline.OutboundText, time.Time) (hotline.SendReceipt, bool, error) {
				return hotline.SendReceipt{SID: "SMfound"}, found, nil
			}
			h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{SendTimeout: 20 * time.Millisecond})
			h.run()
			res := h.inbound("+15555550111", "hello")

			waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
			m := h.outbound(res.ConversationID)[0]
			wantSID, wantAttempts := "SMfound", 1
			if !found {
				wantSID, wantAttempts = fmt.Sprintf("SM%032d", 1), 2
			}
			if m.Status != hotline.StatusSent || m.TwilioSID != wantSID {
				t.Errorf("message %q %q, want sent as %q", m.Status, m.TwilioSID, wantSID)
			}
			mu.Lock()
			defer mu.Unlock()
			if attempts != wantAttempts {
				t.Errorf("Send called %d times, want %d", attempts, wantAttempts)
			}
			if got := h.obs.Outcomes(); got[0] != hotline.OutcomeUnknown {
				t.Errorf("first outcome %q, want %q", got[0], hotline.OutcomeUnknown)
			}
		})
	}
}

func TestDispatcher_LateStatusCallbackIsNotOverwritten(t *testing.T) {
	const sid = "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	var h *dispatchHarness
	sender := &outboxSender{SendFunc: func(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		// The provider's callbacks overtake its answer: the status webhook already knows
		// the SID (stood in for by writing it) and reports delivered before Send returns.
		err := h.store.Update(ctx, func(tx hotline.Tx) error {
			es, err := tx.OutboxEntry(t.ID)
			if err != nil {
				return err
			}
			m, err := tx.Message(es.ConversationID, t.ID)
			if err != nil {
				return err
			}
			m.TwilioSID = sid
			return tx.PutMessage(m)
		})
		if err == nil {
			err = h.svc.RecordStatus(ctx, hotline.StatusUpdate{SID: sid, Status: hotline.StatusDelivered})
		}
		return hotline.SendReceipt{SID: sid, Status: hotline.StatusQueued}, err
	}}
	h = newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
	h.run()
	res := h.inbound("+15555550112", "hello")

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	waitFor(t, "the dispatcher to record the send", func() bool { return len(h.obs.Outcomes()) == 1 })
	if got, want := h.obs.Outcomes()[0], hotline.OutcomeSent; got != want {
		t.Errorf("outcome %q, want %q", got, want)
	}
	if m := h.outbound(res.ConversationID)[0]; m.Status != hotline.StatusDelivered || m.TwilioSID != sid {
		t.Errorf("message %q %q, want delivered %q", m.Status, m.TwilioSID, sid)
	}
}

func TestDispatcher_SendsPagesWithoutConversation(t *testing.T) {
	rec := &sendLog{}
	h := newDispatchHarness(t, nil, acceptingSender(rec), hotline.DispatcherOptions{})
	now := time.Now()
	page := hotline.OutboxEntry{ID: hotline.NewID(now), To: "+15555550199", Body: "A texter is waiting.",
		Status: hotline.StatusQueued, NextAttemptAt: now, CreatedAt: now}
	if err := h.store.Update(context.Background(), func(tx hotline.Tx) error { return tx.PutOutbox(page) }); err != nil {
		t.Fatal(err)
	}
	h.run()

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	if got := rec.bodies(); len(got) != 1 || got[0] != page.Body {
		t.Errorf("sent %v, want the page", got)
	}
}

func TestDispatcher_ShutdownLeavesInterruptedSendsToReconcile(t *testing.T) {
	started := make(chan struct{})
	sender := &outboxSender{SendFunc: func(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
		close(started)
		<-ctx.Done()
		return hotline.SendReceipt{}, ctx.Err()
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{ShutdownGrace: 10 * time.Millisecond})
	stop := h.run()
	res := h.inbound("+15555550113", "hello")
	<-started
	stop()

	es := h.outbox()
	if len(es) != 1 || es[0].Status != hotline.StatusSending {
		t.Fatalf("outbox after shutdown: %+v, want the entry still sending", es)
	}

	// The next process reconciles it and sends it once.
	rec := &sendLog{}
	h2 := &dispatchHarness{t: t, store: h.store, obs: &dispatchtest.Recorder{}}
	h2.svc = hotline.NewService(h.store, nil, nil, hotline.DefaultPolicy())
	h2.d = hotline.NewDispatcher(h2.svc, acceptingSender(rec), hotline.DispatcherOptions{PollInterval: 10 * time.Millisecond, Observer: h2.obs})
	h2.run()
	waitFor(t, "the outbox to empty", func() bool { return len(h2.outbox()) == 0 })
	if got, want := fmt.Sprint(h2.obs.Outcomes()), "[requeued sent]"; got != want {
		t.Errorf("observed %s, want %s", got, want)
	}
	if m := h2.outbound(res.ConversationID)[0]; m.Status != hotline.StatusSent {
		t.Errorf("status %q, want sent", m.Status)
	}
}

func TestDispatcher_RateLimit(t *testing.T) {
	rec := &sendLog{}
	h := newDispatchHarness(t, nil, acceptingSender(rec), hotline.DispatcherOptions{RatePerSecond: 200, Workers: 4})
	for i := range 5 {
		h.inbound(fmt.Sprintf("+1555555%04d", 3000+i), "hello")
	}
	start := time.Now()
	h.run()
	waitFor(t, "all five to be sent", func() bool { return rec.count() == 5 })
	if elapsed := time.Since(start); elapsed < 20*time.Millisecond {
		t.Errorf("5 texts at 200/s took %s, want at least 20ms", elapsed)
	}
}

func TestDispatcher_WakesOnPublishedOutboxChanges(t *testing.T) {
	rec := &sendLog{}
	h := newDispatchHarness(t, nil, acceptingSender(rec), hotline.DispatcherOptions{PollInterval: time.Hour})
	h.run()
	time.Sleep(20 * time.Millisecond) // Run is idle, waiting for the next poll in an hour
	h.inbound("+15555550114", "hello")
	waitFor(t, "the welcome to be sent without waiting for a poll", func() bool { return rec.count() == 1 })
}

func TestDispatcher_InterruptedLaterEntryDoesNotBlockStartup(t *testing.T) {
	// A sending entry behind an older queued one to the same phone (written by an
	// older version, say) waits its turn without holding back every other send.
	rec := &sendLog{}
	h := newDispatchHarness(t, nil, acceptingSender(rec), hotline.DispatcherOptions{})
	now := time.Now()
	older := hotline.OutboxEntry{ID: hotline.NewID(now), To: "+15555550198", Body: "first",
		Status: hotline.StatusQueued, NextAttemptAt: now, CreatedAt: now}
	later := hotline.OutboxEntry{ID: hotline.NewID(now), To: "+15555550198", Body: "second",
		Status: hotline.StatusSending, Attempts: 1, SendingSince: now, NextAttemptAt: now, CreatedAt: now}
	err := h.store.Update(context.Background(), func(tx hotline.Tx) error {
		if err := tx.PutOutbox(older); err != nil {
			return err
		}
		return tx.PutOutbox(later)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.run()

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	if got, want := strings.Join(rec.bodies(), ","), "first,second"; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
}

func TestDispatcher_ReconcileIgnoresAnEarlierIdenticalTextsSID(t *testing.T) {
	const earlierSID = "SMearlier0123456789abcdef01234567"
	rec := &sendLog{}
	sender := &outboxReconciler{outboxSender: *acceptingSender(rec), LookupFunc: func(context.Context, hotline.OutboundText, time.Time) (hotline.SendReceipt, bool, error) {
		// The provider lists the earlier, identical text to the same number.
		return hotline.SendReceipt{SID: earlierSID, Status: hotline.StatusSent}, true, nil
	}}
	h := newDispatchHarness(t, nil, sender, hotline.DispatcherOptions{})
	res := h.inbound("+15555550120", "hello")
	e := markInterrupted(t, h)
	// Another message already carries the SID the lookup will report.
	other := h.inbound("+15555550121", "hi")
	err := h.store.Update(context.Background(), func(tx hotline.Tx) error {
		var msgs []hotline.Message
		if err := tx.Messages(other.ConversationID, hotline.ID{}, func(m hotline.Message) error { msgs = append(msgs, m); return nil }); err != nil {
			return err
		}
		m := msgs[1]
		m.TwilioSID, m.Status = earlierSID, hotline.StatusSent
		if err := tx.PutMessage(m); err != nil {
			return err
		}
		return tx.DeleteOutbox(m.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.run()

	waitFor(t, "the outbox to empty", func() bool { return len(h.outbox()) == 0 })
	if got, want := rec.count(), 1; got != want {
		t.Errorf("sent %d times, want %d: the interrupted text never reached the provider", got, want)
	}
	m := h.outbound(res.ConversationID)[0]
	if m.ID != e.ID || m.Status != hotline.StatusSent || m.TwilioSID == earlierSID {
		t.Errorf("interrupted text = %s %q %q, want sent with its own SID", m.ID, m.Status, m.TwilioSID)
	}
}
