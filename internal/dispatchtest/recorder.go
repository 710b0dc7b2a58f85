// Package dispatchtest holds what tests of the outbox dispatcher share.
package dispatchtest

import (
	"sync"

	"github.com/hotlinehq/hotline/hotline"
)

// Recorder is a dispatcher observer that keeps every report and error, safe for
// the dispatcher's goroutines and the test's to use at once.
type Recorder struct {
	mu      sync.Mutex
	reports []hotline.DispatchReport
	errs    []error
}

// OnSend keeps the report of one send.
func (r *Recorder) OnSend(rep hotline.DispatchReport) {
	r.mu.Lock()
	r.reports = append(r.reports, rep)
	r.mu.Unlock()
}

// OnError keeps an error of the dispatcher.
func (r *Recorder) OnError(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// Outcomes returns the outcome of each send reported so far, in order.
func (r *Recorder) Outcomes() []hotline.DispatchOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]hotline.DispatchOutcome, 0, len(r.reports))
	for _, rep := range r.reports {
		out = append(out, rep.Outcome)
	}
	return out
}

// Errors returns the errors reported so far.
func (r *Recorder) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}
