package hotline

import (
	"context"
	"time"
)

// timerBatch bounds how many due conversations one pass handles, so that a backlog
// after a long outage never holds one long transaction.
const timerBatch = 100

// FireDueTimers applies a Tick to every conversation whose deadline has passed and
// returns how many it changed. Each conversation is its own transaction, which reads
// the deadline again, so a timer fires at most once even if two passes overlap.
func (s *Service) FireDueTimers(ctx context.Context) (int, error) {
	fired := 0
	for {
		var due []ID
		err := s.store.View(ctx, func(tx ReadTx) error {
			var err error
			due, err = tx.DueConversations(s.clock.Now(), timerBatch)
			return err
		})
		if err != nil {
			return fired, err
		}
		for _, id := range due {
			ok, err := s.tick(ctx, id)
			if err != nil {
				return fired, err
			}
			if ok {
				fired++
			}
		}
		if len(due) < timerBatch {
			return fired, nil
		}
	}
}

// RunTimers fires due timers until ctx ends, sleeping until the next deadline found
// in the store (at most maxSleep, so that deadlines written meanwhile are found).
// Because deadlines live in the store, they survive restarts. Errors go to onError
// and the loop carries on.
func (s *Service) RunTimers(ctx context.Context, maxSleep time.Duration, onError func(error)) {
	for {
		if _, err := s.FireDueTimers(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		sleep := maxSleep
		_ = s.store.View(ctx, func(tx ReadTx) error {
			next, ok, err := tx.NextDeadline()
			if err == nil && ok {
				if d := next.Sub(s.clock.Now()); d < sleep {
					sleep = max(d, 10*time.Millisecond)
				}
			}
			return err
		})
		select {
		case <-ctx.Done():
			return
		case <-s.timerWake:
		case <-time.After(sleep):
		}
	}
}
