package hotline

import (
	"slices"
	"strings"
	"time"
)

// Candidate is a responder as the routing policy sees them.
type Candidate struct {
	ID        ID
	Languages []string
	Capacity  int  // the most conversations they take at once
	Open      int  // conversations assigned to them now
	OnCall    bool // on a shift now
	Available bool // marked available in the console
	// Offered is set while an offer to them is pending: the router offers one
	// conversation at a time, so that nobody comes back to a pile of lapsed offers.
	Offered bool
	// LastAssignedAt is when they were last given a conversation: of two equally
	// busy responders, the one idle longest gets the next.
	LastAssignedAt time.Time
}

// Speaks reports whether the candidate speaks lang (any language when lang is empty).
func (c Candidate) Speaks(lang string) bool {
	if lang == "" {
		return true
	}
	return slices.ContainsFunc(c.Languages, func(l string) bool { return strings.EqualFold(l, lang) })
}

// Eligible reports whether the candidate may be given a conversation in lang: on
// call, available, under capacity, and speaking the language unless anyLanguage (the
// conversation waited past the language fallback).
func (c Candidate) Eligible(lang string, anyLanguage bool) bool {
	return c.OnCall && c.Available && c.Open < c.Capacity && (anyLanguage || c.Speaks(lang))
}

// ChooseResponder picks who gets a conversation in lang: among the eligible, the one
// with the fewest open conversations, then the one idle longest, then the lowest ID
// (so the choice is deterministic). Responders in exclude (who let an offer lapse)
// are skipped. It reports false when nobody is eligible.
func ChooseResponder(cands []Candidate, lang string, anyLanguage bool, exclude []ID) (ID, bool) {
	var best *Candidate
	for i := range cands {
		c := &cands[i]
		if !c.Eligible(lang, anyLanguage) || slices.Contains(exclude, c.ID) {
			continue
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	if best == nil {
		return ID{}, false
	}
	return best.ID, true
}

func better(a, b *Candidate) bool {
	if a.Open != b.Open {
		return a.Open < b.Open
	}
	if !a.LastAssignedAt.Equal(b.LastAssignedAt) {
		return a.LastAssignedAt.Before(b.LastAssignedAt)
	}
	return a.ID.Compare(b.ID) < 0
}

// QueueLess orders the queue: urgent first, then the longest waiting, then by ID.
func QueueLess(a, b Conversation) bool {
	if (a.Priority == PriorityUrgent) != (b.Priority == PriorityUrgent) {
		return a.Priority == PriorityUrgent
	}
	if !a.WaitingSince.Equal(b.WaitingSince) {
		return a.WaitingSince.Before(b.WaitingSince)
	}
	return a.ID.Compare(b.ID) < 0
}
