// Package metrics exposes the hotline's Prometheus metrics: what operators watch to
// know that texts are arriving, being stored and leaving. Labels never carry a phone
// number, a body or a conversation ID.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the hotline's collectors in their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	// InboundTotal counts inbound texts by result: stored, duplicate, rejected, failed.
	InboundTotal *prometheus.CounterVec
	// InboundSeconds is the time from receiving a webhook to acknowledging it.
	InboundSeconds prometheus.Histogram
	// StatusCallbacksTotal counts delivery status callbacks by result.
	StatusCallbacksTotal *prometheus.CounterVec
	// SendsTotal counts send attempts by outcome (sent, retry, failed) and error code.
	SendsTotal *prometheus.CounterVec
	// SendSeconds is how long the provider took to accept a text.
	SendSeconds prometheus.Histogram
	// HTTPRequestsTotal counts HTTP requests by route and status class.
	HTTPRequestsTotal *prometheus.CounterVec
}

// New registers the hotline's collectors, the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		InboundTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_inbound_messages_total", Help: "Inbound texts by result (stored, duplicate, rejected, failed).",
		}, []string{"result"}),
		InboundSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hotline_inbound_ack_seconds", Help: "Time to store an inbound text (dedupe, state machine, fsync'd commit): what a webhook waits for before its acknowledgement.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		StatusCallbacksTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_status_callbacks_total", Help: "Delivery status callbacks by result (applied, unknown_sid, failed).",
		}, []string{"result"}),
		SendsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_outbox_sends_total", Help: "Outbound send attempts by outcome (sent, retry, failed) and provider error code.",
		}, []string{"outcome", "error_code"}),
		SendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hotline_outbox_send_seconds", Help: "Time the SMS provider took to accept a text.",
			Buckets: prometheus.DefBuckets,
		}),
		HTTPRequestsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_http_requests_total", Help: "HTTP requests by route and status class.",
		}, []string{"route", "code"}),
	}
	m.Registry.MustRegister(m.InboundTotal, m.InboundSeconds, m.StatusCallbacksTotal, m.SendsTotal, m.SendSeconds,
		m.HTTPRequestsTotal, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// GaugeFunc registers a gauge whose value is read when metrics are scraped, such as
// the outbox depth from the store.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// ObserveSend records one send attempt.
func (m *Metrics) ObserveSend(outcome string, errorCode int, latency time.Duration) {
	code := ""
	if errorCode != 0 {
		code = strconv.Itoa(errorCode)
	}
	m.SendsTotal.WithLabelValues(outcome, code).Inc()
	if latency > 0 {
		m.SendSeconds.Observe(latency.Seconds())
	}
}

// ObserveHTTP records one HTTP request by its route pattern (never the raw path, which
// may hold IDs) and status class.
func (m *Metrics) ObserveHTTP(route string, status int) {
	m.HTTPRequestsTotal.WithLabelValues(route, strconv.Itoa(status/100)+"xx").Inc()
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
