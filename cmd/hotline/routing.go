package main

import (
	"context"
	"time"

	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
)

// presenceSweepInterval is how often users whose last session expired are made
// offline (their unanswered conversations going back to the queue): well inside the
// session idle timeout.
const presenceSweepInterval = time.Minute

// wireRouting builds routing: the router, woken by every committed change (a text
// that queues a conversation, an offer that lapses, a responder who becomes
// available) and every routing.sweep_interval, and the roster of schedules.
func (a *app) wireRouting(fan *fanout) {
	log := a.log.With().Str("component", "router").Logger()
	a.router = hotline.NewRouter(a.svc, hotline.RouterOptions{SweepInterval: a.cfg.Routing.SweepInterval, OnError: func(err error) {
		log.Error().Err(err).Msg("routing the queue failed; retrying")
	}})
	a.roster = hotline.NewRoster(a.svc)
	fan.add(a.router)
	a.workers = append(a.workers, worker{"router", a.router.Run})
}

// connectRouting gives the console's API the router and the roster, and the
// accounts the router, so that a responder who goes away or offline hands their
// unanswered conversations back to the queue; it runs the presence sweep.
func (a *app) connectRouting(deps *console.Deps) {
	a.accounts.SetRouter(a.router)
	deps.Router, deps.Roster = a.router, a.roster
	deps.Settings.Assignment = a.cfg.Routing.Mode
	a.workers = append(a.workers, worker{"presence", a.sweepPresence})
}

// sweepPresence makes offline, every minute, the users whose last session idled
// out or reached its absolute timeout.
func (a *app) sweepPresence(ctx context.Context) {
	log := a.log.With().Str("component", "presence").Logger()
	for {
		if n, err := a.accounts.SweepPresence(ctx); err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("marking users without a session offline failed")
		} else if n > 0 {
			log.Info().Int("users", n).Msg("users whose sessions ended are offline")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(presenceSweepInterval):
		}
	}
}
