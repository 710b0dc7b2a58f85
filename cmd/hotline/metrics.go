package main

import (
	"context"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/metrics"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/webhooks"
)

// observed counts what the inbound paths (Twilio's webhooks and the simulator) ask
// of the service: texts stored, duplicates, refusals and failures, and how long
// storing took.
type observed struct {
	webhooks.Service
	m *metrics.Metrics
}

// ReceiveInbound implements webhooks.Service.
func (o observed) ReceiveInbound(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error) {
	start := time.Now()
	res, err := o.Service.ReceiveInbound(ctx, in)
	switch code := hotline.ErrorCode(err); {
	case err == nil && res.Duplicate:
		o.m.InboundTotal.WithLabelValues("duplicate").Inc()
	case err == nil:
		o.m.InboundTotal.WithLabelValues("stored").Inc()
	case code == hotline.EINVALID || code == hotline.ETOOLARGE:
		o.m.InboundTotal.WithLabelValues("rejected").Inc()
	default:
		o.m.InboundTotal.WithLabelValues("failed").Inc()
	}
	if err == nil {
		o.m.InboundSeconds.Observe(time.Since(start).Seconds())
	}
	return res, err
}

// RecordStatus implements webhooks.Service.
func (o observed) RecordStatus(ctx context.Context, u hotline.StatusUpdate) error {
	err := o.Service.RecordStatus(ctx, u)
	switch {
	case err == nil:
		o.m.StatusCallbacksTotal.WithLabelValues("applied").Inc()
	case hotline.IsNotFound(err):
		o.m.StatusCallbacksTotal.WithLabelValues("unknown_sid").Inc()
	default:
		o.m.StatusCallbacksTotal.WithLabelValues("failed").Inc()
	}
	return err
}

// registerStoreGauges exposes the outbox depth and the queue length, read from the
// store (cheap counts) when metrics are scraped.
func registerStoreGauges(m *metrics.Metrics, st *store.Store) {
	stat := func(pick func(store.Stats) int64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			s, err := st.Stats(ctx)
			if err != nil {
				return -1
			}
			return float64(pick(s))
		}
	}
	m.GaugeFunc("hotline_outbox_depth", "Texts waiting in the outbox to be sent (-1 when the store cannot be read).",
		stat(func(s store.Stats) int64 { return s.Outbox }))
	m.GaugeFunc("hotline_queue_length", "Conversations waiting in the queue for a responder (-1 when the store cannot be read).",
		stat(func(s store.Stats) int64 { return s.Queue }))
}
