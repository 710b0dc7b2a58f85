package loadtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fixedResult is a run of 1,010 requests in 2 s: 1,000 acknowledged with latencies
// of 1…1000 µs, 10 refused.
func fixedResult() *Result {
	r := &Result{Requests: 1010, Acked: 1000, Retries: 25, Elapsed: 2 * time.Second, Latency: &Histogram{},
		Errors: map[string]int64{"503": 7, "timeout": 3, "403": 0}, Concurrency: 8}
	for i := 1; i <= 1000; i++ {
		r.Latency.Record(time.Duration(i) * time.Microsecond)
	}
	return r
}

func TestSummarizeComputesRateAndPercentiles(t *testing.T) {
	s := Summarize(fixedResult())
	if got, want := s.RPS, 500.0; got != want {
		t.Errorf("RPS = %v, want %v (1,000 acknowledged in 2 s; errors do not count)", got, want)
	}
	if got, want := s.Errors, int64(10); got != want {
		t.Errorf("Errors = %d, want %d", got, want)
	}
	if _, ok := s.ErrorsByStatus["403"]; ok {
		t.Errorf("ErrorsByStatus lists a status with no errors: %v", s.ErrorsByStatus)
	}
	for name, c := range map[string]struct{ got, want float64 }{
		"p50": {s.P50, 0.500}, "p90": {s.P90, 0.900}, "p99": {s.P99, 0.990}, "max": {s.Max, 1.000},
	} {
		if c.got < c.want || c.got > c.want*1.008 {
			t.Errorf("%s = %v ms, want %v ms (+0.8%%)", name, c.got, c.want)
		}
	}
	if got, want := s.DurationS, 2.0; got != want {
		t.Errorf("DurationS = %v, want %v", got, want)
	}
}

func TestReportJSONShape(t *testing.T) {
	hot, base := fixedResult(), fixedResult()
	base.Acked, base.Elapsed = 4000, 2*time.Second // 2,000/s
	v := &Verification{Acknowledged: 975}
	var buf bytes.Buffer
	if err := NewReport("in-process", hot, base, v).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("WriteJSON wrote %q, want one line", buf.String())
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"hotline", "baseline", "ratio", "verified"} {
		if _, ok := got[key]; !ok {
			t.Errorf("report lacks %q: %s", key, buf.String())
		}
	}
	for _, side := range []string{"hotline", "baseline"} {
		var s map[string]any
		if err := json.Unmarshal(got[side], &s); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"requests", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors"} {
			if _, ok := s[key].(float64); !ok {
				t.Errorf("%s.%s = %v, want a number", side, key, s[key])
			}
		}
	}
	if string(got["ratio"]) != "0.25" {
		t.Errorf("ratio = %s, want 0.25 (500/s over 2,000/s)", got["ratio"])
	}
	if string(got["verified"]) != "true" {
		t.Errorf("verified = %s, want true", got["verified"])
	}

	buf.Reset()
	if err := NewReport("in-process", hot, nil, nil).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if string(got["baseline"]) != "null" || string(got["ratio"]) != "null" || string(got["verified"]) != "false" {
		t.Errorf("without baseline and verification: baseline %s, ratio %s, verified %s; want null, null, false",
			got["baseline"], got["ratio"], got["verified"])
	}
}

func TestReportText(t *testing.T) {
	hot, base := fixedResult(), fixedResult()
	var buf bytes.Buffer
	rep := NewReport("http://127.0.0.1:8080", hot, base, &Verification{Acknowledged: 975, Missing: 1, Examples: []string{"SMx"}})
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"baseline", "hotline", "500.0", "10 (503×7 timeout×3)", "ratio hotline/baseline: 1.000", "verify: FAILED", "SMx"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, buf.String())
		}
	}
}
