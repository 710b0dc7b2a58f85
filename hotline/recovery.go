package hotline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// This file is missed-webhook recovery. Twilio does not replay an inbound webhook
// that failed (the server was down, or too slow): it tries the fallback URL once and
// gives up. So the hotline periodically asks the provider which texts it received
// and stores any it lacks, through the same idempotent ReceiveInbound as the webhook.

// CheckpointInboundRecovery names the store checkpoint of missed-webhook recovery:
// the provider's receive time up to which every listed text is known to be stored.
const CheckpointInboundRecovery = "inbound_recovery"

// Defaults of RecoveryOptions.
const (
	DefaultRecoveryLookback = 24 * time.Hour
	DefaultRecoveryOverlap  = 5 * time.Minute
	DefaultRecoveryInterval = 5 * time.Minute
)

// Keys of InboundMessage.Extra set on the texts recovery stores, so that the console
// and transcripts can tell that a text arrived late, and when the texter sent it.
const (
	ExtraRecovered  = "Recovered"  // "true": no webhook brought it; it was listed from the provider
	ExtraReceivedAt = "ReceivedAt" // when the provider received it (RFC 3339), before the message's CreatedAt
)

// ListedInbound is a text the provider says it received.
type ListedInbound struct {
	InboundMessage
	// ReceivedAt is when the provider received it, by the provider's clock (Twilio's
	// date_sent); zero when the provider did not say.
	ReceivedAt time.Time
}

// InboundLister lists the texts the provider received for the hotline: the Twilio
// sender implements it with the Messages list API.
type InboundLister interface {
	// ListInbound returns the inbound texts received at or after since, in any
	// order. It returns every one of them or an error, never a part: a text missing
	// from a successful answer is taken as never received.
	ListInbound(ctx context.Context, since time.Time) ([]ListedInbound, error)
}

// RecoveryOptions tune missed-webhook recovery. Zero fields take the defaults.
type RecoveryOptions struct {
	// Lookback is how far back the first run (no checkpoint yet: a new database, or
	// one restored without it) lists [DefaultRecoveryLookback]. A day means a texter
	// who wrote while the hotline was being set up or restored still gets answered;
	// those texts get the welcome text as if they had just arrived. A negative
	// Lookback starts from now: nothing sent before the first run is stored.
	Lookback time.Duration
	// Overlap is how far before the checkpoint each run lists again
	// [DefaultRecoveryOverlap]. It covers the provider's list lagging behind
	// reality and clock differences; texts listed twice are stored once.
	Overlap time.Duration
	// OrphanMaxAge is how long RunRecovery keeps status reports for unknown SIDs
	// [DefaultOrphanMaxAge] (see PruneOrphanStatuses).
	OrphanMaxAge time.Duration
	// Recovered, when set, is called by RunRecovery after a run that stored texts no
	// webhook had brought: worth a warning, since it means webhooks are failing.
	Recovered func(n int)
}

func (o RecoveryOptions) withDefaults() RecoveryOptions {
	if o.Lookback == 0 {
		o.Lookback = DefaultRecoveryLookback
	}
	if o.Lookback < 0 {
		o.Lookback = 0
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultRecoveryOverlap
	}
	if o.OrphanMaxAge <= 0 {
		o.OrphanMaxAge = DefaultOrphanMaxAge
	}
	return o
}

// SetRecoveryOptions replaces the options of RecoverMissedInbound and RunRecovery;
// the next run uses them.
func (s *Service) SetRecoveryOptions(o RecoveryOptions) {
	s.mu.Lock()
	s.recovery = o
	s.mu.Unlock()
}

func (s *Service) recoveryOptions() RecoveryOptions {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.recovery.withDefaults()
}

// RecoverMissedInbound stores the texts the provider received that the store lacks,
// and returns how many it stored.
//
// It lists from the checkpoint minus the overlap (from now minus the lookback on the
// first run), oldest first, and stores each text the store does not hold through
// ReceiveInbound, which dedupes on the MessageSid: a text is never stored twice,
// however often it is listed. Only once all are stored does the checkpoint advance,
// to the newest receive time listed, or to the start of the run minus the overlap
// when that is later (so that a quiet hotline does not list an ever longer window);
// a failure leaves it where it was, and the next run tries the same texts again.
//
// A text that can never be stored (EINVALID, ETOOLARGE, such as a sender that is not
// a phone number) does not hold the others back: it is skipped, the checkpoint
// passes it, and the returned error names its SID.
func (s *Service) RecoverMissedInbound(ctx context.Context, lister InboundLister) (int, error) {
	o := s.recoveryOptions()
	started := s.clock.Now()
	var checkpoint time.Time
	var have bool
	err := s.store.View(ctx, func(tx ReadTx) error {
		var err error
		checkpoint, have, err = tx.Checkpoint(CheckpointInboundRecovery)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read the recovery checkpoint: %w", err)
	}
	since := started.Add(-o.Lookback)
	if have {
		since = checkpoint.Add(-o.Overlap)
	}
	listed, err := lister.ListInbound(ctx, since)
	if err != nil {
		return 0, fmt.Errorf("list the texts received since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	slices.SortStableFunc(listed, func(a, b ListedInbound) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.SID, b.SID))
	})
	missing, err := s.unknownInbound(ctx, listed)
	if err != nil {
		return 0, err
	}
	ingested, skipped := 0, []error(nil)
	for _, l := range missing {
		res, err := s.ReceiveInbound(ctx, recovered(l))
		switch code := ErrorCode(err); {
		case err == nil && !res.Duplicate:
			ingested++
		case err == nil: // the webhook stored it meanwhile
		case code == EINVALID || code == ETOOLARGE:
			skipped = append(skipped, fmt.Errorf("recovered text %s cannot be stored, skipped: %w", l.SID, err))
		default:
			return ingested, fmt.Errorf("store recovered text %s: %w", l.SID, err)
		}
	}
	next := started.Add(-o.Overlap)
	if have {
		next = later(next, checkpoint)
	}
	for _, l := range listed {
		next = later(next, l.ReceivedAt)
	}
	if err := s.advanceCheckpoint(ctx, next); err != nil {
		return ingested, err
	}
	return ingested, errors.Join(skipped...)
}

// unknownInbound returns the listed texts whose SID no stored message has.
func (s *Service) unknownInbound(ctx context.Context, listed []ListedInbound) ([]ListedInbound, error) {
	var missing []ListedInbound
	err := s.store.View(ctx, func(tx ReadTx) error {
		missing = missing[:0]
		for _, l := range listed {
			_, _, err := tx.MessageIDBySID(l.SID)
			if IsNotFound(err) {
				missing = append(missing, l)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up recovered texts: %w", err)
	}
	return missing, nil
}

// advanceCheckpoint moves the recovery checkpoint forward to t; it never moves back,
// even when runs overlap.
func (s *Service) advanceCheckpoint(ctx context.Context, t time.Time) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		cur, ok, err := tx.Checkpoint(CheckpointInboundRecovery)
		if err != nil || (ok && !t.After(cur)) {
			return err
		}
		return tx.PutCheckpoint(CheckpointInboundRecovery, t)
	})
	if err != nil {
		return fmt.Errorf("advance the recovery checkpoint: %w", err)
	}
	return nil
}

// recovered returns the text to store, marked as recovered.
func recovered(l ListedInbound) InboundMessage {
	in := l.InboundMessage
	in.Extra = maps.Clone(in.Extra)
	if in.Extra == nil {
		in.Extra = map[string]string{}
	}
	in.Extra[ExtraRecovered] = "true"
	if !l.ReceivedAt.IsZero() {
		in.Extra[ExtraReceivedAt] = l.ReceivedAt.UTC().Format(time.RFC3339)
	}
	if in.Segments == 0 && in.Body != "" {
		in.Segments = Segments(in.Body)
	}
	return in
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// RunRecovery runs RecoverMissedInbound at once and then every interval
// (DefaultRecoveryInterval when zero or less), and prunes old status reports for
// unknown SIDs, until ctx ends. Errors go to onError (which may be nil) and do not
// stop it: the next run tries again. Run it only with a provider that can list
// texts (Twilio); the simulator never misses a webhook.
func (s *Service) RunRecovery(ctx context.Context, lister InboundLister, every time.Duration, onError func(error)) {
	if every <= 0 {
		every = DefaultRecoveryInterval
	}
	report := func(err error) {
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		o := s.recoveryOptions()
		n, err := s.RecoverMissedInbound(ctx, lister)
		report(err)
		if n > 0 && o.Recovered != nil {
			o.Recovered(n)
		}
		_, err = s.PruneOrphanStatuses(ctx, o.OrphanMaxAge)
		report(err)
		timer.Reset(every)
	}
}
