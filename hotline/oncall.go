package hotline

import (
	"slices"
	"time"
)

// Who is on call, read from the store: the schedule, and the candidates the routing
// policy chooses among.

// loadSchedule reads the whole schedule: rotations, overrides and closures are few
// (a hotline has tens of responders), so "who is on call at T" is one read.
func loadSchedule(tx ReadTx, loc *time.Location) (Schedule, error) {
	s := Schedule{Location: loc}
	if err := tx.Rotations(func(r Rotation) error { s.Rotations = append(s.Rotations, r); return nil }); err != nil {
		return s, err
	}
	if err := tx.Overrides(func(o Override) error { s.Overrides = append(s.Overrides, o); return nil }); err != nil {
		return s, err
	}
	err := tx.Closures(func(c Closure) error { s.Closures = append(s.Closures, c); return nil })
	return s, err
}

// Unset reports whether the schedule has no rotation and no cover override: a
// hotline that has not set up shifts. It then counts as staffed at all hours and
// every responder as on call (closures still close it), so that a new hotline works
// before anyone has written a schedule.
func (s Schedule) Unset() bool {
	return len(s.Rotations) == 0 && !slices.ContainsFunc(s.Overrides, func(o Override) bool { return o.Kind == OverrideCover })
}

// roster is who is on call at one instant.
type roster struct {
	at       time.Time
	schedule Schedule
	closure  *Closure
	onCall   map[ID]bool
	users    map[ID]User // every user, by ID
	order    []ID        // users oldest first
}

// readRoster reads the schedule and the users and works out who is on call at t.
func readRoster(tx ReadTx, at time.Time, loc *time.Location) (roster, error) {
	r := roster{at: at, onCall: map[ID]bool{}, users: map[ID]User{}}
	var err error
	if r.schedule, err = loadSchedule(tx, loc); err != nil {
		return r, err
	}
	err = tx.Users(func(u User) error {
		r.users[u.ID] = u
		r.order = append(r.order, u.ID)
		return nil
	})
	if err != nil {
		return r, err
	}
	if c, closed := r.schedule.Closed(at); closed {
		r.closure = &c
		return r, nil
	}
	if r.schedule.Unset() {
		for _, u := range r.users {
			if u.Role == RoleResponder && !u.Disabled {
				r.onCall[u.ID] = true
			}
		}
		return r, nil
	}
	for _, id := range r.schedule.OnCallAt(at) {
		if u, ok := r.users[id]; ok && !u.Disabled {
			r.onCall[id] = true
		}
	}
	return r, nil
}

// staffed reports whether anyone is on call: always when the schedule is unset and
// the line not closed.
func (r roster) staffed() bool {
	return r.closure == nil && (r.schedule.Unset() || len(r.onCall) > 0)
}

// onCallIDs lists who is on call, oldest user first.
func (r roster) onCallIDs() []ID {
	var ids []ID
	for _, id := range r.order {
		if r.onCall[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// staffedAt reports whether anyone is on call at t (see roster.staffed). It reads
// the users only when the schedule names someone on call.
func staffedAt(tx ReadTx, at time.Time, loc *time.Location) (bool, error) {
	s, err := loadSchedule(tx, loc)
	if err != nil {
		return false, err
	}
	if _, closed := s.Closed(at); closed {
		return false, nil
	}
	if s.Unset() {
		return true, nil
	}
	for _, id := range s.OnCallAt(at) {
		u, err := tx.User(id)
		if IsNotFound(err) {
			continue
		} else if err != nil {
			return false, err
		}
		if !u.Disabled {
			return true, nil
		}
	}
	return false, nil
}

// candidates returns every enabled user as the routing policy sees them: on call,
// available, their capacity and open conversations (from the assignee index), and
// whether an offer to them is pending.
func (r roster) candidates(tx ReadTx) ([]Candidate, error) {
	counts, err := tx.OpenCounts()
	if err != nil {
		return nil, err
	}
	offered := map[ID]bool{}
	err = tx.Conversations(ConversationFilter{States: []State{StateAssigned}}, func(c Conversation) error {
		if c.Offered() {
			offered[c.AssigneeID] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Candidate
	for _, id := range r.order {
		u := r.users[id]
		if u.Disabled {
			continue
		}
		out = append(out, r.candidate(u, counts[id], offered[id]))
	}
	return out, nil
}

func (r roster) candidate(u User, open int, offered bool) Candidate {
	return Candidate{ID: u.ID, Languages: u.Languages, Capacity: u.Capacity, Open: open, OnCall: r.onCall[u.ID],
		Available: u.Availability == AvailabilityAvailable && !u.Disabled, LastAssignedAt: u.LastAssignedAt, Offered: offered}
}

// candidateFor returns one user as a candidate, reading only their conversations.
func (r roster) candidateFor(tx ReadTx, userID ID) (Candidate, error) {
	u, ok := r.users[userID]
	if !ok {
		return Candidate{}, Errorf(ENOTFOUND, "User %s not found.", userID)
	}
	open, offered := 0, false
	err := tx.AssignedTo(userID, func(id ID) error {
		c, err := tx.Conversation(id)
		if err != nil {
			return err
		}
		open++
		offered = offered || c.Offered()
		return nil
	})
	return r.candidate(u, open, offered), err
}
