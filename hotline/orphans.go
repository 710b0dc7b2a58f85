package hotline

import (
	"context"
	"time"
)

// DefaultOrphanMaxAge is how long a status report for an unknown SID is kept
// waiting for its send to be recorded. The dispatcher records a SID within seconds
// of Twilio accepting the text, or, after a crash, once it reconciles: a day covers
// a long outage.
const DefaultOrphanMaxAge = 24 * time.Hour

// keepOrphanStatus keeps a status report whose SID no message has yet, unless a
// report kept earlier already says as much or more.
func keepOrphanStatus(tx Tx, u StatusUpdate, now time.Time) error {
	prev, err := tx.OrphanStatus(u.SID)
	switch {
	case err == nil && !prev.Update.Status.Advances(u.Status):
		return nil
	case err == nil:
		now = prev.ReceivedAt // its age counts from the first report
	case !IsNotFound(err):
		return err
	}
	return tx.PutOrphanStatus(OrphanStatus{Update: u, ReceivedAt: now})
}

// applyOrphanStatus applies, and forgets, the status report kept for sid. It runs in
// the transaction that records sid on its message, so the report cannot be lost
// between the two.
func (s *Service) applyOrphanStatus(tx Tx, sid string, now time.Time, out *changes) error {
	if sid == "" {
		return nil
	}
	o, err := tx.OrphanStatus(sid)
	if IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := tx.DeleteOrphanStatus(sid); err != nil {
		return err
	}
	m, err := tx.MessageBySID(sid)
	if IsNotFound(err) {
		return nil // a page to a responder's phone: no message to update
	} else if err != nil {
		return err
	}
	if m.Direction != DirectionOutbound || !m.Status.Advances(o.Update.Status) {
		return nil
	}
	return s.applyStatus(tx, m, o.Update, now, out)
}

// PruneOrphanStatuses forgets the status reports kept longer than maxAge
// (DefaultOrphanMaxAge when zero or less) for a SID that never turned up, such as
// callbacks for texts another application sent from the same Twilio account. It
// returns how many it forgot.
func (s *Service) PruneOrphanStatuses(ctx context.Context, maxAge time.Duration) (int, error) {
	if maxAge <= 0 {
		maxAge = DefaultOrphanMaxAge
	}
	var pruned int
	err := s.store.Update(ctx, func(tx Tx) error {
		cutoff := s.clock.Now().Add(-maxAge)
		var old []string
		err := tx.OrphanStatuses(func(o OrphanStatus) error {
			if o.ReceivedAt.Before(cutoff) {
				old = append(old, o.Update.SID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, sid := range old {
			if err := tx.DeleteOrphanStatus(sid); err != nil && !IsNotFound(err) {
				return err
			}
		}
		pruned = len(old)
		return nil
	})
	return pruned, err
}
