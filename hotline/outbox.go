package hotline

import (
	"context"
	"errors"
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
