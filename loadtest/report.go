package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is one target's figures, as `hotline load --json` prints them.
type Summary struct {
	Requests int64   `json:"requests"` // sent, retries included
	RPS      float64 `json:"rps"`      // acknowledged requests per second
	P50      float64 `json:"p50_ms"`   // acknowledgement latency percentiles
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	Mean     float64 `json:"mean_ms"`
	Errors   int64   `json:"errors"` // requests not acknowledged
	// ErrorsByStatus splits Errors by HTTP status or by "transport", "timeout",
	// "not-twiml".
	ErrorsByStatus map[string]int64 `json:"errors_by_status"`
	Acked          int64            `json:"acked"`
	Retries        int64            `json:"retries"`
	DurationS      float64          `json:"duration_s"`
	Concurrency    int              `json:"concurrency"`
	OfferedRPS     float64          `json:"offered_rps,omitempty"` // the --rate, when open-loop
}

// Summarize turns a result into its summary.
func Summarize(r *Result) Summary {
	s := Summary{
		Requests: r.Requests, RPS: round(r.RPS(), 1),
		P50: ms(r.Latency.Quantile(0.50)), P90: ms(r.Latency.Quantile(0.90)), P99: ms(r.Latency.Quantile(0.99)),
		Max: ms(r.Latency.Max()), Mean: ms(r.Latency.Mean()),
		Errors: r.ErrorCount(), ErrorsByStatus: map[string]int64{}, Acked: r.Acked, Retries: r.Retries,
		DurationS: round(r.Elapsed.Seconds(), 3), Concurrency: r.Concurrency, OfferedRPS: r.Rate,
	}
	for k, v := range r.Errors {
		if v > 0 {
			s.ErrorsByStatus[k] = v
		}
	}
	return s
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// Report is the whole outcome of `hotline load`: `--json` prints it as one object.
type Report struct {
	Hotline  Summary  `json:"hotline"`
	Baseline *Summary `json:"baseline"` // null without --baseline
	// Ratio is Hotline.RPS / Baseline.RPS: the share of this machine's ceiling the
	// hotline reaches; null without a baseline.
	Ratio *float64 `json:"ratio"`
	// Verified is true when --verify found every acknowledged text stored exactly
	// once; false when it did not, or when --verify was not asked for.
	Verified     bool          `json:"verified"`
	Verification *Verification `json:"verification,omitempty"`
	// Target is "in-process" or the URL that was loaded.
	Target string `json:"target"`
	// Notes are warnings about the measurement itself (a data directory on tmpfs).
	Notes []string `json:"notes,omitempty"`
}

// NewReport assembles a report; baseline and v may be nil.
func NewReport(target string, hotline *Result, baseline *Result, v *Verification) Report {
	rep := Report{Target: target, Hotline: Summarize(hotline), Verification: v}
	if baseline != nil {
		b := Summarize(baseline)
		rep.Baseline = &b
		if b.RPS > 0 {
			ratio := round(hotline.RPS()/baseline.RPS(), 3)
			rep.Ratio = &ratio
		}
	}
	rep.Verified = v != nil && v.OK()
	return rep
}

// WriteJSON writes the report as one JSON object and a newline.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	return enc.Encode(r)
}

// WriteText writes the report for people: a table, the ratio and the verification.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trequests\tacked\tretries\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\t")
	row := func(name string, s Summary) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n",
			name, s.Requests, s.Acked, s.Retries, s.RPS, s.P50, s.P90, s.P99, s.Max, errorText(s))
	}
	if r.Baseline != nil {
		row("baseline", *r.Baseline)
	}
	row("hotline", r.Hotline)
	if err := tw.Flush(); err != nil {
		return err
	}
	mode := fmt.Sprintf("closed loop, concurrency %d", r.Hotline.Concurrency)
	if r.Hotline.OfferedRPS > 0 {
		mode = fmt.Sprintf("open loop at %.0f req/s offered (latency from each request's due time), at most %d in flight",
			r.Hotline.OfferedRPS, r.Hotline.Concurrency)
	}
	fmt.Fprintf(w, "\ntarget: %s; %s; %.1fs\n", r.Target, mode, r.Hotline.DurationS)
	if r.Ratio != nil {
		fmt.Fprintf(w, "ratio hotline/baseline: %.3f (%.0f%% of this machine's ceiling)\n", *r.Ratio, *r.Ratio*100)
	}
	if r.Verification != nil {
		fmt.Fprintf(w, "verify: %s\n", r.Verification)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func errorText(s Summary) string {
	if s.Errors == 0 {
		return "0"
	}
	keys := make([]string, 0, len(s.ErrorsByStatus))
	for k := range s.ErrorsByStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, s.ErrorsByStatus[k])
	}
	return fmt.Sprintf("%d (%s)", s.Errors, strings.Join(parts, " "))
}
