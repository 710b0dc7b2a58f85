package hotline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Roster is the schedule as people use it: coordinators write rotations, overrides
// and closures (each change audited); everyone signed in reads them, who is on call
// at a time, and the responders with their availability and load. It is safe for
// concurrent use.
type Roster struct {
	svc *Service
}

// NewRoster returns the schedule use cases over svc; times are in the time zone of
// svc's routing policy.
func NewRoster(svc *Service) *Roster { return &Roster{svc: svc} }

// Audit actions and targets of schedule changes.
const (
	AuditRotationCreate AuditAction = "rotation_create"
	AuditRotationUpdate AuditAction = "rotation_update"
	AuditRotationDelete AuditAction = "rotation_delete"
	AuditOverrideCreate AuditAction = "override_create"
	AuditOverrideDelete AuditAction = "override_delete"
	AuditClosureCreate  AuditAction = "closure_create"
	AuditClosureDelete  AuditAction = "closure_delete"
	TargetRotation                  = "rotation"
	TargetOverride                  = "override"
	TargetClosure                   = "closure"
)

// Limits on schedules.
const (
	MaxRotations         = 1000
	MaxOverrides         = 10000
	MaxClosures          = 1000
	maxScheduleNoteRunes = 200
)

// Location returns the hotline's time zone, in which shifts are written.
func (r *Roster) Location() *time.Location { return r.svc.Policy().Routing.location() }

func requireSignedIn(c Caller) error {
	if IsZeroID(c.User.ID) && !c.isOperator() {
		return Errorf(EFORBIDDEN, "Sign in first.")
	}
	return nil
}

// Schedule returns the whole schedule. Anyone signed in may read it.
func (r *Roster) Schedule(ctx context.Context, c Caller) (Schedule, error) {
	if err := requireSignedIn(c); err != nil {
		return Schedule{}, err
	}
	var s Schedule
	err := r.svc.store.View(ctx, func(tx ReadTx) error {
		var err error
		s, err = loadSchedule(tx, r.Location())
		return err
	})
	return s, err
}

// schedulable checks that the user a shift names exists and is enabled.
func schedulable(tx ReadTx, id ID) (User, error) {
	u, err := tx.User(id)
	if IsNotFound(err) || (err == nil && u.Disabled) {
		return u, Errorf(EINVALID, "responder_id: there is no such user, or they are disabled.")
	}
	return u, err
}

func cleanNote(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxScheduleNoteRunes {
		return "", Errorf(EINVALID, "%s: at most %d characters.", field, maxScheduleNoteRunes)
	}
	return s, nil
}

// scheduleChange runs a coordinator's change to the schedule in one transaction with
// its audit entry, and wakes routing once it commits (someone may be on call now).
func (r *Roster) scheduleChange(ctx context.Context, c Caller, what string, fn func(tx Tx, now time.Time) (AuditEntry, error)) error {
	if err := c.requireCoordinator(what); err != nil {
		return err
	}
	err := r.svc.store.Update(ctx, func(tx Tx) error {
		now := r.svc.clock.Now()
		e, err := fn(tx, now)
		if err != nil {
			return err
		}
		return appendAudit(tx, e, now)
	})
	if err == nil {
		r.svc.notifier.Publish(Change{Kind: ChangeSchedule})
	}
	return err
}

func weekdayNames(days []time.Weekday) string {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = strings.ToLower(d.String()[:3])
	}
	return strings.Join(names, ",")
}

func rotationDetail(u User, rot Rotation) map[string]string {
	d := map[string]string{"responder": u.Username, "weekdays": weekdayNames(rot.Weekdays),
		"start": rot.Start.String(), "end": rot.End.String()}
	if !rot.From.IsZero() {
		d["from"] = rot.From.UTC().Format(time.RFC3339)
	}
	if !rot.Until.IsZero() {
		d["until"] = rot.Until.UTC().Format(time.RFC3339)
	}
	return d
}

func countAll[T any](iter func(func(T) error) error) (int, error) {
	n := 0
	err := iter(func(T) error { n++; return nil })
	return n, err
}

// normalizeRotation sorts and dedupes the weekdays and validates the rotation.
func normalizeRotation(rot Rotation) (Rotation, error) {
	rot.Weekdays = slices.Clone(rot.Weekdays)
	slices.Sort(rot.Weekdays)
	rot.Weekdays = slices.Compact(rot.Weekdays)
	return rot, rot.Validate()
}

// CreateRotation adds a weekly rotation. Only coordinators may.
//
// Errors: EFORBIDDEN; EINVALID naming the field; ECONFLICT when there are too many.
func (r *Roster) CreateRotation(ctx context.Context, c Caller, rot Rotation) (Rotation, error) {
	rot, err := normalizeRotation(rot)
	if err != nil {
		return Rotation{}, err
	}
	err = r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		u, err := schedulable(tx, rot.ResponderID)
		if err != nil {
			return AuditEntry{}, err
		}
		if n, err := countAll(tx.Rotations); err != nil || n >= MaxRotations {
			return AuditEntry{}, orTooMany(err, "rotations", MaxRotations)
		}
		rot.ID = NewID(now)
		if err := tx.PutRotation(rot); err != nil {
			return AuditEntry{}, err
		}
		e := c.entry(AuditRotationCreate, TargetRotation, rot.ID.String())
		e.Detail = rotationDetail(u, rot)
		return e, nil
	})
	return rot, err
}

// UpdateRotation replaces a rotation (its ID stays). Only coordinators may.
//
// Errors: EFORBIDDEN; EINVALID; ENOTFOUND.
func (r *Roster) UpdateRotation(ctx context.Context, c Caller, rot Rotation) (Rotation, error) {
	rot, err := normalizeRotation(rot)
	if err != nil {
		return Rotation{}, err
	}
	err = r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		if _, err := tx.Rotation(rot.ID); err != nil {
			return AuditEntry{}, err
		}
		u, err := schedulable(tx, rot.ResponderID)
		if err != nil {
			return AuditEntry{}, err
		}
		if err := tx.PutRotation(rot); err != nil {
			return AuditEntry{}, err
		}
		e := c.entry(AuditRotationUpdate, TargetRotation, rot.ID.String())
		e.Detail = rotationDetail(u, rot)
		return e, nil
	})
	return rot, err
}

// DeleteRotation deletes a rotation. Only coordinators may.
func (r *Roster) DeleteRotation(ctx context.Context, c Caller, id ID) error {
	return r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		rot, err := tx.Rotation(id)
		if err != nil {
			return AuditEntry{}, err
		}
		if err := tx.DeleteRotation(id); err != nil {
			return AuditEntry{}, err
		}
		u, _ := tx.User(rot.ResponderID)
		e := c.entry(AuditRotationDelete, TargetRotation, id.String())
		e.Detail = rotationDetail(u, rot)
		return e, nil
	})
}

func orTooMany(err error, what string, limit int) error {
	if err != nil {
		return err
	}
	return Errorf(ECONFLICT, "There are already %d %s: delete old ones first.", limit, what)
}

// CreateOverride adds a one-off override: someone covers a window (cover), or is
// off in it (off). Only coordinators may.
//
// Errors: EFORBIDDEN; EINVALID naming the field; ECONFLICT when there are too many.
func (r *Roster) CreateOverride(ctx context.Context, c Caller, o Override) (Override, error) {
	if err := o.Validate(); err != nil {
		return Override{}, err
	}
	var err error
	if o.Note, err = cleanNote("note", o.Note); err != nil {
		return Override{}, err
	}
	err = r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		u, err := schedulable(tx, o.ResponderID)
		if err != nil {
			return AuditEntry{}, err
		}
		if n, err := countAll(tx.Overrides); err != nil || n >= MaxOverrides {
			return AuditEntry{}, orTooMany(err, "overrides", MaxOverrides)
		}
		o.ID = NewID(now)
		if err := tx.PutOverride(o); err != nil {
			return AuditEntry{}, err
		}
		e := c.entry(AuditOverrideCreate, TargetOverride, o.ID.String())
		e.Detail = map[string]string{"responder": u.Username, "kind": string(o.Kind),
			"start": o.Start.UTC().Format(time.RFC3339), "end": o.End.UTC().Format(time.RFC3339)}
		return e, nil
	})
	return o, err
}

// DeleteOverride deletes an override. Only coordinators may.
func (r *Roster) DeleteOverride(ctx context.Context, c Caller, id ID) error {
	return r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		o, err := tx.Override(id)
		if err != nil {
			return AuditEntry{}, err
		}
		if err := tx.DeleteOverride(id); err != nil {
			return AuditEntry{}, err
		}
		u, _ := tx.User(o.ResponderID)
		e := c.entry(AuditOverrideDelete, TargetOverride, id.String())
		e.Detail = map[string]string{"responder": u.Username, "kind": string(o.Kind),
			"start": o.Start.UTC().Format(time.RFC3339), "end": o.End.UTC().Format(time.RFC3339)}
		return e, nil
	})
}

// CreateClosure closes the line for a window (a holiday): nobody is on call, texters
// get the after-hours text. Only coordinators may.
func (r *Roster) CreateClosure(ctx context.Context, c Caller, cl Closure) (Closure, error) {
	if err := cl.Validate(); err != nil {
		return Closure{}, err
	}
	var err error
	if cl.Reason, err = cleanNote("reason", cl.Reason); err != nil {
		return Closure{}, err
	}
	err = r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		if n, err := countAll(tx.Closures); err != nil || n >= MaxClosures {
			return AuditEntry{}, orTooMany(err, "closures", MaxClosures)
		}
		cl.ID = NewID(now)
		if err := tx.PutClosure(cl); err != nil {
			return AuditEntry{}, err
		}
		e := c.entry(AuditClosureCreate, TargetClosure, cl.ID.String())
		e.Detail = map[string]string{"start": cl.Start.UTC().Format(time.RFC3339), "end": cl.End.UTC().Format(time.RFC3339)}
		return e, nil
	})
	return cl, err
}

// DeleteClosure deletes a closure. Only coordinators may.
func (r *Roster) DeleteClosure(ctx context.Context, c Caller, id ID) error {
	return r.scheduleChange(ctx, c, "change the schedule", func(tx Tx, now time.Time) (AuditEntry, error) {
		cl, err := tx.Closure(id)
		if err != nil {
			return AuditEntry{}, err
		}
		if err := tx.DeleteClosure(id); err != nil {
			return AuditEntry{}, err
		}
		e := c.entry(AuditClosureDelete, TargetClosure, id.String())
		e.Detail = map[string]string{"start": cl.Start.UTC().Format(time.RFC3339), "end": cl.End.UTC().Format(time.RFC3339)}
		return e, nil
	})
}

// ResponderStatus is a person who answers texters, as the roster shows them.
type ResponderStatus struct {
	User User
	// OnCall: on a shift now (or every responder while no schedule is set up).
	OnCall bool
	// Open is how many open conversations they are assigned (offered, taken or active).
	Open int
	// OfferPending: an offer to them waits for their answer.
	OfferPending bool
}

// OnCallReport is who is on call at one time.
type OnCallReport struct {
	At time.Time
	// Staffed: someone is on call (always when no schedule is set up, unless closed).
	Staffed bool
	// ScheduleSet is false while the hotline has no rotation or cover override.
	ScheduleSet bool
	// Closure is the closure the time falls in, if any.
	Closure    *Closure
	Responders []ResponderStatus
}

// OnCall returns who is on call at t. Anyone signed in may ask.
func (r *Roster) OnCall(ctx context.Context, c Caller, at time.Time) (OnCallReport, error) {
	if err := requireSignedIn(c); err != nil {
		return OnCallReport{}, err
	}
	var rep OnCallReport
	err := r.svc.store.View(ctx, func(tx ReadTx) error {
		ro, err := readRoster(tx, at, r.Location())
		if err != nil {
			return err
		}
		rep = OnCallReport{At: at, Staffed: ro.staffed(), ScheduleSet: !ro.schedule.Unset(), Closure: ro.closure}
		list, err := ro.statuses(tx, func(u User) bool { return ro.onCall[u.ID] })
		rep.Responders = list
		return err
	})
	return rep, err
}

// Responders returns everyone who answers texters, oldest first: the enabled users
// with role responder, and coordinators who are on a shift or hold conversations.
// Anyone signed in may ask; the console must show phones to coordinators only.
func (r *Roster) Responders(ctx context.Context, c Caller) ([]ResponderStatus, error) {
	if err := requireSignedIn(c); err != nil {
		return nil, err
	}
	var out []ResponderStatus
	err := r.svc.store.View(ctx, func(tx ReadTx) error {
		ro, err := readRoster(tx, r.svc.clock.Now(), r.Location())
		if err != nil {
			return err
		}
		scheduled := map[ID]bool{}
		for _, rot := range ro.schedule.Rotations {
			scheduled[rot.ResponderID] = true
		}
		for _, o := range ro.schedule.Overrides {
			scheduled[o.ResponderID] = true
		}
		counts, err := tx.OpenCounts()
		if err != nil {
			return err
		}
		out, err = ro.statuses(tx, func(u User) bool {
			return !u.Disabled && (u.Role == RoleResponder || scheduled[u.ID] || counts[u.ID] > 0)
		})
		return err
	})
	return out, err
}

// statuses lists the users that keep says to, with their load.
func (ro roster) statuses(tx ReadTx, keep func(User) bool) ([]ResponderStatus, error) {
	cands, err := ro.candidates(tx)
	if err != nil {
		return nil, err
	}
	out := []ResponderStatus{}
	for _, cand := range cands {
		u := ro.users[cand.ID]
		if keep(u) {
			out = append(out, ResponderStatus{User: u, OnCall: cand.OnCall, Open: cand.Open, OfferPending: cand.Offered})
		}
	}
	return out, nil
}

// String describes the report briefly, for logs and examples.
func (rep OnCallReport) String() string {
	names := make([]string, len(rep.Responders))
	for i, s := range rep.Responders {
		names[i] = s.User.Username
	}
	return fmt.Sprintf("staffed=%v on call: %s", rep.Staffed, strings.Join(names, ", "))
}
