package hotline

import (
	"fmt"
	"slices"
	"time"
)

// ClockTime is a wall-clock time of day in the hotline's time zone, in minutes
// after midnight (0–1439).
type ClockTime int

// ParseClockTime parses "18:00" or "02:30".
func ParseClockTime(s string) (ClockTime, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, Errorf(EINVALID, "%q is not a time of day: write it like 18:00.", truncate(s, 16))
	}
	return ClockTime(h*60 + m), nil
}

// String formats the time as "18:00".
func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Rotation is a weekly shift: a responder is on call on the given weekdays from Start
// to End, wall-clock time in the hotline's zone. An End at or before Start ends on the
// next day (18:00–02:00).
type Rotation struct {
	ID          ID
	ResponderID ID
	Weekdays    []time.Weekday // the days the shift starts on
	Start, End  ClockTime
	// From and Until bound the rotation (Until exclusive); zero means unbounded.
	From, Until time.Time
}

// OverrideKind says whether an override adds or removes cover.
type OverrideKind string

// Override kinds.
const (
	OverrideCover OverrideKind = "cover" // the responder is on call in the window, whatever the rotations say
	OverrideOff   OverrideKind = "off"   // the responder is not on call in the window (someone else covers)
)

// Override is a one-off change to the rotations for one responder.
type Override struct {
	ID          ID
	ResponderID ID
	Kind        OverrideKind
	Start, End  time.Time
	Note        string
}

// Closure is a time the line is not staffed at all (a holiday): nobody is on call,
// whatever the rotations and overrides say.
type Closure struct {
	ID         ID
	Start, End time.Time
	Reason     string
}

// Schedule is everything that decides who is on call.
type Schedule struct {
	Location  *time.Location
	Rotations []Rotation
	Overrides []Override
	Closures  []Closure
}

// Validate checks a rotation.
func (r Rotation) Validate() error {
	if IsZeroID(r.ResponderID) {
		return Errorf(EINVALID, "A rotation needs a responder.")
	}
	if len(r.Weekdays) == 0 {
		return Errorf(EINVALID, "A rotation needs at least one weekday.")
	}
	for _, d := range r.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			return Errorf(EINVALID, "%d is not a weekday.", d)
		}
	}
	if r.Start < 0 || r.Start >= 1440 || r.End < 0 || r.End >= 1440 {
		return Errorf(EINVALID, "Shift times must be between 00:00 and 23:59.")
	}
	if !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From) {
		return Errorf(EINVALID, "A rotation must end after it starts.")
	}
	return nil
}

// Validate checks a window with a start and an end.
func validateWindow(start, end time.Time, what string) error {
	if start.IsZero() || end.IsZero() {
		return Errorf(EINVALID, "%s needs a start and an end.", what)
	}
	if !end.After(start) {
		return Errorf(EINVALID, "%s must end after it starts.", what)
	}
	return nil
}

// Validate checks an override.
func (o Override) Validate() error {
	if IsZeroID(o.ResponderID) {
		return Errorf(EINVALID, "An override needs a responder.")
	}
	if o.Kind != OverrideCover && o.Kind != OverrideOff {
		return Errorf(EINVALID, "An override is either cover or off.")
	}
	return validateWindow(o.Start, o.End, "An override")
}

// Validate checks a closure.
func (c Closure) Validate() error { return validateWindow(c.Start, c.End, "A closure") }

// shiftAt returns the shift of r that contains t, if any. Shift bounds are wall-clock
// times turned into instants in loc, so a shift across a DST change is an hour
// shorter or longer, but consecutive shifts (18:00–02:00, 02:00–10:00) always meet
// exactly: no hour of cover is dropped or doubled.
func (r Rotation) shiftAt(t time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	local := t.In(loc)
	for back := 0; back <= 1; back++ {
		day := time.Date(local.Year(), local.Month(), local.Day()-back, 0, 0, 0, 0, loc)
		if !slices.Contains(r.Weekdays, day.Weekday()) {
			continue
		}
		start = wallClock(day, r.Start, loc)
		endDay := day
		if r.End <= r.Start {
			endDay = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		}
		end = wallClock(endDay, r.End, loc)
		if !t.Before(start) && t.Before(end) && r.activeOn(start) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}

func (r Rotation) activeOn(shiftStart time.Time) bool {
	return (r.From.IsZero() || !shiftStart.Before(r.From)) && (r.Until.IsZero() || shiftStart.Before(r.Until))
}

// wallClock is the instant of clock time c on the day of midnight in loc. A time
// that does not exist that day (02:30 when clocks jump from 02:00 to 03:00) is the
// instant of the jump, so a shift ending then ends when the clocks change and the
// next one starts there.
func wallClock(day time.Time, c ClockTime, loc *time.Location) time.Time {
	t := time.Date(day.Year(), day.Month(), day.Day(), int(c)/60, int(c)%60, 0, 0, loc)
	if wall := t.Hour()*60 + t.Minute(); wall != int(c) {
		// Go resolved the missing time to one side of the jump; the jump is the bound
		// of that side's zone period which faces the requested time.
		start, end := t.ZoneBounds()
		if wall < int(c) && !end.IsZero() {
			return end
		} else if wall > int(c) && !start.IsZero() {
			return start
		}
	}
	return t
}

func within(t, start, end time.Time) bool { return !t.Before(start) && t.Before(end) }

// Closed reports whether the line is closed at t, and the closure.
func (s Schedule) Closed(t time.Time) (Closure, bool) {
	for _, c := range s.Closures {
		if within(t, c.Start, c.End) {
			return c, true
		}
	}
	return Closure{}, false
}

// OnCallAt returns the responders on call at t, in a stable order: those whose
// rotation has a shift containing t, plus those covering by override, minus those
// off by override; nobody during a closure.
func (s Schedule) OnCallAt(t time.Time) []ID {
	if _, closed := s.Closed(t); closed {
		return nil
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	on := map[ID]bool{}
	for _, r := range s.Rotations {
		if _, _, ok := r.shiftAt(t, loc); ok {
			on[r.ResponderID] = true
		}
	}
	for _, o := range s.Overrides {
		if o.Kind == OverrideCover && within(t, o.Start, o.End) {
			on[o.ResponderID] = true
		}
	}
	for _, o := range s.Overrides {
		if o.Kind == OverrideOff && within(t, o.Start, o.End) {
			delete(on, o.ResponderID)
		}
	}
	ids := make([]ID, 0, len(on))
	for id := range on {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ID) int { return a.Compare(b) })
	return ids
}

// Staffed reports whether anyone is on call at t.
func (s Schedule) Staffed(t time.Time) bool { return len(s.OnCallAt(t)) > 0 }
