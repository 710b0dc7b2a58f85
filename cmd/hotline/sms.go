package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/metrics"
	"github.com/hotlinehq/hotline/sms/simulator"
	"github.com/hotlinehq/hotline/sms/twilio"
	"github.com/hotlinehq/hotline/webhooks"
)

// recoveryInterval is how often Twilio is asked for inbound texts the webhook missed.
const recoveryInterval = 5 * time.Minute

// wireSMS builds the configured sender and the outbox dispatcher that feeds it, and
// mounts the simulator's pages when it is the provider.
func (a *app) wireSMS(_ context.Context, fan *fanout) error {
	var sender hotline.Sender
	rate := 0.0
	switch a.cfg.SMS.Provider {
	case config.ProviderSimulator:
		sim := simulator.New(observed{a.svc, a.metrics}, a.svc, simulator.Options{OnError: func(err error) {
			a.log.Warn().Err(err).Str("component", "simulator").Msg("simulator")
		}})
		sim.Register(a.echo)
		a.closers = append(a.closers, sim.Close)
		sender = sim
	case config.ProviderTwilio:
		tw, err := twilio.New(twilio.Options{
			AccountSID: a.cfg.Twilio.AccountSID, AuthToken: a.cfg.Twilio.AuthToken, APIURL: a.cfg.Twilio.APIURL,
			From: a.cfg.Twilio.From, MessagingServiceSID: a.cfg.Twilio.MessagingServiceSID,
			StatusCallbackURL: a.cfg.PublicURL() + webhooks.StatusPath, RequestTimeout: a.cfg.Twilio.RequestTimeout,
			DefaultRegion: a.cfg.DefaultRegion,
		})
		if err != nil {
			return err
		}
		sender, rate = tw, float64(a.cfg.Twilio.MPS)
		a.wireRecovery(tw)
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

// wireRecovery runs missed-webhook recovery: Twilio does not replay an inbound
// webhook that failed, so texts that arrived while the server was down are listed
// through the API and ingested (idempotently) at start and every few minutes.
func (a *app) wireRecovery(lister hotline.InboundLister) {
	log := a.log.With().Str("component", "recovery").Logger()
	a.svc.SetRecoveryOptions(hotline.RecoveryOptions{Recovered: func(n int) {
		log.Warn().Int("texts", n).Msg("recovered texts that no webhook delivered")
	}})
	a.workers = append(a.workers, worker{"recovery", func(ctx context.Context) {
		a.svc.RunRecovery(ctx, lister, recoveryInterval, func(err error) {
			log.Error().Err(err).Msg("missed-webhook recovery failed; retrying")
		})
	}})
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
