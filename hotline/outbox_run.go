package hotline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// The dispatcher's scheduling: which entries go next, and the jobs that send them.

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
