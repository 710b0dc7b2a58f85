package hotline

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// CloseLists are what the console's close dialog offers: the dispositions (the
// outcomes a conversation is closed with; when there are any, closing refuses
// others) and the tags (offered as choices; responders may add others).
type CloseLists struct {
	Dispositions []string
	Tags         []string
}

// Clone returns a copy that shares no memory with l.
func (l CloseLists) Clone() CloseLists {
	return CloseLists{Dispositions: slices.Clone(l.Dispositions), Tags: slices.Clone(l.Tags)}
}

// AllowsDisposition reports whether a conversation may be closed with d: an empty
// disposition always, else one of the list (any, when the list is empty).
func (l CloseLists) AllowsDisposition(d string) bool {
	return d == "" || len(l.Dispositions) == 0 || slices.Contains(l.Dispositions, d)
}

// CloseListsReadTx reads the close lists coordinators edited in the console (store:
// the settings bucket).
type CloseListsReadTx interface {
	// StoredCloseLists returns the edited lists, and false when nobody has edited
	// them (the configuration is in force).
	StoredCloseLists() (CloseLists, bool, error)
}

// CloseListsTx writes the edited close lists.
type CloseListsTx interface {
	// PutStoredCloseLists replaces the edited lists; nil deletes them, going back
	// to the configuration.
	PutStoredCloseLists(l *CloseLists) error
}

// AuditCloseListsUpdate records a change of the dispositions or tags, naming what
// was added and removed.
const AuditCloseListsUpdate AuditAction = "close_lists_update"

// Limits on the close lists, as the configuration has them (config.MaxDispositions
// and the others) and as closing takes them (Access.Close).
const (
	MaxDispositionChoices = 50
	MaxTagChoices         = 50
)

// CloseListSettings are the dispositions and tags as coordinators edit them in the
// console: edited lists replace the configuration's (conversation.dispositions,
// conversation.tags) and take effect at once, without a restart, through the
// service's policy (Policy.CloseLists), which closing checks in the same
// transaction. It is safe for concurrent use.
type CloseListSettings struct {
	svc        *Service
	configured CloseLists

	mu sync.Mutex // serialises Put and Reset with applying them
}

// NewCloseListSettings returns the close list settings over svc; configured are the
// lists of the configuration.
func NewCloseListSettings(svc *Service, configured CloseLists) *CloseListSettings {
	return &CloseListSettings{svc: svc, configured: configured.Clone()}
}

// CloseListsView is what the coordinators' page shows: the lists in force, the
// configured ones, and whether the lists in force were edited in the console.
type CloseListsView struct {
	Effective  CloseLists
	Configured CloseLists
	Edited     bool
}

// Load puts the edited lists in the store (else the configured ones) in force: at
// start.
func (s *CloseListSettings) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	edited, ok, err := s.stored(ctx)
	if err != nil {
		return err
	}
	s.apply(edited, ok)
	return nil
}

func (s *CloseListSettings) stored(ctx context.Context) (CloseLists, bool, error) {
	var l CloseLists
	var ok bool
	err := s.svc.store.View(ctx, func(tx ReadTx) error {
		var err error
		l, ok, err = tx.StoredCloseLists()
		return err
	})
	return l, ok, err
}

func (s *CloseListSettings) effective(edited CloseLists, ok bool) CloseLists {
	if ok {
		return edited.Clone()
	}
	return s.configured.Clone()
}

func (s *CloseListSettings) apply(edited CloseLists, ok bool) {
	l := s.effective(edited, ok)
	s.svc.UpdatePolicy(func(p *Policy) { p.CloseLists = l })
}

// Current returns the lists in force. Anyone signed in may see them (the close
// dialog offers them), so it takes no caller.
func (s *CloseListSettings) Current() CloseLists {
	return s.svc.Policy().CloseLists.Clone()
}

// Get returns the lists in force, the configured ones and whether they were edited.
// Only coordinators and the operator may.
//
// Errors: EFORBIDDEN.
func (s *CloseListSettings) Get(ctx context.Context, c Caller) (CloseListsView, error) {
	if err := c.requireCoordinator("see the dispositions and tags settings"); err != nil {
		return CloseListsView{}, err
	}
	edited, ok, err := s.stored(ctx)
	if err != nil {
		return CloseListsView{}, err
	}
	return CloseListsView{Effective: s.effective(edited, ok), Configured: s.configured.Clone(), Edited: ok}, nil
}

// Put replaces the lists (tidied: trimmed, blank entries refused), puts them in
// force at once and audits what was added and removed. Conversations already closed
// keep their disposition, even one no longer listed.
//
// Errors: EFORBIDDEN; EINVALID naming the list and the entry.
func (s *CloseListSettings) Put(ctx context.Context, c Caller, l CloseLists) (CloseListsView, error) {
	if err := c.requireCoordinator("change the dispositions and tags"); err != nil {
		return CloseListsView{}, err
	}
	l, err := validateCloseLists(l)
	if err != nil {
		return CloseListsView{}, err
	}
	return s.write(ctx, c, &l)
}

// Reset forgets the edited lists: the configuration's are in force again. Audited.
//
// Errors: EFORBIDDEN.
func (s *CloseListSettings) Reset(ctx context.Context, c Caller) (CloseListsView, error) {
	if err := c.requireCoordinator("change the dispositions and tags"); err != nil {
		return CloseListsView{}, err
	}
	return s.write(ctx, c, nil)
}

// write stores l (nil: none) with its audit entry, then puts it in force.
func (s *CloseListSettings) write(ctx context.Context, c Caller, l *CloseLists) (CloseListsView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.svc.store.Update(ctx, func(tx Tx) error {
		old, oldOK, err := tx.StoredCloseLists()
		if err != nil {
			return err
		}
		before := s.effective(old, oldOK)
		after := s.configured
		if l != nil {
			after = *l
		}
		if l == nil && !oldOK || l != nil && oldOK && slices.Equal(old.Dispositions, l.Dispositions) && slices.Equal(old.Tags, l.Tags) {
			return nil // nothing changes: nothing to audit
		}
		if err := tx.PutStoredCloseLists(l); err != nil {
			return err
		}
		e := c.entry(AuditCloseListsUpdate, TargetSettings, "close_lists")
		e.Detail = closeListsChange(before, after)
		if l == nil {
			e.Detail["reset"] = "back to the configuration"
		}
		return appendAudit(tx, e, s.svc.clock.Now())
	})
	if err != nil {
		return CloseListsView{}, err
	}
	if l == nil {
		s.apply(CloseLists{}, false)
	} else {
		s.apply(*l, true)
	}
	return CloseListsView{Effective: s.Current(), Configured: s.configured.Clone(), Edited: l != nil}, nil
}

// closeListsChange names what changed between two lists, for the audit log.
func closeListsChange(before, after CloseLists) map[string]string {
	d := map[string]string{
		"dispositions": strconv.Itoa(len(after.Dispositions)),
		"tags":         strconv.Itoa(len(after.Tags)),
	}
	diff := func(key string, a, b []string) {
		var out []string
		for _, x := range b {
			if !slices.Contains(a, x) {
				out = append(out, x)
			}
		}
		if len(out) > 0 {
			d[key] = truncate(cleanForAudit(strings.Join(out, ", ")), 500)
		}
	}
	diff("added_dispositions", before.Dispositions, after.Dispositions)
	diff("removed_dispositions", after.Dispositions, before.Dispositions)
	diff("added_tags", before.Tags, after.Tags)
	diff("removed_tags", after.Tags, before.Tags)
	if len(before.Dispositions) == len(after.Dispositions) && !slices.Equal(before.Dispositions, after.Dispositions) &&
		d["added_dispositions"] == "" && d["removed_dispositions"] == "" {
		d["reordered"] = "dispositions"
	}
	return d
}

// validateCloseLists tidies and checks edited lists: at least one disposition, at
// most MaxDispositionChoices and MaxTagChoices, each entry non-blank, without
// control characters, within the lengths closing takes, and none repeated (in any
// case).
func validateCloseLists(l CloseLists) (CloseLists, error) {
	out := CloseLists{Dispositions: []string{}, Tags: []string{}}
	if len(l.Dispositions) == 0 {
		return out, Errorf(EINVALID, "dispositions: list at least one outcome, such as Support given.")
	}
	for _, list := range []struct {
		name      string
		in        []string
		out       *[]string
		max, size int
	}{
		{"dispositions", l.Dispositions, &out.Dispositions, MaxDispositionChoices, maxDispositionRunes},
		{"tags", l.Tags, &out.Tags, MaxTagChoices, maxTagRunes},
	} {
		if len(list.in) > list.max {
			return out, Errorf(EINVALID, "%s: at most %d (there are %d).", list.name, list.max, len(list.in))
		}
		seen := map[string]int{}
		for i, x := range list.in {
			x = strings.TrimSpace(x)
			switch {
			case x == "":
				return out, Errorf(EINVALID, "%s[%d]: empty; write a word or remove it.", list.name, i)
			case !utf8.ValidString(x) || strings.ContainsFunc(x, unicode.IsControl):
				return out, Errorf(EINVALID, "%s[%d]: letters, digits and punctuation only, on one line.", list.name, i)
			case utf8.RuneCountInString(x) > list.size:
				return out, Errorf(EINVALID, "%s[%d]: at most %d characters.", list.name, i, list.size)
			}
			low := strings.ToLower(x)
			if j, dup := seen[low]; dup {
				return out, Errorf(EINVALID, "%s[%d]: %q repeats %s[%d]; remove one.", list.name, i, truncate(x, 40), list.name, j)
			}
			seen[low] = i
			*list.out = append(*list.out, x)
		}
	}
	return out, nil
}
