package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/metrics"
	"github.com/hotlinehq/hotline/sms/simulator"
)

// wireSMS builds the configured sender and the outbox dispatcher that feeds it, and
// mounts the simulator's pages when it is the provider.
func (a *app) wireSMS(_ context.Context, fan *fanout) error {
	var sender hotline.Sender
	rate := 0.0
	switch a.cfg.SMS.Provider {
	case config.ProviderSimulator:
		sim := simulator.New(a.svc, a.svc, simulator.Options{OnError: func(err error) {
			a.log.Warn().Err(err).Str("component", "simulator").Msg("simulator")
		}})
		sim.Register(a.echo)
		a.closers = append(a.closers, sim.Close)
		sender = sim
	default:
		return fmt.Errorf("sms.provider %q is not supported by this build", a.cfg.SMS.Provider)
	}
	d := hotline.NewDispatcher(a.svc, sender, hotline.DispatcherOptions{
		Workers: a.cfg.Outbox.Workers, RatePerSecond: rate, FirstRetryDelay: a.cfg.Outbox.FirstRetryDelay,
		MaxAttempts: a.cfg.Outbox.MaxAttempts, MaxAge: a.cfg.Outbox.MaxAge,
		Observer: dispatchObserver{log: a.log.With().Str("component", "outbox").Logger(), metrics: a.metrics},
	})
	fan.add(d)
	a.workers = append(a.workers, worker{"outbox", d.Run})
	return nil
}

// dispatchObserver logs and counts what the outbox does, with masked numbers only.
type dispatchObserver struct {
	log     zerolog.Logger
	metrics *metrics.Metrics
}

// OnSend implements hotline.DispatchObserver.
func (o dispatchObserver) OnSend(r hotline.DispatchReport) {
	o.metrics.ObserveSend(string(r.Outcome), r.ErrorCode, r.Latency)
	ev := o.log.Info()
	switch r.Outcome {
	case hotline.OutcomeSent, hotline.OutcomeReconciled, hotline.OutcomeRequeued:
	case hotline.OutcomeFailed, hotline.OutcomeRefused:
		ev = o.log.Warn()
	default:
		ev = o.log.Info()
	}
	ev.Str("message_id", r.EntryID.String()).Str("conversation_id", idString(r.ConversationID)).
		Str("to", r.To.Masked()).Int("attempts", r.Attempts).Str("outcome", string(r.Outcome)).
		Int("error_code", r.ErrorCode).AnErr("reason", r.Err).Dur("latency", r.Latency).Msg("outbox")
}

// OnError implements hotline.DispatchObserver.
func (o dispatchObserver) OnError(err error) {
	o.log.Error().Err(err).Msg("outbox dispatcher error; retrying")
}

func idString(id hotline.ID) string {
	if hotline.IsZeroID(id) {
		return ""
	}
	return id.String()
}
