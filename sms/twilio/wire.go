package twilio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
)

// wire is the http.RoundTripper of one call's twilio-go client. It sends each
// request to the configured API URL (twilio-go always builds https://api.twilio.com
// URLs) under the call's context and a per-request timeout (twilio-go sends with
// context.Background()), and remembers what the last request did on the wire.
type wire struct {
	ctx     context.Context
	base    http.RoundTripper
	api     *url.URL
	timeout time.Duration

	mu    sync.Mutex
	state wireState
}

// wireState is what happened to the last request.
type wireState struct {
	// wrote is set once the whole request was written to the connection: from then
	// on Twilio may act on it even if no answer comes back.
	wrote bool
	// status is the HTTP status of the answer; 0 when none came.
	status int
}

// RoundTrip implements http.RoundTripper.
func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.timeout)
	w.set(wireState{})
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				w.mu.Lock()
				w.state.wrote = true
				w.mu.Unlock()
			}
		},
	})
	r := req.Clone(ctx)
	r.URL.Scheme, r.URL.Host = w.api.Scheme, w.api.Host
	if prefix := strings.TrimRight(w.api.Path, "/"); prefix != "" {
		r.URL.Path, r.URL.RawPath = prefix+r.URL.Path, ""
	}
	r.Host = ""
	resp, err := w.base.RoundTrip(r)
	if err != nil {
		cancel()
		return nil, err
	}
	w.mu.Lock()
	w.state.status = resp.StatusCode
	w.mu.Unlock()
	// The timeout also covers reading the body; it ends when the body is closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (w *wire) set(s wireState) {
	w.mu.Lock()
	w.state = s
	w.mu.Unlock()
}

// last returns what happened to the last request.
func (w *wire) last() wireState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
