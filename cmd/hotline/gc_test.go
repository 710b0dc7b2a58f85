package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: without $GOGC the hotline collects at GOGC=400 under a soft 256 MiB
// limit; $GOMEMLIMIT replaces the limit; $GOGC leaves both to the environment. An
// empty variable is unset, as for Go.
func TestTuneGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	}
	tests := []struct {
		name        string
		vars        map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, 400, 256 << 20},
		{"$GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 400, math.MaxInt64},
		{"$GOGC set", map[string]string{"GOGC": "100"}, 100, math.MaxInt64},
		{"$GOGC=off", map[string]string{"GOGC": "off"}, 100, math.MaxInt64},
		{"$GOGC empty", map[string]string{"GOGC": "", "GOMEMLIMIT": ""}, 400, 256 << 20},
	}
	for _, tt := range tests {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		p, l := tuneGC(env(tt.vars))
		gotPercent, gotLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
		if gotPercent != tt.wantPercent || gotLimit != tt.wantLimit {
			t.Errorf("%s: GC percent %d, memory limit %d; want %d, %d", tt.name, gotPercent, gotLimit, tt.wantPercent, tt.wantLimit)
		}
		if wantP, wantL := tt.wantPercent, tt.wantLimit; (p != 0) != (wantP != 100) || (l != 0) != (wantL != math.MaxInt64) {
			t.Errorf("%s: tuneGC reported %d, %d", tt.name, p, l)
		}
	}
}
