// Package export writes transcripts: CSV (one row per message) and JSON Lines (one
// conversation per line). It reads the store in short transactions, a page at a time,
// so an export of any size runs in constant memory and never holds one read
// transaction long enough to slow the webhooks down.
package export

import (
	"context"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// pageSize bounds the records read in one transaction.
const pageSize = 256

// Options say what an export shows.
type Options struct {
	// RevealNumbers writes texters' full numbers instead of masked ones. Revealing is
	// an audited coordinator action; the default masks them.
	RevealNumbers bool
	// IncludeNotes adds responders' internal notes; system events are always included.
	IncludeNotes bool
}

// Filter selects the conversations to export. Zero fields match everything.
type Filter struct {
	From, To time.Time // conversations created in [From, To)
	States   []hotline.State
}

func (f Filter) match(c hotline.Conversation) bool {
	if !f.From.IsZero() && c.CreatedAt.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !c.CreatedAt.Before(f.To) {
		return false
	}
	return true
}

// Encoder writes one format. Stream calls Begin once, then for each conversation
// Conversation, Message for each of its messages in order, EndConversation; then End.
type Encoder interface {
	Begin() error
	Conversation(c hotline.Conversation, texter string) error
	Message(m hotline.Message) error
	EndConversation() error
	End() error
}

// Stats count what an export wrote.
type Stats struct {
	Conversations int
	Messages      int
}

// Stream exports the conversations of store that match f through enc.
func Stream(ctx context.Context, store hotline.Store, f Filter, opts Options, enc Encoder) (Stats, error) {
	var stats Stats
	if err := enc.Begin(); err != nil {
		return stats, err
	}
	var after hotline.ID
	for done := false; !done; {
		var page []pageItem
		var err error
		page, after, done, err = conversationPage(ctx, store, f, after)
		if err != nil {
			return stats, err
		}
		for _, item := range page {
			if err := ctx.Err(); err != nil {
				return stats, err
			}
			texter := item.contact.Address.Masked()
			if opts.RevealNumbers {
				texter = string(item.contact.Address)
			}
			if err := enc.Conversation(item.conv, texter); err != nil {
				return stats, err
			}
			n, err := streamMessages(ctx, store, item.conv.ID, opts, enc)
			stats.Messages += n
			if err != nil {
				return stats, err
			}
			if err := enc.EndConversation(); err != nil {
				return stats, err
			}
			stats.Conversations++
		}
	}
	return stats, enc.End()
}

type pageItem struct {
	conv    hotline.Conversation
	contact hotline.Contact
}

// conversationPage reads up to pageSize conversations after the cursor in one short
// transaction and keeps those that match the filter. It returns the cursor past
// everything it read, and done when it reached the end.
func conversationPage(ctx context.Context, store hotline.Store, f Filter, after hotline.ID) (kept []pageItem, next hotline.ID, done bool, err error) {
	read := 0
	next = after
	err = store.View(ctx, func(tx hotline.ReadTx) error {
		kept, read, next = kept[:0], 0, after
		return tx.Conversations(hotline.ConversationFilter{After: after, Limit: pageSize, States: f.States}, func(c hotline.Conversation) error {
			read++
			next = c.ID
			if !f.match(c) {
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
	return kept, next, read < pageSize, err
}

func streamMessages(ctx context.Context, store hotline.Store, conversationID hotline.ID, opts Options, enc Encoder) (int, error) {
	n := 0
	var after hotline.ID
	for {
		var page []hotline.Message
		err := store.View(ctx, func(tx hotline.ReadTx) error {
			page = page[:0]
			return tx.Messages(conversationID, after, func(m hotline.Message) error {
				page = append(page, m)
				if len(page) == pageSize {
					return hotline.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			return n, err
		}
		for _, m := range page {
			if m.Direction == hotline.DirectionNote && !opts.IncludeNotes {
				continue
			}
			if err := enc.Message(m); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < pageSize {
			return n, nil
		}
		after = page[len(page)-1].ID
	}
}
