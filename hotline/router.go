package hotline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// RouterOptions tune a Router. Zero fields take the defaults in brackets.
type RouterOptions struct {
	// SweepInterval is how often the router looks at the queue when nothing wakes
	// it: the safety net, and how a shift that starts is noticed [15s].
	SweepInterval time.Duration
	// OnError receives failures of Run's passes; Run carries on. Nil drops them.
	OnError func(error)
}

// Router assigns waiting conversations to responders. In offer mode it offers the
// top of the queue to the responder the policy picks, whenever something changes (a
// conversation enters the queue, an offer lapses, a responder becomes available or
// frees capacity, the schedule changes) and every SweepInterval. In pull mode it
// offers nothing: responders call TakeNext. Every assignment is one transaction that
// reads the conversation and the responder again, so that two routers, or a router
// and a responder, can never both win a conversation. It is a Notifier: add it to
// the service's notifier so that changes wake it. It is safe for concurrent use.
type Router struct {
	svc     *Service
	opts    RouterOptions
	wake    chan struct{}
	running atomic.Bool
}

var _ Notifier = (*Router)(nil)

// NewRouter returns the router over svc, which it reads its policy from.
func NewRouter(svc *Service, opts RouterOptions) *Router {
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 15 * time.Second
	}
	return &Router{svc: svc, opts: opts, wake: make(chan struct{}, 1)}
}

// Mode returns the routing mode in force.
func (r *Router) Mode() RoutingMode { return r.svc.Policy().Routing.Mode }

// Policy returns the routing policy in force.
func (r *Router) Policy() RoutingPolicy { return r.svc.Policy().Routing }

// Publish wakes the router when a conversation, a user or the schedule changed. It
// never blocks.
func (r *Router) Publish(changes ...Change) {
	for _, c := range changes {
		if c.Kind == ChangeConversation || c.Kind == ChangeUser || c.Kind == ChangeSchedule {
			r.Wake()
			return
		}
	}
}

// Wake asks Run for a pass soon.
func (r *Router) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Running reports whether Run is running, for readiness checks.
func (r *Router) Running() bool { return r.running.Load() }

// Run routes until ctx ends: a pass when woken, and every SweepInterval.
func (r *Router) Run(ctx context.Context) {
	r.running.Store(true)
	defer r.running.Store(false)
	for {
		if _, err := r.Route(ctx); err != nil && ctx.Err() == nil && r.opts.OnError != nil {
			r.opts.OnError(err)
		}
		timer := time.NewTimer(r.opts.SweepInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// maxRoutingRounds bounds one pass: a plan whose offers all went stale is made
// again, a few times at most, before the pass gives way to the next wake-up.
const maxRoutingRounds = 5

// Route makes the offers the policy calls for now, in offer mode, and returns how
// many it made. Each offer is its own transaction, checked again against the store.
func (r *Router) Route(ctx context.Context) (int, error) {
	offered := 0
	for range maxRoutingRounds {
		p := r.svc.Policy()
		if p.Routing.Mode != RoutingOffer {
			return offered, nil
		}
		plan, err := r.plan(ctx, p.Routing)
		if err != nil || len(plan) == 0 {
			return offered, err
		}
		made := 0
		for _, a := range plan {
			ok, err := r.offer(ctx, a)
			if err != nil {
				return offered, err
			}
			if ok {
				made++
			}
		}
		offered += made
		if made == len(plan) {
			return offered, nil
		}
	}
	return offered, nil
}

// plan reads the candidates and the queue and plans offers (PlanOffers). It reads
// the queue only when someone could take a conversation.
func (r *Router) plan(ctx context.Context, p RoutingPolicy) ([]Assignment, error) {
	var plan []Assignment
	err := r.svc.store.View(ctx, func(tx ReadTx) error {
		plan = nil
		now := r.svc.clock.Now()
		ro, err := readRoster(tx, now, p.location())
		if err != nil {
			return err
		}
		cands, err := ro.candidates(tx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(cands, func(c Candidate) bool {
			return c.OnCall && c.Available && c.Open < c.Capacity && !c.Offered
		}) {
			return nil
		}
		var queue []Conversation
		if err := tx.Queue(func(c Conversation) error { queue = append(queue, c); return nil }); err != nil {
			return err
		}
		plan = PlanOffers(queue, cands, now, p)
		return nil
	})
	return plan, err
}

// offer makes one planned offer if it still holds: the conversation still waits and
// the responder is still on call, available, under capacity, without another offer,
// and speaks its language (or it has waited past the fallback). It reports whether
// the offer was made.
func (r *Router) offer(ctx context.Context, a Assignment) (bool, error) {
	var out changes
	made := false
	err := r.svc.store.Update(ctx, func(tx Tx) error {
		out, made = nil, false
		now := r.svc.clock.Now()
		p := r.svc.Policy()
		th, err := loadThread(tx, a.ConversationID)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if th.Conversation.State != StateWaiting {
			return nil
		}
		ro, err := readRoster(tx, now, p.Routing.location())
		if err != nil {
			return err
		}
		cand, err := ro.candidateFor(tx, a.ResponderID)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if cand.Offered || !cand.Eligible(th.Conversation.Language, p.Routing.AnyLanguage(th.Conversation, now)) {
			return nil
		}
		th, effects, err := Apply(th, Offer{To: a.ResponderID}, now, p)
		if err != nil {
			return err
		}
		if _, err := r.svc.saveThread(tx, th, effects, now, &out); err != nil {
			return err
		}
		made = true
		return nil
	})
	if err != nil {
		return false, err
	}
	r.svc.notifier.Publish(out...)
	return made, nil
}

// TakeNext gives the caller the top conversation of the queue they are eligible
// for ("take next"), in one transaction: urgent first, then the longest waiting;
// in its language unless it has waited past the language fallback; preferring those
// they have not passed on before. A responder must be on call, available and under
// capacity; a coordinator gets the top of the queue whatever the schedule, language
// and capacity (they step in). It works in either mode.
//
// Errors: ENOTFOUND when nobody is waiting; ECONFLICT saying why the caller may not
// take any of those waiting (not on call, away, at capacity, language).
func (r *Router) TakeNext(ctx context.Context, c Caller) (Conversation, error) {
	if IsZeroID(c.User.ID) {
		return Conversation{}, Errorf(EFORBIDDEN, "Sign in first.")
	}
	var out changes
	var taken Conversation
	err := r.svc.store.Update(ctx, func(tx Tx) error {
		out, taken = nil, Conversation{}
		now := r.svc.clock.Now()
		p := r.svc.Policy()
		var queue []Conversation
		if err := tx.Queue(func(c Conversation) error { queue = append(queue, c); return nil }); err != nil {
			return err
		}
		if len(queue) == 0 {
			return Errorf(ENOTFOUND, "Nobody is waiting in the queue.")
		}
		ro, err := readRoster(tx, now, p.Routing.location())
		if err != nil {
			return err
		}
		u, ok := ro.users[c.User.ID]
		if !ok || u.Disabled {
			return Errorf(EFORBIDDEN, "Sign in first.")
		}
		pick, err := r.pickFor(tx, ro, u, queue, now, p.Routing)
		if err != nil {
			return err
		}
		th, err := loadThread(tx, pick.ID)
		if err != nil {
			return err
		}
		th, effects, err := Apply(th, Accept{By: u.Actor()}, now, p)
		if err != nil {
			return err
		}
		if th, err = r.svc.saveThread(tx, th, effects, now, &out); err != nil {
			return err
		}
		taken = th.Conversation
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	r.svc.notifier.Publish(out...)
	return taken, nil
}

// pickFor chooses the conversation of the queue u may take next, or says why none.
func (r *Router) pickFor(tx ReadTx, ro roster, u User, queue []Conversation, now time.Time, p RoutingPolicy) (Conversation, error) {
	if u.IsCoordinator() {
		return queue[0], nil
	}
	cand, err := ro.candidateFor(tx, u.ID)
	if err != nil {
		return Conversation{}, err
	}
	switch {
	case !cand.OnCall:
		return Conversation{}, Errorf(ECONFLICT, "You are not on call now: %d %s waiting for the responders on shift.", len(queue), plural(len(queue), "texter is", "texters are"))
	case !cand.Available:
		return Conversation{}, Errorf(ECONFLICT, "You are marked %s: set yourself available to take conversations.", orOffline(u.Availability))
	case cand.Open >= cand.Capacity:
		return Conversation{}, Errorf(ECONFLICT, "You have %d open %s, your capacity: close or transfer one first.", cand.Open, plural(cand.Open, "conversation", "conversations"))
	}
	var passed []Conversation
	for _, conv := range queue {
		if !cand.Speaks(conv.Language) && !p.AnyLanguage(conv, now) {
			continue
		}
		if slices.Contains(conv.Passed, u.ID) {
			passed = append(passed, conv)
			continue
		}
		return conv, nil
	}
	if len(passed) > 0 {
		return passed[0], nil
	}
	var langs []string
	for _, conv := range queue {
		if !slices.Contains(langs, conv.Language) {
			langs = append(langs, conv.Language)
		}
	}
	return Conversation{}, Errorf(ECONFLICT, "The %d %s waiting %s in %s, which you do not speak; %s open to everyone once %s waited %s.",
		len(queue), plural(len(queue), "texter", "texters"), plural(len(queue), "writes", "write"), strings.Join(langs, ", "),
		plural(len(queue), "it is", "they are"), plural(len(queue), "it has", "they have"), p.LanguageFallbackAfter)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orOffline(a Availability) string {
	if a == "" {
		return string(AvailabilityOffline)
	}
	return string(a)
}

// requeueUnanswered returns every conversation assigned to the user that they have
// not answered yet (offered, or taken without a reply) to the queue, in its place.
// Conversations they have answered stay theirs: the texter is talking to them.
func (s *Service) requeueUnanswered(tx Tx, userID ID, reason string, now time.Time, out *changes) (int, error) {
	var ids []ID
	if err := tx.AssignedTo(userID, func(id ID) error { ids = append(ids, id); return nil }); err != nil {
		return 0, err
	}
	p := s.Policy()
	n := 0
	for _, id := range ids {
		th, err := loadThread(tx, id)
		if err != nil {
			return n, err
		}
		if th.Conversation.State != StateAssigned {
			continue
		}
		th, effects, err := Apply(th, Requeue{Reason: reason}, now, p)
		if err != nil {
			return n, err
		}
		if _, err := s.saveThread(tx, th, effects, now, out); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// describeAvailability is the thread's note when a responder's conversations go back.
func describeAvailability(u User, av Availability) string {
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	switch av {
	case AvailabilityAway:
		return fmt.Sprintf("Back in the queue: %s went away before answering.", name)
	default:
		return fmt.Sprintf("Back in the queue: %s went offline before answering.", name)
	}
}
