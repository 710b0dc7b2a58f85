package hotline

import (
	"context"
	"slices"
	"time"
)

// StatsReadTx reads the hourly text counts the store keeps, written in the same
// transaction as each new message, so that the dashboard never walks all history.
type StatsReadTx interface {
	// HourlyCounts calls fn for each hour in [from, to) with any text, oldest first.
	HourlyCounts(from, to time.Time, fn func(HourCount) error) error
}

// HourCount is the texts of one hour (UTC, on the hour).
type HourCount struct {
	Hour     time.Time
	Inbound  int
	Outbound int
}

// DashboardWindow is how far back the dashboard's statistics look.
const DashboardWindow = 7 * 24 * time.Hour

// Dashboard computes what coordinators watch: the queue, who is on call and
// available, the load per responder, and the last week's numbers. It reads the
// queue and the open conversations (few), the conversations created in the last
// seven days by ID range (IDs are time-ordered), and the hourly counters: never
// all of history.
type Dashboard struct {
	svc *Service
	loc *time.Location
	// onCall returns who is on call at a time (everyone, when all: a hotline with no
	// schedule counts everyone as on call); nil when schedules are not known.
	onCall OnCallFunc
}

// OnCallFunc says who is on call at a time: the IDs, or everyone when all is set.
type OnCallFunc func(ctx context.Context, at time.Time) (ids []ID, all bool, err error)

// NewDashboard returns the dashboard over svc, with "today" in loc. onCall, when not
// nil, says who is on call (from the schedules).
func NewDashboard(svc *Service, loc *time.Location, onCall OnCallFunc) *Dashboard {
	if loc == nil {
		loc = time.UTC
	}
	return &Dashboard{svc: svc, loc: loc, onCall: onCall}
}

// WaitingTexter is a conversation in the queue.
type WaitingTexter struct {
	ConversationID ID
	Handle         string
	Priority       Priority
	Language       string
	WaitingSince   time.Time
	Wait           time.Duration
}

// ResponderLoad is one user as the dashboard shows them.
type ResponderLoad struct {
	ID           ID
	DisplayName  string
	Role         Role
	Availability Availability
	// OnCall is nil when schedules are not known.
	OnCall   *bool
	Open     int
	Capacity int
}

// WaitBucket is one bar of the distribution of waits for a first human reply.
type WaitBucket struct {
	Label string
	Count int
}

// DashboardStats are the dashboard's numbers at Now.
type DashboardStats struct {
	Now      time.Time
	Location *time.Location
	// Waiting: urgent first, then longest waiting first.
	Waiting     []WaitingTexter
	LongestWait time.Duration
	Responders  []ResponderLoad
	// OnCallKnown says whether OnCall is filled in.
	OnCallKnown bool
	// TodayConversations were created since midnight in the hotline's time zone.
	TodayConversations int
	TodayStart         time.Time
	// FirstReply are the waits for a first human reply of the conversations created
	// in the window that got one.
	FirstReplyMedian, FirstReplyP90 time.Duration
	FirstReplyCount                 int
	// ClosedWithoutReply are conversations created in the window and closed
	// before any human replied.
	ClosedWithoutReply  int
	WindowConversations int
	// TextsPerHour has one entry per hour of the window, oldest first.
	TextsPerHour []HourCount
	// WaitDistribution buckets the waits for a first human reply; its last bucket
	// counts conversations never answered (closed without a reply, or still waiting).
	WaitDistribution []WaitBucket
}

// waitBuckets are the upper bounds of the distribution's buckets.
var waitBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"< 1 min", time.Minute}, {"1–5 min", 5 * time.Minute}, {"5–15 min", 15 * time.Minute},
	{"15–60 min", time.Hour}, {"1–4 h", 4 * time.Hour}, {"> 4 h", 1<<63 - 1},
}

// Stats computes the dashboard. Only coordinators and the operator may.
func (d *Dashboard) Stats(ctx context.Context, c Caller) (DashboardStats, error) {
	if err := c.requireCoordinator("see the dashboard"); err != nil {
		return DashboardStats{}, err
	}
	now := d.svc.clock.Now()
	st := DashboardStats{Now: now, Location: d.loc}
	y, m, day := now.In(d.loc).Date()
	st.TodayStart = time.Date(y, m, day, 0, 0, 0, 0, d.loc)
	open := map[ID]int{}
	var users []User
	err := d.svc.store.View(ctx, func(tx ReadTx) error {
		st.Waiting, users, st.LongestWait = nil, nil, 0
		clear(open)
		err := tx.Queue(func(conv Conversation) error {
			w := WaitingTexter{ConversationID: conv.ID, Handle: conv.Handle, Priority: conv.Priority, Language: conv.Language,
				WaitingSince: conv.WaitingSince, Wait: now.Sub(conv.WaitingSince)}
			st.Waiting = append(st.Waiting, w)
			st.LongestWait = max(st.LongestWait, w.Wait)
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Conversations(ConversationFilter{States: []State{StateAssigned, StateActive}}, func(conv Conversation) error {
			if !IsZeroID(conv.AssigneeID) {
				open[conv.AssigneeID]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Users(func(u User) error {
			if !u.Disabled {
				users = append(users, u)
			}
			return nil
		})
	})
	if err != nil {
		return st, err
	}
	var onCall []ID
	everyone := false
	if d.onCall != nil {
		if onCall, everyone, err = d.onCall(ctx, now); err != nil {
			return st, err
		}
		st.OnCallKnown = true
	}
	for _, u := range users {
		l := ResponderLoad{ID: u.ID, DisplayName: u.DisplayName, Role: u.Role, Availability: u.Availability,
			Open: open[u.ID], Capacity: u.Capacity}
		if l.Availability == "" {
			l.Availability = AvailabilityOffline
		}
		if st.OnCallKnown {
			on := everyone || slices.Contains(onCall, u.ID)
			l.OnCall = &on
		}
		st.Responders = append(st.Responders, l)
	}
	if err := d.window(ctx, now, &st); err != nil {
		return st, err
	}
	return st, d.hourly(ctx, now, &st)
}

// window walks the conversations created in the last DashboardWindow, a page per
// transaction.
func (d *Dashboard) window(ctx context.Context, now time.Time, st *DashboardStats) error {
	from := now.Add(-DashboardWindow)
	after := idBeforeTime(from)
	var waits []time.Duration
	never := 0
	for {
		read := 0
		err := d.svc.store.View(ctx, func(tx ReadTx) error {
			read = 0
			return tx.Conversations(ConversationFilter{After: after, Limit: 512}, func(conv Conversation) error {
				read++
				after = conv.ID
				if conv.CreatedAt.Before(from) || conv.CreatedAt.After(now) {
					return nil
				}
				st.WindowConversations++
				if !conv.CreatedAt.Before(st.TodayStart) {
					st.TodayConversations++
				}
				switch {
				case !conv.FirstResponseAt.IsZero():
					waits = append(waits, conv.FirstResponseAt.Sub(conv.CreatedAt))
				case conv.State == StateClosed:
					st.ClosedWithoutReply++
					never++
				default:
					never++
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		if read < 512 {
			break
		}
	}
	slices.Sort(waits)
	st.FirstReplyCount = len(waits)
	st.FirstReplyMedian, st.FirstReplyP90 = percentile(waits, 50), percentile(waits, 90)
	counts := make([]int, len(waitBuckets))
	for _, w := range waits {
		for i, b := range waitBuckets {
			if w < b.upTo {
				counts[i]++
				break
			}
		}
	}
	for i, b := range waitBuckets {
		st.WaitDistribution = append(st.WaitDistribution, WaitBucket{Label: b.label, Count: counts[i]})
	}
	st.WaitDistribution = append(st.WaitDistribution, WaitBucket{Label: "no reply", Count: never})
	return nil
}

// hourly fills TextsPerHour with one entry per hour of the window.
func (d *Dashboard) hourly(ctx context.Context, now time.Time, st *DashboardStats) error {
	end := now.Truncate(time.Hour).Add(time.Hour)
	start := end.Add(-DashboardWindow)
	byHour := map[int64]HourCount{}
	err := d.svc.store.View(ctx, func(tx ReadTx) error {
		clear(byHour)
		return tx.HourlyCounts(start, end, func(h HourCount) error {
			byHour[h.Hour.Unix()] = h
			return nil
		})
	})
	if err != nil {
		return err
	}
	st.TextsPerHour = make([]HourCount, 0, int(DashboardWindow/time.Hour))
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		c := byHour[h.Unix()]
		c.Hour = h.UTC()
		st.TextsPerHour = append(st.TextsPerHour, c)
	}
	return nil
}

// percentile returns the p-th percentile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(0, min(len(sorted)-1, rank-1))]
}

// idBeforeTime returns the greatest ID stamped before t: a cursor after which come
// the IDs stamped at t or later.
func idBeforeTime(t time.Time) ID {
	ms := t.UnixMilli() - 1
	if ms < 0 {
		return ID{}
	}
	var id ID
	_ = id.SetTime(uint64(ms))
	for i := 6; i < len(id); i++ {
		id[i] = 0xff
	}
	return id
}
