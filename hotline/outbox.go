package hotline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the outbox dispatcher: the one place that hands texts to a Sender.
//
// Every outbound text is an OutboxEntry written in the same transaction as its
// message. The dispatcher sends them with these guarantees:
//
//   - Order per recipient: only the oldest pending entry to an address may be in
//     flight, so a later reply never overtakes an earlier one, even while the earlier
//     one waits for a retry. (Ordering per address is stricter than per conversation:
//     it also keeps a closed conversation's closing text ahead of the next
//     conversation's welcome.) Different recipients are sent in parallel.
//   - Crash safety: an entry is committed as sending before the Sender is called. An
//     entry found sending that nobody in this process is sending (a crash, or a send
//     whose outcome is unknown) is reconciled before it is sent again: a sender that
//     implements Reconciler is asked whether the provider already accepted the text.
//     A sender without Reconciler gets the text again: delivery is then at least once,
//     and a crash between the provider's acceptance and the commit of "sent" sends a
//     duplicate.
//   - The domain rule is checked again just before every send: nothing but the
//     opt-out confirmation goes to a texter who opted out.

// Reconciler is implemented by senders that can tell whether the provider already
// accepted a text, so that a send interrupted by a crash or a timeout is not blindly
// repeated.
type Reconciler interface {
	// Lookup reports whether the provider accepted t (same recipient and body) at or
	// after since, and if so its receipt. Implementations should allow for some clock
	// skew between the hotline and the provider. An error means "cannot tell now": the
	// dispatcher asks again later and never resends meanwhile.
	Lookup(ctx context.Context, t OutboundText, since time.Time) (SendReceipt, bool, error)
}

// ErrOutcomeUnknown, wrapped in an error a Sender returns, says that the request may
// have reached the provider (a timeout after the request was written, a connection
// dropped before the answer). The dispatcher then reconciles before sending again.
// Context deadlines and cancellations, network timeouts and an unexpected EOF count as
// unknown outcomes too, unless they are inside a *SendError.
var ErrOutcomeUnknown = errors.New("the provider may have accepted the text")

// DispatchOutcome says what became of one outbox entry at one step.
type DispatchOutcome string

// Dispatch outcomes.
const (
	OutcomeSent           DispatchOutcome = "sent"            // the provider accepted the text
	OutcomeRetry          DispatchOutcome = "retry"           // a retryable failure: queued again with a backoff
	OutcomeUnknown        DispatchOutcome = "unknown"         // the send may have reached the provider: reconciled before any resend
	OutcomeFailed         DispatchOutcome = "failed"          // a permanent failure, or out of attempts or time: the message failed
	OutcomeRefused        DispatchOutcome = "refused"         // not sent: the texter opted out, the text is too old, or its message is gone
	OutcomeReconciled     DispatchOutcome = "reconciled"      // the provider had accepted an interrupted send: recorded as sent
	OutcomeRequeued       DispatchOutcome = "requeued"        // an interrupted send the provider never got: queued again
	OutcomeReconcileError DispatchOutcome = "reconcile_error" // the provider could not be asked: asked again later
)

// DispatchReport describes one step of one outbox entry, for metrics and logs. It
// carries no message body; To is the full address, so observers must log
// To.Masked() only.
type DispatchReport struct {
	EntryID        ID // the outbox entry, which is also the message ID
	ConversationID ID // zero for pages to responders
	To             Address
	Attempts       int // send attempts so far, this one included
	Outcome        DispatchOutcome
	ErrorCode      int           // the provider's error code, when a *SendError carried one
	Err            error         // why the step was not a success; nil when it was
	Latency        time.Duration // time spent in the Sender or Reconciler; zero when neither was called
}

// DispatchObserver receives what the dispatcher does, after it is committed. The
// domain does not log: cmd adapts this to logs and metrics. Calls come from several
// goroutines and must not block.
type DispatchObserver interface {
	// OnSend reports a step of one outbox entry.
	OnSend(r DispatchReport)
	// OnError reports a failure of the dispatcher itself, such as a store error; the
	// dispatcher carries on and tries again later.
	OnError(err error)
}

// DispatcherOptions tune a Dispatcher. Zero fields take the defaults in brackets.
type DispatcherOptions struct {
	Workers         int           // texts in flight at once, each to a different recipient [4]
	RatePerSecond   float64       // texts per second across the sender; 0 is unlimited
	FirstRetryDelay time.Duration // the first retry's delay, doubled for each further one [2s]
	MaxRetryDelay   time.Duration // the longest delay between retries [10m]
	MaxAttempts     int           // send attempts before the text fails [10]
	MaxAge          time.Duration // a text not sent this long after it was queued fails [24h]
	PollInterval    time.Duration // how often the outbox is read when nothing wakes the dispatcher [10s]
	SendTimeout     time.Duration // the limit of one Send or Lookup call [30s]
	// ShutdownGrace is how long in-flight sends may run on after Run's context ends;
	// then they are cancelled, and their entries are reconciled at the next start [10s].
	ShutdownGrace time.Duration
	Observer      DispatchObserver // nil observes nothing
}

func (o DispatcherOptions) withDefaults() DispatcherOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	def(&o.FirstRetryDelay, 2*time.Second)
	def(&o.MaxRetryDelay, 10*time.Minute)
	def(&o.MaxAge, 24*time.Hour)
	def(&o.PollInterval, 10*time.Second)
	def(&o.SendTimeout, 30*time.Second)
	def(&o.ShutdownGrace, 10*time.Second)
	o.MaxRetryDelay = max(o.MaxRetryDelay, o.FirstRetryDelay)
	return o
}

// Dispatcher sends the outbox. It is a Notifier: publish ChangeOutbox to it (the
// service's notifier should fan out to it) and it wakes at once; it also reads the
// outbox every PollInterval as a safety net.
type Dispatcher struct {
	svc     *Service
	sender  Sender
	recon   Reconciler
	opts    DispatcherOptions
	limit   *limiter
	wake    chan struct{}
	running atomic.Bool
}

var _ Notifier = (*Dispatcher)(nil)

// NewDispatcher returns a dispatcher that sends svc's outbox through sender. If
// sender implements Reconciler, interrupted sends are checked with the provider.
func NewDispatcher(svc *Service, sender Sender, opts DispatcherOptions) *Dispatcher {
	opts = opts.withDefaults()
	d := &Dispatcher{svc: svc, sender: sender, opts: opts, wake: make(chan struct{}, 1)}
	d.recon, _ = sender.(Reconciler)
	if opts.RatePerSecond > 0 {
		d.limit = &limiter{interval: time.Duration(float64(time.Second) / opts.RatePerSecond)}
	}
	return d
}

// Publish wakes the dispatcher when a text was queued. It never blocks.
func (d *Dispatcher) Publish(changes ...Change) {
	for _, c := range changes {
		if c.Kind == ChangeOutbox {
			select {
			case d.wake <- struct{}{}:
			default:
			}
			return
		}
	}
}

// Running reports whether Run is running, for readiness checks.
func (d *Dispatcher) Running() bool { return d.running.Load() }

// dispatchState is the scheduler's bookkeeping, owned by Run's goroutine.
type dispatchState struct {
	inflight map[Address]ID // recipients with a job running, and its entry
	// startup holds the entries found sending when Run started: nothing is sent
	// before each has been reconciled once. Nil until the first read of the outbox.
	startup map[ID]bool
	// failures counts consecutive failed lookups or store errors per entry, and
	// notBefore holds entries back after a store error, so that a broken disk or
	// provider API is not hammered.
	failures  map[ID]int
	notBefore map[ID]time.Time
	// known keeps the receipts of sends that succeeded but could not be recorded: they
	// are recorded later without asking the provider.
	known map[ID]SendReceipt
	done  chan jobResult
}

// jobResult is what a job tells the scheduler when it ends.
type jobResult struct {
	entry        OutboxEntry
	lookupFailed bool         // the provider could not be asked
	storeFailed  bool         // the store failed: wait before trying the entry again
	receipt      *SendReceipt // a send that succeeded but could not be recorded
}

// Run sends the outbox until ctx ends. It first reconciles the entries a previous
// process left sending, then sends. When ctx ends it starts nothing new, lets
// in-flight sends finish for up to ShutdownGrace, cancels the rest (their entries
// stay sending and are reconciled at the next start) and returns. Call it once.
func (d *Dispatcher) Run(ctx context.Context) {
	d.running.Store(true)
	defer d.running.Store(false)
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	st := &dispatchState{inflight: map[Address]ID{}, failures: map[ID]int{}, notBefore: map[ID]time.Time{},
		known: map[ID]SendReceipt{}, done: make(chan jobResult, d.opts.Workers)}
	for ctx.Err() == nil {
		next := d.schedule(ctx, hard, st)
		wait := d.opts.PollInterval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(d.svc.clock.Now()), time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case r := <-st.done:
			d.finish(st, r)
		case <-timer.C:
		}
		timer.Stop()
		d.drain(st)
	}
	grace := time.AfterFunc(d.opts.ShutdownGrace, cancel)
	defer grace.Stop()
	for len(st.inflight) > 0 {
		d.finish(st, <-st.done)
	}
}

// drain takes the results of every job that has ended, so that one read of the outbox
// serves them all.
func (d *Dispatcher) drain(st *dispatchState) {
	for {
		select {
		case r := <-st.done:
			d.finish(st, r)
		default:
			return
		}
	}
}

// finish books the end of a job.
func (d *Dispatcher) finish(st *dispatchState, r jobResult) {
	id := r.entry.ID
	delete(st.inflight, r.entry.To)
	delete(st.startup, id)
	if r.receipt != nil {
		st.known[id] = *r.receipt
	}
	if !r.lookupFailed && !r.storeFailed {
		delete(st.failures, id)
		delete(st.notBefore, id)
		if r.receipt == nil {
			delete(st.known, id)
		}
		return
	}
	st.failures[id]++
	if r.storeFailed {
		st.notBefore[id] = time.Now().Add(d.backoff(st.failures[id]))
	}
}

// schedule reads the outbox, oldest first, and starts a job for each recipient whose
// oldest entry is due, until the workers are busy. It returns when the next entry not
// started falls due (zero when none is known; a running job wakes Run anyway).
func (d *Dispatcher) schedule(ctx, hard context.Context, st *dispatchState) time.Time {
	if st.startup == nil && !d.findInterrupted(ctx, st) {
		return time.Time{}
	}
	free := d.opts.Workers - len(st.inflight)
	if free <= 0 {
		return time.Time{}
	}
	now := d.svc.clock.Now()
	var picks []OutboxEntry
	var next time.Time
	err := d.svc.store.View(ctx, func(tx ReadTx) error {
		picks, next = picks[:0], time.Time{}
		later := func(t time.Time) {
			if next.IsZero() || t.Before(next) {
				next = t
			}
		}
		seen := map[Address]bool{}
		return tx.Outbox(func(e OutboxEntry) error {
			if seen[e.To] {
				return nil // only the oldest entry to a recipient may go
			}
			seen[e.To] = true
			if _, busy := st.inflight[e.To]; busy {
				return nil
			}
			if until, held := st.notBefore[e.ID]; held && time.Now().Before(until) {
				later(now.Add(time.Until(until)))
				return nil
			}
			due := !e.NextAttemptAt.After(now)
			switch {
			case e.Status == StatusSending && (due || st.startup[e.ID]):
				picks = append(picks, e)
			case len(st.startup) > 0 && e.Status != StatusSending:
				// Nothing is sent until every interrupted send has been reconciled once.
			case due:
				picks = append(picks, e)
			default:
				later(e.NextAttemptAt)
			}
			if len(picks) >= free {
				return ErrStop
			}
			return nil
		})
	})
	if err != nil {
		if ctx.Err() == nil {
			d.onError(fmt.Errorf("read the outbox: %w", err))
		}
		return time.Time{}
	}
	for _, e := range picks {
		if e.Status == StatusSending {
			failures := st.failures[e.ID]
			known, isKnown := st.known[e.ID]
			d.start(st, e, func() jobResult {
				if isKnown {
					return d.recordKnown(ctx, e, known)
				}
				return d.reconcile(ctx, hard, e, failures)
			})
		} else {
			d.start(st, e, func() jobResult { return d.send(ctx, hard, e) })
		}
	}
	return next
}

// findInterrupted fills st.startup with the entries a previous process left sending.
// Only the oldest entry of a recipient counts: a later one waits its turn anyway, and
// must not hold back every send while it does.
func (d *Dispatcher) findInterrupted(ctx context.Context, st *dispatchState) bool {
	startup := map[ID]bool{}
	err := d.svc.store.View(ctx, func(tx ReadTx) error {
		clear(startup)
		seen := map[Address]bool{}
		return tx.Outbox(func(e OutboxEntry) error {
			if !seen[e.To] && e.Status == StatusSending {
				startup[e.ID] = true
			}
			seen[e.To] = true
			return nil
		})
	})
	if err != nil {
		if ctx.Err() == nil {
			d.onError(fmt.Errorf("read the outbox: %w", err))
		}
		return false
	}
	st.startup = startup
	return true
}

// start runs job for entry e in a goroutine and reports its end on st.done.
func (d *Dispatcher) start(st *dispatchState, e OutboxEntry, job func() jobResult) {
	st.inflight[e.To] = e.ID
	go func() {
		r := job()
		r.entry = e
		st.done <- r
	}()
}

// send claims entry e, hands it to the sender and records the outcome.
func (d *Dispatcher) send(ctx, hard context.Context, e OutboxEntry) jobResult {
	if err := d.limit.wait(ctx); err != nil {
		return jobResult{} // shutting down; the entry is untouched
	}
	claimed, rep, err := d.claim(ctx, e.ID)
	if err != nil {
		if ctx.Err() != nil {
			return jobResult{}
		}
		d.onError(fmt.Errorf("claim outbox entry %s: %w", e.ID, err))
		return jobResult{storeFailed: true}
	}
	if IsZeroID(claimed.ID) {
		d.observe(rep)
		return jobResult{}
	}
	sendCtx, cancel := context.WithTimeout(hard, d.opts.SendTimeout)
	start := time.Now()
	receipt, sendErr := d.sender.Send(sendCtx, OutboundText{ID: claimed.ID, To: claimed.To, Body: claimed.Body})
	latency := time.Since(start)
	cancel()
	// The outcome is recorded even when Run's context has ended: it is what makes the
	// next start's reconciliation unnecessary.
	rec := context.WithoutCancel(ctx)
	if sendErr == nil {
		rep, err = d.recordSent(rec, claimed, receipt, OutcomeSent)
	} else {
		rep, err = d.recordFailure(rec, claimed, sendErr)
	}
	if err != nil {
		d.onError(fmt.Errorf("record the outcome of outbox entry %s (it stays sending and will be reconciled): %w", e.ID, err))
		r := jobResult{storeFailed: true}
		if sendErr == nil {
			r.receipt = &receipt
		}
		return r
	}
	rep.Latency = latency
	d.observe(rep)
	return jobResult{}
}

// recordKnown records a send that succeeded but whose recording failed.
func (d *Dispatcher) recordKnown(ctx context.Context, e OutboxEntry, receipt SendReceipt) jobResult {
	rep, err := d.recordSent(context.WithoutCancel(ctx), e, receipt, OutcomeReconciled)
	if err != nil {
		d.onError(fmt.Errorf("record the outcome of outbox entry %s: %w", e.ID, err))
		return jobResult{storeFailed: true, receipt: &receipt}
	}
	d.observe(rep)
	return jobResult{}
}

// reconcile settles an entry left sending: asks the provider when it can, then
// records it as sent or queues it again.
func (d *Dispatcher) reconcile(ctx, hard context.Context, e OutboxEntry, failures int) jobResult {
	rec := context.WithoutCancel(ctx)
	if d.recon == nil {
		rep, err := d.requeue(rec, e, OutcomeRequeued, "The send was interrupted and the provider cannot be asked whether it got the text: sent again.")
		return d.settle(e, rep, err)
	}
	lctx, cancel := context.WithTimeout(hard, d.opts.SendTimeout)
	start := time.Now()
	receipt, found, err := d.recon.Lookup(lctx, OutboundText{ID: e.ID, To: e.To, Body: e.Body}, e.SendingSince)
	latency := time.Since(start)
	cancel()
	if err == nil && found {
		// An identical earlier text to the same number can match the lookup: its SID
		// already belongs to that message, so this one never reached the provider.
		var taken bool
		taken, err = d.sidTakenByOther(rec, receipt.SID, e.ID)
		found = !taken
	}
	var rep DispatchReport
	switch {
	case err != nil:
		rep, err = d.recordLookupFailure(rec, e, err, failures+1)
	case found:
		rep, err = d.recordSent(rec, e, receipt, OutcomeReconciled)
	default:
		rep, err = d.requeue(rec, e, OutcomeRequeued, "The send was interrupted before the provider got the text: sent again.")
	}
	rep.Latency = latency
	r := d.settle(e, rep, err)
	r.lookupFailed = err == nil && rep.Outcome == OutcomeReconcileError
	if r.storeFailed && found {
		r.receipt = &receipt
	}
	return r
}

// sidTakenByOther reports whether a provider SID is already stored on a message
// other than the outbox entry id.
func (d *Dispatcher) sidTakenByOther(ctx context.Context, sid string, id ID) (bool, error) {
	taken := false
	err := d.svc.store.View(ctx, func(tx ReadTx) error {
		m, err := tx.MessageBySID(sid)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		taken = m.ID != id
		return nil
	})
	return taken, err
}

func (d *Dispatcher) settle(e OutboxEntry, rep DispatchReport, err error) jobResult {
	if err != nil {
		d.onError(fmt.Errorf("reconcile outbox entry %s: %w", e.ID, err))
		return jobResult{storeFailed: true}
	}
	d.observe(rep)
	return jobResult{}
}

// update runs fn in a store transaction with the service's clock and publishes what
// it changed once it commits.
func (d *Dispatcher) update(ctx context.Context, fn func(tx Tx, now time.Time, out *changes) error) error {
	var out changes
	err := d.svc.store.Update(ctx, func(tx Tx) error {
		out = nil
		return fn(tx, d.svc.clock.Now(), &out)
	})
	if err == nil {
		d.svc.notifier.Publish(out...)
	}
	return err
}

// claim commits entry id as sending, after checking that it may still be sent. It
// returns the claimed entry, or a zero entry and a report of why it was not sent
// (an empty report when it is simply not due any more).
func (d *Dispatcher) claim(ctx context.Context, id ID) (OutboxEntry, DispatchReport, error) {
	var claimed OutboxEntry
	var rep DispatchReport
	err := d.update(ctx, func(tx Tx, now time.Time, out *changes) error {
		claimed, rep = OutboxEntry{}, DispatchReport{}
		e, err := tx.OutboxEntry(id)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if e.Status != StatusQueued || e.NextAttemptAt.After(now) {
			return nil
		}
		m, hasMsg, err := messageOf(tx, e)
		if err != nil {
			return err
		}
		reason, err := d.refusal(tx, e, m, hasMsg, now)
		if err != nil {
			return err
		}
		if reason != "" {
			rep = report(e, OutcomeRefused, errors.New(reason))
			return d.fail(tx, e, 0, reason, now, out)
		}
		e.Status, e.SendingSince = StatusSending, now
		e.Attempts++
		if err := tx.PutOutbox(e); err != nil {
			return err
		}
		if hasMsg && m.Status.Advances(StatusSending) {
			m.Status, m.UpdatedAt = StatusSending, now
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			out.add(Change{Kind: ChangeStatus, ConversationID: m.ConversationID, MessageID: m.ID})
		}
		claimed = e
		return nil
	})
	return claimed, rep, err
}

// refusal returns why e must not be sent now, or "" when it may be.
func (d *Dispatcher) refusal(tx ReadTx, e OutboxEntry, m Message, hasMsg bool, now time.Time) (string, error) {
	switch {
	case !IsZeroID(e.ConversationID) && !hasMsg:
		return "Not sent: the message no longer exists.", nil
	case hasMsg && m.Status.Final():
		return "Not sent: the message already has a final status.", nil
	case now.Sub(e.CreatedAt) > d.opts.MaxAge:
		return fmt.Sprintf("Not sent: the text waited more than %s to be sent.", d.opts.MaxAge), nil
	case IsZeroID(e.ConversationID):
		return "", nil // a page to a responder's own phone
	}
	th, err := loadThread(tx, e.ConversationID)
	if IsNotFound(err) {
		return "Not sent: the conversation no longer exists.", nil
	} else if err != nil {
		return "", err
	}
	if th.Contact.OptedOut && m.Purpose != PurposeOptOut {
		return "Not sent: the texter has opted out.", nil
	}
	return "", nil
}

// recordSent stores a provider's acceptance: the SID, and status sent unless a
// status callback already moved the message further (one that came before the SID
// was known is applied now); the entry is done.
func (d *Dispatcher) recordSent(ctx context.Context, e OutboxEntry, r SendReceipt, outcome DispatchOutcome) (DispatchReport, error) {
	err := d.update(ctx, func(tx Tx, now time.Time, out *changes) error {
		m, hasMsg, err := messageOf(tx, e)
		if err != nil {
			return err
		}
		switch {
		case hasMsg && m.Status.Advances(StatusSent):
			if err := d.svc.applyStatus(tx, m, StatusUpdate{SID: r.SID, Status: StatusSent}, now, out); err != nil {
				return err
			}
		case hasMsg && m.TwilioSID == "" && r.SID != "":
			m.TwilioSID, m.UpdatedAt = r.SID, now
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			out.add(Change{Kind: ChangeStatus, ConversationID: m.ConversationID, MessageID: m.ID})
		}
		// Twilio may have called back before this commit: apply what it said.
		if err := d.svc.applyOrphanStatus(tx, r.SID, now, out); err != nil {
			return err
		}
		return deleteEntry(tx, e.ID)
	})
	return report(e, outcome, nil), err
}

// recordFailure stores a failed send: permanent failures end the text, unknown
// outcomes wait for reconciliation, anything else is retried.
func (d *Dispatcher) recordFailure(ctx context.Context, e OutboxEntry, sendErr error) (DispatchReport, error) {
	rep := report(e, OutcomeRetry, sendErr)
	var se *SendError
	if errors.As(sendErr, &se) {
		rep.ErrorCode = se.Code
	}
	err := d.update(ctx, func(tx Tx, now time.Time, out *changes) error {
		cur, ok, err := stillSending(tx, e.ID)
		if err != nil || !ok {
			return err // a status callback already ended it
		}
		switch {
		case se != nil && !se.Retryable:
			rep.Outcome = OutcomeFailed
			return d.fail(tx, cur, se.Code, se.Message, now, out)
		case se == nil && outcomeUnknown(sendErr):
			rep.Outcome = OutcomeUnknown
			cur.NextAttemptAt = now.Add(d.backoff(cur.Attempts))
			cur.LastError = errorText(sendErr)
			return tx.PutOutbox(cur)
		}
		rep.Outcome, err = d.queueAgain(tx, cur, errorText(sendErr), true, now, out)
		return err
	})
	return rep, err
}

// requeue queues an interrupted entry again, at once, if it is still sending.
func (d *Dispatcher) requeue(ctx context.Context, e OutboxEntry, outcome DispatchOutcome, why string) (DispatchReport, error) {
	rep := report(e, outcome, nil)
	err := d.update(ctx, func(tx Tx, now time.Time, out *changes) error {
		rep.Outcome = outcome
		cur, ok, err := stillSending(tx, e.ID)
		if err != nil || !ok {
			return err
		}
		if o, err := d.queueAgain(tx, cur, why, false, now, out); err != nil || o == OutcomeFailed {
			rep.Outcome = o
			return err
		}
		return nil
	})
	return rep, err
}

// recordLookupFailure keeps an entry sending until the provider can be asked, or
// fails it once it is older than MaxAge.
func (d *Dispatcher) recordLookupFailure(ctx context.Context, e OutboxEntry, lookupErr error, failures int) (DispatchReport, error) {
	rep := report(e, OutcomeReconcileError, lookupErr)
	err := d.update(ctx, func(tx Tx, now time.Time, out *changes) error {
		rep.Outcome = OutcomeReconcileError
		cur, ok, err := stillSending(tx, e.ID)
		if err != nil || !ok {
			return err
		}
		if now.Sub(cur.CreatedAt) > d.opts.MaxAge {
			rep.Outcome = OutcomeFailed
			return d.fail(tx, cur, 0, "The hotline could not confirm whether this text was sent.", now, out)
		}
		cur.NextAttemptAt = now.Add(d.backoff(failures))
		cur.LastError = "Asking the provider whether it got the text failed: " + errorText(lookupErr)
		return tx.PutOutbox(cur)
	})
	return rep, err
}

// queueAgain returns e to the queue, after a backoff when delay is set, unless it is
// out of attempts or time; then its message fails.
func (d *Dispatcher) queueAgain(tx Tx, e OutboxEntry, lastErr string, delay bool, now time.Time, out *changes) (DispatchOutcome, error) {
	switch {
	case e.Attempts >= d.opts.MaxAttempts:
		return OutcomeFailed, d.fail(tx, e, 0, fmt.Sprintf("Not sent after %d attempts: %s", e.Attempts, lastErr), now, out)
	case now.Sub(e.CreatedAt) > d.opts.MaxAge:
		return OutcomeFailed, d.fail(tx, e, 0, fmt.Sprintf("Not sent within %s: %s", d.opts.MaxAge, lastErr), now, out)
	}
	e.Status, e.SendingSince, e.LastError, e.NextAttemptAt = StatusQueued, time.Time{}, lastErr, now
	if delay {
		e.NextAttemptAt = now.Add(d.backoff(e.Attempts))
	}
	return OutcomeRetry, tx.PutOutbox(e)
}

// fail ends entry e: its message (if any) fails with the code and reason, which for
// Twilio error 21610 also opts the texter out.
func (d *Dispatcher) fail(tx Tx, e OutboxEntry, code int, reason string, now time.Time, out *changes) error {
	m, hasMsg, err := messageOf(tx, e)
	if err != nil {
		return err
	}
	if hasMsg && m.Status.Advances(StatusFailed) {
		u := StatusUpdate{Status: StatusFailed, ErrorCode: code, ErrorMessage: reason}
		if err := d.svc.applyStatus(tx, m, u, now, out); err != nil {
			return err
		}
	}
	return deleteEntry(tx, e.ID)
}

// backoff returns the delay before retry number attempt (1 for the first): doubling
// from FirstRetryDelay up to MaxRetryDelay, with jitter so that retries spread out.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	delay := d.opts.FirstRetryDelay
	for i := 1; i < attempt && delay < d.opts.MaxRetryDelay; i++ {
		delay *= 2
	}
	delay = min(delay, d.opts.MaxRetryDelay)
	half := delay / 2
	return half + rand.N(half+1)
}

func (d *Dispatcher) observe(r DispatchReport) {
	if d.opts.Observer != nil && r.Outcome != "" {
		d.opts.Observer.OnSend(r)
	}
}

func (d *Dispatcher) onError(err error) {
	if d.opts.Observer != nil {
		d.opts.Observer.OnError(err)
	}
}

func report(e OutboxEntry, o DispatchOutcome, err error) DispatchReport {
	return DispatchReport{EntryID: e.ID, ConversationID: e.ConversationID, To: e.To, Attempts: e.Attempts, Outcome: o, Err: err}
}

// messageOf returns the message an entry sends. Pages to responders have none.
func messageOf(tx ReadTx, e OutboxEntry) (Message, bool, error) {
	m, err := tx.Message(e.ConversationID, e.ID)
	if IsNotFound(err) {
		return Message{}, false, nil
	} else if err != nil {
		return Message{}, false, err
	}
	return m, true, nil
}

// stillSending reads entry id and reports whether it is still sending.
func stillSending(tx ReadTx, id ID) (OutboxEntry, bool, error) {
	e, err := tx.OutboxEntry(id)
	if IsNotFound(err) {
		return e, false, nil
	} else if err != nil {
		return e, false, err
	}
	return e, e.Status == StatusSending, nil
}

func deleteEntry(tx Tx, id ID) error {
	if err := tx.DeleteOutbox(id); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

// outcomeUnknown reports whether a send error leaves open whether the provider got
// the text.
func outcomeUnknown(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || errors.Is(err, io.ErrUnexpectedEOF) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// errorText is what an outbox entry keeps of a send error: short, and for a
// *SendError with the provider's code.
func errorText(err error) string {
	var se *SendError
	s := err.Error()
	if errors.As(err, &se) && se.Code != 0 {
		s = fmt.Sprintf("%s (error %d)", se.Message, se.Code)
	}
	return truncate(s, 200)
}

// limiter spaces sends evenly: at most one per interval across all workers.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

// wait blocks until the caller may send. A nil limiter never waits.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	at := time.Now()
	if l.next.After(at) {
		at = l.next
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
