package loadtest

import (
	"math"
	"testing"
	"time"
)

func TestHistogramPercentilesOfFixedSamples(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100; i++ { // 1 ms … 100 ms, shuffled order does not matter
		h.Record(time.Duration(101-i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 50 * time.Millisecond},
		{0.90, 90 * time.Millisecond},
		{0.99, 99 * time.Millisecond},
		{1.00, 100 * time.Millisecond},
	} {
		got := h.Quantile(tc.q)
		// The histogram rounds up to its bucket's edge: never below the true value,
		// at most 1/128 above it.
		if got < tc.want || float64(got-tc.want) > float64(tc.want)/128 {
			t.Errorf("Quantile(%v) = %v, want %v (+0.8%% at most)", tc.q, got, tc.want)
		}
	}
	if got, want := h.Max(), 100*time.Millisecond; got != want {
		t.Errorf("Max = %v, want %v exactly", got, want)
	}
	if got, want := h.Count(), uint64(100); got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := h.Mean(), 50500*time.Microsecond; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
}

func TestHistogramIsExactBelow256Microseconds(t *testing.T) {
	var h Histogram
	for _, us := range []int{4, 1, 3, 2} {
		h.Record(time.Duration(us) * time.Microsecond)
	}
	// Nearest rank: the smallest sample with at least q·n samples at or below it.
	for q, want := range map[float64]int{0.25: 1, 0.5: 2, 0.75: 3, 0.76: 4, 0.99: 4, 1: 4} {
		if got := h.Quantile(q); got != time.Duration(want)*time.Microsecond {
			t.Errorf("Quantile(%v) of 1,2,3,4 µs = %v, want %dµs", q, got, want)
		}
	}
}

func TestHistogramBucketsCoverEveryValueWithinOnePercent(t *testing.T) {
	prev := -1
	for us := int64(0); us < 1<<22; us = us*17/16 + 1 {
		b := bucketOf(us)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d, below the bucket of a smaller value (%d)", us, b, prev)
		}
		prev = b
		top := bucketTop(b)
		if top < us || float64(top-us) > math.Max(1, float64(us)/128) {
			t.Fatalf("value %dµs: bucket %d tops at %dµs, want within 1/128 above", us, b, top)
		}
		if b > 0 && bucketTop(b-1) >= us {
			t.Fatalf("value %dµs also fits bucket %d (top %d)", us, b-1, bucketTop(b-1))
		}
	}
	if got := bucketOf(math.MaxInt64); got != histBuckets-1 {
		t.Errorf("bucketOf(max) = %d, want the last bucket %d", got, histBuckets-1)
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Max() != 0 || empty.Mean() != 0 {
		t.Errorf("an empty histogram reports %v %v %v, want zeros", empty.Quantile(0.99), empty.Max(), empty.Mean())
	}
	var a, b Histogram
	for i := range 50 {
		a.Record(time.Duration(i+1) * time.Millisecond)
		b.Record(time.Duration(i+51) * time.Millisecond)
	}
	a.Merge(&b)
	a.Merge(&empty)
	if got, want := a.Count(), uint64(100); got != want {
		t.Errorf("merged Count = %d, want %d", got, want)
	}
	if got, want := a.Max(), 100*time.Millisecond; got != want {
		t.Errorf("merged Max = %v, want %v", got, want)
	}
	if got := a.Quantile(0.5); got < 50*time.Millisecond || got > 51*time.Millisecond {
		t.Errorf("merged p50 = %v, want 50ms", got)
	}
}
