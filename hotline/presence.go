package hotline

import (
	"context"
	"time"
)

// Presence: whether a user takes conversations now, and what routing does when that
// changes. A user is available or away as they set it in the console, and offline
// once they have no live session: at logout, when their last session expires (idle
// or absolute timeout; noticed by Authenticate, PruneSessions and SweepPresence),
// and when they are disabled. Someone who stops being available gets no more offers,
// and the conversations they were given but have not answered (offered, or taken
// without a reply) go back to the queue in their place; those they have answered
// stay theirs, since the texter is talking to them.

// SetRouter connects the accounts to routing: availability changes then return
// unanswered conversations to the queue and wake the router. Without it, availability
// is only recorded. Call it once, while wiring, before serving requests.
func (a *Accounts) SetRouter(r *Router) { a.router = r }

// setPresence records u's availability av in tx. When u stops being available, their
// unanswered conversations go back to the queue. It returns u as written.
func (a *Accounts) setPresence(tx Tx, u User, av Availability, now time.Time, out *changes) (User, error) {
	if u.Availability == av {
		return u, nil
	}
	u.Availability, u.UpdatedAt = av, now
	if err := tx.PutUser(u); err != nil {
		return u, err
	}
	out.add(Change{Kind: ChangeUser, UserID: u.ID})
	if av != AvailabilityAvailable && a.router != nil {
		if _, err := a.router.svc.requeueUnanswered(tx, u.ID, describeAvailability(u, av), now, out); err != nil {
			return u, err
		}
	}
	return u, nil
}

// publish passes what an accounts transaction changed to routing and live consoles,
// once it has committed.
func (a *Accounts) publish(out changes) {
	if a.router != nil && len(out) > 0 {
		a.router.svc.notifier.Publish(out...)
	}
}

// liveSession reports whether the user has a session that has not expired at now.
func (a *Accounts) liveSession(tx ReadTx, userID ID, now time.Time) (bool, error) {
	live := false
	err := tx.UserSessions(userID, func(s Session) error {
		if !s.Expired(now, a.opts.Sessions) {
			live = true
			return ErrStop
		}
		return nil
	})
	return live, err
}

// offlineWithoutSession makes the user offline when they have no live session left.
func (a *Accounts) offlineWithoutSession(tx Tx, userID ID, now time.Time, out *changes) error {
	live, err := a.liveSession(tx, userID, now)
	if err != nil || live {
		return err
	}
	u, err := tx.User(userID)
	if IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	_, err = a.setPresence(tx, u, AvailabilityOffline, now, out)
	return err
}

// SweepPresence makes offline every user who is not, yet has no live session left
// (their last session idled out or reached its absolute timeout without a request
// noticing), deleting their expired sessions. It returns how many went offline.
// The server runs it every minute or so.
func (a *Accounts) SweepPresence(ctx context.Context) (int, error) {
	now := a.clock.Now()
	var stale []ID
	err := a.store.View(ctx, func(tx ReadTx) error {
		stale = nil
		return tx.Users(func(u User) error {
			if u.Availability == AvailabilityOffline || u.Availability == "" {
				return nil
			}
			live, err := a.liveSession(tx, u.ID, now)
			if err == nil && !live {
				stale = append(stale, u.ID)
			}
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range stale {
		var out changes
		went := false
		err := a.store.Update(ctx, func(tx Tx) error {
			out, went = nil, false
			now := a.clock.Now()
			var expired []TokenHash
			err := tx.UserSessions(id, func(s Session) error {
				if s.Expired(now, a.opts.Sessions) {
					expired = append(expired, s.TokenHash)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, h := range expired {
				if err := tx.DeleteSession(h); err != nil && !IsNotFound(err) {
					return err
				}
			}
			before := len(out)
			if err := a.offlineWithoutSession(tx, id, now, &out); err != nil {
				return err
			}
			went = len(out) > before
			return nil
		})
		if err != nil {
			return n, err
		}
		a.publish(out)
		if went {
			n++
		}
	}
	return n, nil
}
