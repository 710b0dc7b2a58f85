package hotline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

func mustClock(t *testing.T, s string) hotline.ClockTime {
	t.Helper()
	c, err := hotline.ParseClockTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseClockTime(t *testing.T) {
	for _, s := range []string{"00:00", "18:00", "23:59", "02:30"} {
		c, err := hotline.ParseClockTime(s)
		if err != nil || c.String() != s {
			t.Errorf("ParseClockTime(%q) = %v, %v", s, c, err)
		}
	}
	for _, s := range []string{"24:00", "7:00", "18:60", "noon", "", "18:00:00"} {
		if _, err := hotline.ParseClockTime(s); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("ParseClockTime(%q) = %v, want EINVALID", s, err)
		}
	}
}

func TestOnCallAcrossMidnightAndDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	evening, night, cover := hotline.NewID(t0), hotline.NewID(t0), hotline.NewID(t0)
	weekdays := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	s := hotline.Schedule{Location: ny, Rotations: []hotline.Rotation{
		{ResponderID: evening, Weekdays: weekdays, Start: mustClock(t, "18:00"), End: mustClock(t, "02:00")},
		{ResponderID: night, Weekdays: weekdays, Start: mustClock(t, "02:00"), End: mustClock(t, "10:00")},
	}}
	at := func(layout string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04 MST", layout, ny)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		t    time.Time
		want []hotline.ID
	}{
		{"evening shift before midnight", time.Date(2026, 6, 1, 23, 30, 0, 0, ny), []hotline.ID{evening}},
		{"evening shift after midnight", time.Date(2026, 6, 2, 1, 59, 0, 0, ny), []hotline.ID{evening}},
		{"handover at 02:00", time.Date(2026, 6, 2, 2, 0, 0, 0, ny), []hotline.ID{night}},
		{"nobody between 10:00 and 18:00", time.Date(2026, 6, 2, 12, 0, 0, 0, ny), nil},
		// 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT.
		{"spring forward: just before the jump", at("2026-03-08 01:59 EST"), []hotline.ID{evening}},
		{"spring forward: just after the jump", at("2026-03-08 03:00 EDT"), []hotline.ID{night}},
		// 2026-11-01: clocks fall back from 02:00 EDT to 01:00 EST; 01:xx happens twice.
		{"fall back: first 01:30", at("2026-11-01 01:30 EDT"), []hotline.ID{evening}},
		{"fall back: second 01:30", at("2026-11-01 01:30 EST"), []hotline.ID{evening}},
		{"fall back: 02:00 EST", at("2026-11-01 02:00 EST"), []hotline.ID{night}},
	}
	for _, tt := range tests {
		if got := s.OnCallAt(tt.t); !slices.Equal(got, tt.want) {
			t.Errorf("%s: OnCallAt(%v) = %v, want %v", tt.name, tt.t, got, tt.want)
		}
	}

	// Walk both DST nights minute by minute: from 18:00 to 10:00 exactly one
	// responder is on call at every instant — no hour dropped, none doubled.
	for _, start := range []time.Time{time.Date(2026, 3, 7, 18, 0, 0, 0, ny), time.Date(2026, 10, 31, 18, 0, 0, 0, ny)} {
		end := time.Date(start.Year(), start.Month(), start.Day()+1, 10, 0, 0, 0, ny)
		for tm := start; tm.Before(end); tm = tm.Add(time.Minute) {
			if got := s.OnCallAt(tm); len(got) != 1 {
				t.Fatalf("at %v: on call %v, want exactly one responder", tm, got)
			}
		}
	}

	// Overrides: someone covers the night shift on one night; closures close the line.
	night1 := time.Date(2026, 6, 3, 2, 0, 0, 0, ny)
	s.Overrides = []hotline.Override{
		{ResponderID: night, Kind: hotline.OverrideOff, Start: night1, End: night1.Add(8 * time.Hour)},
		{ResponderID: cover, Kind: hotline.OverrideCover, Start: night1, End: night1.Add(8 * time.Hour)},
	}
	if got := s.OnCallAt(night1.Add(time.Hour)); !slices.Equal(got, []hotline.ID{cover}) {
		t.Errorf("covered night: on call %v, want %v", got, []hotline.ID{cover})
	}
	if got := s.OnCallAt(night1.Add(24 * time.Hour)); !slices.Equal(got, []hotline.ID{night}) {
		t.Errorf("the next night: on call %v, want %v", got, []hotline.ID{night})
	}
	christmas := time.Date(2026, 12, 25, 0, 0, 0, 0, ny)
	s.Closures = []hotline.Closure{{Start: christmas, End: christmas.Add(24 * time.Hour), Reason: "holiday"}}
	if s.Staffed(christmas.Add(20 * time.Hour)) {
		t.Errorf("staffed during a closure")
	}
	if !s.Staffed(christmas.Add(-time.Hour)) {
		t.Errorf("not staffed just before the closure")
	}
}

func TestRotationBounds(t *testing.T) {
	r := hotline.Rotation{ResponderID: hotline.NewID(t0), Weekdays: []time.Weekday{time.Monday},
		Start: mustClock(t, "09:00"), End: mustClock(t, "17:00"),
		From: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 6, 9, 0, 0, 0, 0, time.UTC)}
	s := hotline.Schedule{Rotations: []hotline.Rotation{r}}
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2026, 5, 25, 10, 0, 0, 0, time.UTC), false}, // a Monday before From
		{time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC), false}, // Tuesday
		{time.Date(2026, 6, 8, 16, 59, 0, 0, time.UTC), true},
		{time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), false}, // after Until
	} {
		if got := s.Staffed(tt.t); got != tt.want {
			t.Errorf("Staffed(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
	bad := []hotline.Rotation{
		{Weekdays: []time.Weekday{time.Monday}},
		{ResponderID: r.ResponderID},
		{ResponderID: r.ResponderID, Weekdays: []time.Weekday{9}},
		{ResponderID: r.ResponderID, Weekdays: []time.Weekday{1}, Start: 1440},
		{ResponderID: r.ResponderID, Weekdays: []time.Weekday{1}, From: r.Until, Until: r.From},
	}
	for i, b := range bad {
		if hotline.ErrorCode(b.Validate()) != hotline.EINVALID {
			t.Errorf("bad rotation %d passed validation", i)
		}
	}
}
