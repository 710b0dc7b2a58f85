package hotline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The dispatcher's transactions: each step of an outbox entry, committed.

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
