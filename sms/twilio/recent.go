package twilio

import (
	"sync"
	"time"
)

// recentSIDs remembers the SIDs of the texts this Sender created lately, so that
// Lookup never takes a text already recorded under its own SID for a later one with
// the same body (the hotline's store refuses one SID on two messages).
type recentSIDs struct {
	mu     sync.Mutex
	keep   time.Duration
	at     map[string]time.Time
	pruned time.Time
}

func newRecentSIDs(keep time.Duration) *recentSIDs {
	return &recentSIDs{keep: keep, at: map[string]time.Time{}}
}

// add remembers sid, and now and then forgets those older than keep.
func (r *recentSIDs) add(sid string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.pruned) > r.keep/4 {
		for s, t := range r.at {
			if now.Sub(t) > r.keep {
				delete(r.at, s)
			}
		}
		r.pruned = now
	}
	r.at[sid] = now
}

// has reports whether sid was created by this Sender lately.
func (r *recentSIDs) has(sid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.at[sid]
	return ok
}
