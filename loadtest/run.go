// Package loadtest is the hotline's load generator: it sends correctly signed
// Twilio inbound webhooks to a server, measures how fast they are acknowledged, and
// checks afterwards that every acknowledged text was stored exactly once.
//
// Run drives the load. Without a Rate it is closed-loop: Concurrency workers each
// send the next request as soon as the last one is answered, which measures
// throughput. With a Rate it is open-loop: request i is due at start + i/Rate
// whatever happened before, and its latency is measured from that due time, not from
// when a worker got round to sending it — so a server that stalls shows the stall in
// every request that queued behind it instead of hiding it (coordinated omission).
//
// StartBaseline serves the same webhook with the same form parsing and signature
// check but stores nothing: the ceiling of this machine, against which the hotline's
// throughput is a ratio. VerifyStore and Lookup check what was stored.
//
// The package holds no state between runs and touches nothing but the URLs it is
// given; the `hotline load` command wires it to an in-process hotline.
package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotlinehq/hotline/webhooks"
)

// Options describe one load run. Zero fields take the defaults in brackets.
type Options struct {
	// URL is the server's base URL, such as http://127.0.0.1:8080; requests go to
	// URL + webhooks.InboundPath.
	URL string
	// PublicURL is the base URL signatures are computed over: the server's
	// public_url [URL].
	PublicURL string
	// AuthToken is the Twilio auth token the server checks signatures with.
	AuthToken string
	// AccountSID is sent as AccountSid [a fixed AC… SID]; set it when the server
	// checks twilio.account_sid.
	AccountSID string
	// Concurrency is the most requests in flight at once [16].
	Concurrency int
	// Duration and Requests bound the run: it stops at whichever comes first. With
	// neither, it runs for 10s.
	Duration time.Duration
	Requests int64
	// Rate is the offered load in requests per second, open-loop; 0 sends as fast
	// as Concurrency allows.
	Rate float64
	// Texters is how many distinct numbers text [1000].
	Texters int
	// RetryShare is the share of requests that resend a text already acknowledged,
	// as Twilio does when an acknowledgement is lost [0].
	RetryShare float64
	// KeywordShare is the share of new texts that are a keyword (HELP, STOP, START,
	// AYUDA, …) [0.005]; a negative value sends none. STOP opts a texter out, so
	// keywords change what the hotline sends afterwards.
	KeywordShare float64
	// KeepSIDs keeps every acknowledged MessageSid in Result.SIDs, for verification
	// (34 bytes and a string header per text).
	KeepSIDs bool
	// Timeout bounds one request [15s, Twilio's own limit].
	Timeout time.Duration
	// Seed makes the texts reproducible [1].
	Seed uint64
	// Client sends the requests [a client with Concurrency keep-alive connections].
	Client *http.Client
}

// DefaultAccountSID is the AccountSid sent when Options.AccountSID is empty.
const DefaultAccountSID = "AC00000000000000000000000000000000"

func (o Options) withDefaults() (Options, error) {
	if o.URL == "" {
		return o, errors.New("loadtest: no URL")
	}
	if o.AuthToken == "" {
		return o, errors.New("loadtest: no auth token: the server refuses unsigned webhooks")
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.PublicURL == "" {
		o.PublicURL = o.URL
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.AccountSID == "" {
		o.AccountSID = DefaultAccountSID
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Texters <= 0 {
		o.Texters = 1000
	}
	if o.RetryShare < 0 || o.RetryShare >= 1 {
		return o, fmt.Errorf("loadtest: retry share %v is not in [0, 1)", o.RetryShare)
	}
	switch {
	case o.KeywordShare == 0:
		o.KeywordShare = 0.005
	case o.KeywordShare < 0:
		o.KeywordShare = 0
	case o.KeywordShare > 1:
		return o, fmt.Errorf("loadtest: keyword share %v is more than 1", o.KeywordShare)
	}
	if o.Rate < 0 {
		return o, fmt.Errorf("loadtest: rate %v is negative", o.Rate)
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o, nil
}

// Result is what a run measured.
type Result struct {
	// Requests counts the requests sent, retries included; Acked those answered 200
	// with TwiML; Retries those that resent an acknowledged SID.
	Requests, Acked, Retries int64
	// Errors counts the other answers by HTTP status ("503"), or "transport",
	// "timeout" and "not-twiml" (a 200 without <Response/>).
	Errors map[string]int64
	// Elapsed runs from the first request to the last answer.
	Elapsed time.Duration
	// Latency is the acknowledgement latency of the acknowledged requests: from the
	// request's due time (open-loop) or from when it was sent (closed-loop) to the
	// whole answer.
	Latency *Histogram
	// SIDs are the distinct acknowledged MessageSids, when Options.KeepSIDs is set.
	SIDs []string
	// Concurrency and Rate are the options the run used.
	Concurrency int
	Rate        float64
}

// ErrorCount returns the number of requests that were not acknowledged.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// RPS returns acknowledged requests per second. Errors do not count: a server that
// answers 503 quickly is not fast.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Acked) / r.Elapsed.Seconds()
}

// worker is one sender's share of the result, merged at the end.
type worker struct {
	hist                     Histogram
	requests, acked, retries int64
	errors                   map[string]int64
	sids                     []string
	end                      time.Time
}

// Run sends the load described by opts and returns what it measured. It returns an
// error only when opts are unusable; failed requests are counted in Result.Errors.
// Cancelling ctx ends the run early with what was measured so far.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	client := opts.Client
	if client == nil {
		client = NewClient(opts.Concurrency, opts.Timeout)
		defer client.CloseIdleConnections()
	}
	target := opts.URL + webhooks.InboundPath
	signed := opts.PublicURL + webhooks.InboundPath
	pool := &retryPool{}

	var interval time.Duration
	if opts.Rate > 0 {
		interval = time.Duration(float64(time.Second) / opts.Rate)
	}
	var next atomic.Int64
	start := time.Now()
	var deadline time.Time
	if opts.Duration > 0 {
		deadline = start.Add(opts.Duration)
	}
	workers := make([]*worker, opts.Concurrency)
	var wg sync.WaitGroup
	for id := range workers {
		w := &worker{errors: map[string]int64{}, end: start}
		workers[id] = w
		wg.Go(func() {
			r := rand.New(rand.NewPCG(opts.Seed, uint64(id)))
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if opts.Requests > 0 && i >= opts.Requests {
					return
				}
				due := time.Now()
				if interval > 0 {
					due = start.Add(time.Duration(i) * interval)
				}
				if !deadline.IsZero() && !due.Before(deadline) {
					return
				}
				if wait := time.Until(due); wait > 0 {
					timer.Reset(wait)
					select {
					case <-ctx.Done():
						return
					case <-timer.C:
					}
				}
				m, retry := message{}, false
				if opts.RetryShare > 0 && r.Float64() < opts.RetryShare {
					m, retry = pool.pick(r)
				}
				if !retry {
					m = newMessage(r, opts.Texters, opts.KeywordShare)
				}
				outcome := send(ctx, client, target, signed, opts, m)
				if ctx.Err() != nil {
					return // cancelled: this request's outcome says nothing about the server
				}
				w.end = time.Now()
				w.requests++
				if retry {
					w.retries++
				}
				if outcome != "" {
					w.errors[outcome]++
					continue
				}
				w.acked++
				w.hist.Record(w.end.Sub(due))
				if !retry {
					pool.add(m, r)
					if opts.KeepSIDs {
						w.sids = append(w.sids, m.sid)
					}
				}
			}
		})
	}
	wg.Wait()

	res := &Result{Errors: map[string]int64{}, Latency: &Histogram{}, Concurrency: opts.Concurrency, Rate: opts.Rate}
	end := start
	for _, w := range workers {
		res.Requests += w.requests
		res.Acked += w.acked
		res.Retries += w.retries
		for k, v := range w.errors {
			res.Errors[k] += v
		}
		res.Latency.Merge(&w.hist)
		res.SIDs = append(res.SIDs, w.sids...)
		if w.end.After(end) {
			end = w.end
		}
	}
	res.Elapsed = end.Sub(start)
	return res, nil
}

// send posts one signed webhook and returns "" when it was acknowledged, else what
// went wrong.
func send(ctx context.Context, client *http.Client, target, signed string, opts Options, m message) string {
	form := m.form(opts.AccountSID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return "transport"
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "hotline-load/1 (TwilioProxy/1.1)")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(opts.AuthToken, signed, form))
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return "timeout"
		}
		return "transport"
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case err != nil:
		return "transport"
	case resp.StatusCode != http.StatusOK:
		return strconv.Itoa(resp.StatusCode)
	case !bytes.Contains(body, []byte("<Response/>")) && !bytes.Contains(body, []byte("<Response></Response>")):
		return "not-twiml"
	}
	return ""
}

// NewClient returns an HTTP client for n concurrent requests: n keep-alive
// connections, no compression, each request bounded by timeout.
func NewClient(n int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil, // loopback load never goes through a proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        n,
			MaxIdleConnsPerHost: n,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// retryPool keeps up to retryPoolSize recently acknowledged texts to resend.
type retryPool struct {
	mu   sync.Mutex
	msgs []message
}

const retryPoolSize = 4096

func (p *retryPool) add(m message, r *rand.Rand) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.msgs) < retryPoolSize {
		p.msgs = append(p.msgs, m)
		return
	}
	p.msgs[r.IntN(retryPoolSize)] = m
}

func (p *retryPool) pick(r *rand.Rand) (message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.msgs) == 0 {
		return message{}, false
	}
	return p.msgs[r.IntN(len(p.msgs))], true
}
