package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in fixed memory (about 36 KiB) whatever the number of
// samples: exact below 256 µs, then 128 buckets per power of two, so that a
// percentile is never off by more than 1/128 (0.8 %). Percentiles are reported as
// the upper edge of their bucket (capped at the largest sample), so they never
// understate. The zero value is ready to use; a Histogram is not safe for concurrent
// use: give each worker its own and Merge them.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64 // µs
	min    int64 // µs, valid when n > 0
	sum    float64
}

const (
	histSub     = 128                             // buckets per power of two
	histExact   = 2 * histSub                     // values below this many µs have a bucket each
	histOctaves = 34                              // up to 2^41 µs, about 25 days
	histBuckets = histExact + histOctaves*histSub // 4608
)

// bucketOf returns the bucket of a value in microseconds.
func bucketOf(us int64) int {
	if us < 0 {
		us = 0
	}
	v := uint64(us)
	if v < histExact {
		return int(v)
	}
	e := bits.Len64(v) - 8 // v >> e is in [128, 256)
	i := histExact + (e-1)*histSub + int(v>>e) - histSub
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketTop returns the largest value, in microseconds, that falls in bucket i.
func bucketTop(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	e := (i-histExact)/histSub + 1
	m := uint64((i-histExact)%histSub + histSub)
	return int64((m+1)<<e - 1)
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(us)]++
	if h.n == 0 || us < h.min {
		h.min = us
	}
	if us > h.max {
		h.max = us
	}
	h.n++
	h.sum += float64(us)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample, exactly (to the microsecond).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) * time.Microsecond }

// Mean returns the average sample.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum/float64(h.n)) * time.Microsecond
}

// Quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank method: the
// smallest recorded value such that at least q·n samples are at or below it,
// rounded up to its bucket's upper edge. It returns 0 when there are no samples.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return time.Duration(h.min) * time.Microsecond
	}
	// The tolerance keeps 0.99·100 (98.99999999999999 in floating point) at rank 99.
	rank := uint64(math.Ceil(q*float64(h.n) - 1e-9))
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketTop(i), h.max)) * time.Microsecond
		}
	}
	return h.Max()
}
