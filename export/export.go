// Package export writes transcripts: CSV (one row per message), JSON Lines (one
// conversation per line) and printable PDF (one document per conversation). It reads
// the store in short transactions, a page at a time, so an export of any size runs in
// constant memory and never holds one read transaction long enough to slow the
// webhooks down.
//
// Stream does the reading and the filtering; an Encoder writes one format; Run wraps
// Stream with the checks and the audit trail that every export needs.
package export

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// pageSize bounds the records read in one transaction.
const pageSize = 256

// idMargin widens the ID range scanned for a date filter: a conversation's ID is
// stamped with its creation time, but a record imported or repaired by hand might
// differ a little. The filter itself compares CreatedAt exactly.
const idMargin = 24 * time.Hour

// Options say what an export shows.
type Options struct {
	// RevealNumbers writes texters' full numbers instead of masked ones. Revealing is
	// an audited coordinator action; the default masks them.
	RevealNumbers bool
	// IncludeNotes adds responders' internal notes; system events are always included.
	IncludeNotes bool
	// MaskBodies hides phone numbers and e-mail addresses inside message bodies (see
	// MaskBody), for transcripts that leave the organisation.
	MaskBodies bool
	// Location is the time zone of the times a PDF prints (the hotline's); nil is UTC.
	// CSV and JSON Lines always write UTC RFC 3339.
	Location *time.Location
	// Now stamps the export ("exported at" in a PDF); zero means time.Now().
	Now time.Time
	// Progress, when set, is called after each conversation with the counts so far.
	Progress func(Stats)
}

// Filter selects the conversations to export. Zero fields match everything; a
// conversation must pass every field that is set, and any one value of a list.
type Filter struct {
	From, To     time.Time // conversations created in [From, To)
	States       []hotline.State
	Dispositions []string     // the disposition is one of these (exactly, ignoring case)
	Tags         []string     // the conversation has at least one of these tags (ignoring case)
	Responders   []hotline.ID // at least one of these users was ever assigned
	IDs          []hotline.ID // only these conversations
}

// IsZero reports whether f matches every conversation.
func (f Filter) IsZero() bool {
	return f.From.IsZero() && f.To.IsZero() && len(f.States) == 0 && len(f.Dispositions) == 0 &&
		len(f.Tags) == 0 && len(f.Responders) == 0 && len(f.IDs) == 0
}

// Match reports whether c passes the filter.
func (f Filter) Match(c hotline.Conversation) bool {
	switch {
	case !f.From.IsZero() && c.CreatedAt.Before(f.From):
		return false
	case !f.To.IsZero() && !c.CreatedAt.Before(f.To):
		return false
	case len(f.States) > 0 && !slices.Contains(f.States, c.State):
		return false
	case len(f.Dispositions) > 0 && !slices.ContainsFunc(f.Dispositions, func(d string) bool { return strings.EqualFold(d, c.Disposition) }):
		return false
	case len(f.Tags) > 0 && !slices.ContainsFunc(c.Tags, func(t string) bool {
		return slices.ContainsFunc(f.Tags, func(w string) bool { return strings.EqualFold(w, t) })
	}):
		return false
	case len(f.Responders) > 0 && !slices.ContainsFunc(f.Responders, c.HasResponder):
		return false
	case len(f.IDs) > 0 && !slices.Contains(f.IDs, c.ID):
		return false
	}
	return true
}

// Meta is what an encoder knows about the whole export.
type Meta struct {
	Filter  Filter
	Options Options
	// Names maps user IDs to display names, for authors and responders.
	Names map[hotline.ID]string
}

// Author names who wrote a message: the texter, the hotline (automatic texts and
// system events), or the responder's display name.
func (m Meta) Author(msg hotline.Message) string {
	switch {
	case msg.Direction == hotline.DirectionInbound:
		return "Texter"
	case !hotline.IsZeroID(msg.AuthorID):
		return m.Name(msg.AuthorID)
	}
	return "Hotline"
}

// Name returns a user's display name, or the ID when the user is unknown (deleted).
func (m Meta) Name(id hotline.ID) string {
	if n, ok := m.Names[id]; ok && n != "" {
		return n
	}
	return "user " + id.String()
}

// Header is a conversation as an encoder receives it.
type Header struct {
	Conversation hotline.Conversation
	// Texter is the texter's number, masked unless the export reveals numbers.
	Texter string
	// Responders are the display names of everyone who was assigned, in order.
	Responders []string
}

// Encoder writes one format. Stream calls Begin once, then for each conversation
// Conversation, Message for each of its messages in order, EndConversation; then End.
type Encoder interface {
	Begin(m Meta) error
	Conversation(h Header) error
	Message(m hotline.Message) error
	EndConversation() error
	End() error
}

// Stats count what an export wrote.
type Stats struct {
	Conversations int
	Messages      int
	// Missing counts the conversations named in Filter.IDs that do not exist (any
	// more: retention may have purged them).
	Missing int
}

// Stream exports the conversations of store that match f through enc, oldest first.
// It reads ahead on goroutines of its own, a bounded way (read.go), and calls enc
// only on the caller's goroutine, in order; they have all returned when it returns.
// A store that reads through a memory map may let go of the pages read so far every
// few thousand messages (mappedPagesReleaser).
func Stream(ctx context.Context, store hotline.Store, f Filter, opts Options, enc Encoder) (Stats, error) {
	var stats Stats
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	meta := Meta{Filter: f, Options: opts}
	var err error
	if meta.Names, err = names(ctx, store); err != nil {
		return stats, err
	}
	if err := enc.Begin(meta); err != nil {
		return stats, err
	}
	r := startReading(ctx, store, f, opts)
	defer r.stop()
	release, _ := store.(mappedPagesReleaser)
	unreleased := 0
	for {
		c, err := r.next(ctx)
		if err != nil {
			return stats, err
		}
		stats.Missing = c.missing
		switch {
		case c.err != nil:
			return stats, c.err
		case c.end:
			return stats, enc.End()
		}
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		h := Header{Conversation: c.item.conv, Texter: c.item.contact.Address.Masked()}
		if opts.RevealNumbers {
			h.Texter = string(c.item.contact.Address)
		}
		for _, id := range c.item.conv.Responders {
			h.Responders = append(h.Responders, meta.Name(id))
		}
		if err := enc.Conversation(h); err != nil {
			return stats, err
		}
		for {
			page, ok, err := r.nextPage(ctx, c)
			if err == nil {
				err = page.err
			}
			if err != nil {
				return stats, err
			} else if !ok {
				break
			}
			for _, m := range page.msgs {
				if err := enc.Message(m); err != nil {
					return stats, err
				}
				stats.Messages++
			}
			unreleased += len(page.msgs)
			r.recycle(page.msgs)
			if release != nil && unreleased >= releaseEvery {
				// Only an optimisation: a store that cannot release pages exports all the same.
				if release.ReleaseMappedPages() != nil {
					release = nil
				}
				unreleased = 0
			}
		}
		if err := enc.EndConversation(); err != nil {
			return stats, err
		}
		stats.Conversations++
		if opts.Progress != nil {
			opts.Progress(stats)
		}
	}
}

// mappedPagesReleaser is a store that reads through a memory map, such as the bbolt
// store: every page of the file that an export reads stays resident in the process
// (the kernel's page cache, mapped) until the store lets go of it. An export asks it
// to every releaseEvery messages, so that the resident memory of a long export stays
// flat instead of growing by the size of the data exported.
type mappedPagesReleaser interface {
	ReleaseMappedPages() error
}

// releaseEvery is how many messages an export writes between two
// ReleaseMappedPages: a few MiB of records.
const releaseEvery = 4096

// Count returns how many conversations match f, reading conversations only (no
// message), in short transactions: the total a progress bar needs.
func Count(ctx context.Context, store hotline.Store, f Filter) (int, error) {
	n := 0
	pager := newPager(f)
	for {
		page, done, err := pager.next(ctx, store)
		if err != nil {
			return n, err
		}
		n += len(page)
		if done {
			return n, nil
		}
	}
}

// names reads every user's display name: users are few, and authors and responders
// are named by them.
func names(ctx context.Context, store hotline.Store) (map[hotline.ID]string, error) {
	out := map[hotline.ID]string{}
	err := store.View(ctx, func(tx hotline.ReadTx) error {
		clear(out)
		return tx.Users(func(u hotline.User) error {
			out[u.ID] = u.DisplayName
			if u.DisplayName == "" {
				out[u.ID] = u.Username
			}
			return nil
		})
	})
	return out, err
}

type pageItem struct {
	conv    hotline.Conversation
	contact hotline.Contact
}

// pager walks the conversations that match a filter, a page per transaction: the
// listed IDs when the filter names some, else the conversations in ID (creation)
// order from just before From to just after To, through the state index when the
// filter names states.
type pager struct {
	f       Filter
	after   hotline.ID
	stop    time.Time // IDs stamped at or after this end the walk; zero: never
	ids     []hotline.ID
	missing int
}

func newPager(f Filter) *pager {
	p := &pager{f: f}
	if len(f.IDs) > 0 {
		p.ids = slices.Clone(f.IDs)
		slices.SortFunc(p.ids, func(a, b hotline.ID) int { return a.Compare(b) })
		p.ids = slices.Compact(p.ids)
		return p
	}
	if !f.From.IsZero() {
		p.after = idBefore(f.From.Add(-idMargin))
	}
	if !f.To.IsZero() {
		p.stop = f.To.Add(idMargin)
	}
	return p
}

// idBefore returns the greatest ID stamped before t: a cursor after which come the
// IDs stamped at t or later.
func idBefore(t time.Time) hotline.ID {
	ms := t.UnixMilli() - 1
	if ms < 0 {
		return hotline.ID{}
	}
	var id hotline.ID
	_ = id.SetTime(uint64(ms))
	for i := 6; i < len(id); i++ {
		id[i] = 0xff
	}
	return id
}

// next reads one page, keeping the conversations that match, and reports done when
// nothing follows it.
func (p *pager) next(ctx context.Context, store hotline.Store) (kept []pageItem, done bool, err error) {
	if len(p.f.IDs) > 0 {
		return p.nextByID(ctx, store)
	}
	var read int
	var next hotline.ID
	var reachedStop bool
	err = store.View(ctx, func(tx hotline.ReadTx) error {
		kept, read, next, reachedStop = kept[:0], 0, p.after, false
		return tx.Conversations(hotline.ConversationFilter{After: p.after, Limit: pageSize, States: p.f.States}, func(c hotline.Conversation) error {
			if !p.stop.IsZero() && !time.UnixMilli(int64(c.ID.Time())).Before(p.stop) {
				reachedStop = true
				return hotline.ErrStop
			}
			read++
			next = c.ID
			if !p.f.Match(c) {
				return nil
			}
			contact, err := tx.Contact(c.ContactID)
			if err != nil {
				return err
			}
			kept = append(kept, pageItem{conv: c, contact: contact})
			return nil
		})
	})
	p.after = next
	return kept, reachedStop || read < pageSize, err
}

func (p *pager) nextByID(ctx context.Context, store hotline.Store) (kept []pageItem, done bool, err error) {
	n := min(len(p.ids), pageSize)
	batch := p.ids[:n]
	missing := 0
	err = store.View(ctx, func(tx hotline.ReadTx) error {
		kept, missing = kept[:0], 0
		for _, id := range batch {
			c, err := tx.Conversation(id)
			if hotline.IsNotFound(err) {
				missing++
				continue
			} else if err != nil {
				return err
			}
			if !p.f.Match(c) {
				continue
			}
			contact, err := tx.Contact(c.ContactID)
			if err != nil {
				return err
			}
			kept = append(kept, pageItem{conv: c, contact: contact})
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	p.missing += missing
	p.ids = p.ids[n:]
	return kept, len(p.ids) == 0, nil
}
