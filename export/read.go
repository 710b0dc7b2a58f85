package export

import (
	"context"
	"runtime"
	"sync"

	"github.com/hotlinehq/hotline/hotline"
)

// Reading ahead. Decoding records is most of an export's work (JSON, and in an
// encrypted store AES-GCM as well), while writing the format is the smaller part, so
// Stream reads on other goroutines while it encodes: one walks the conversations that
// match (pager), a few read and decode the messages of the next conversations, each
// conversation's in its own short read transactions of up to pageSize records, and
// Stream itself, on the caller's goroutine, hands them to the encoder in order.
//
// What is in flight is bounded, whatever the export's size: behind the conversation
// being encoded, at most readAheadConversations per reader wait in the queue, read
// or being read; a conversation holds at most one page its encoder has not taken yet
// and, while a reader is on it, the page being filled. That is at most 3 + 5×readers
// pages of up to pageSize messages (13 with two processors), and far less when
// conversations are shorter than a page, as most are. A conversation's own pages are
// read one after the other (the next page starts after the last message of the one
// before); conversations are read side by side.

// maxReaders bounds the goroutines reading messages: the export shares the machine
// with the hotline itself.
const maxReaders = 4

// readAheadConversations is how many conversations, per reader, may wait for the
// encoder, read or being read.
const readAheadConversations = 4

// readers is how many goroutines read messages: one per processor the Go runtime
// uses (at least 1), at most maxReaders.
func readers() int { return max(1, min(runtime.GOMAXPROCS(0), maxReaders)) }

// convRead is one conversation on its way to the encoder, or (end or err set) the end
// of the walk.
type convRead struct {
	item pageItem
	// missing is the pager's count of listed IDs not found, as of this conversation.
	missing int
	// pages carries the conversation's messages that the export shows (notes left out
	// unless included, bodies masked when asked), a page at a time; its reader closes
	// it after the last page or a failed one.
	pages chan msgPage
	end   bool  // the walk is over: nothing follows
	err   error // the walk failed here: nothing follows
}

// msgPage is a page of messages, or the error that ended a conversation's reading.
type msgPage struct {
	msgs []hotline.Message
	err  error
}

// readAhead reads the conversations that match f and their messages on goroutines of
// its own until ctx is done or stop is called; next returns them in order.
type readAhead struct {
	order  chan *convRead // conversations in export order, for next
	jobs   chan *convRead // the same conversations, for the message readers
	free   chan []hotline.Message
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startReading starts walking the conversations that match f and reading their
// messages. The caller must call stop.
func startReading(ctx context.Context, store hotline.Store, f Filter, opts Options) *readAhead {
	n := readers()
	ctx, cancel := context.WithCancel(ctx)
	r := &readAhead{
		order:  make(chan *convRead, readAheadConversations*n),
		jobs:   make(chan *convRead),
		free:   make(chan []hotline.Message, 4*n),
		cancel: cancel,
	}
	r.wg.Go(func() { r.walk(ctx, store, f) })
	for range n {
		r.wg.Go(func() {
			for c := range r.jobs {
				r.readMessages(ctx, store, c, opts)
			}
		})
	}
	return r
}

// stop cancels what is still being read and waits for every goroutine to return.
func (r *readAhead) stop() {
	r.cancel()
	r.wg.Wait()
}

// walk pages through the conversations, queueing each for the encoder (order) and
// then for a message reader (jobs). The order matters: a reader takes conversations
// in the order they were queued, so the one the encoder waits for is always read
// first and the bounded queues cannot deadlock.
func (r *readAhead) walk(ctx context.Context, store hotline.Store, f Filter) {
	defer close(r.jobs)
	pager := newPager(f)
	for {
		page, done, err := pager.next(ctx, store)
		if err != nil {
			send(ctx, r.order, &convRead{err: err, missing: pager.missing})
			return
		}
		for _, item := range page {
			c := &convRead{item: item, missing: pager.missing, pages: make(chan msgPage, 1)}
			if !send(ctx, r.order, c) || !send(ctx, r.jobs, c) {
				return
			}
		}
		if done {
			send(ctx, r.order, &convRead{end: true, missing: pager.missing})
			return
		}
	}
}

// readMessages reads the messages of c's conversation, a page per read transaction,
// and sends those the export shows on c.pages, which it closes.
func (r *readAhead) readMessages(ctx context.Context, store hotline.Store, c *convRead, opts Options) {
	defer close(c.pages)
	id := c.item.conv.ID
	var after hotline.ID
	for {
		var page []hotline.Message
		select {
		case page = <-r.free:
		default:
			page = make([]hotline.Message, 0, pageSize)
		}
		read := 0
		err := store.View(ctx, func(tx hotline.ReadTx) error {
			page, read = page[:0], 0
			return tx.Messages(id, after, func(m hotline.Message) error {
				read++
				after = m.ID
				if m.Direction == hotline.DirectionNote && !opts.IncludeNotes {
					if read == pageSize {
						return hotline.ErrStop
					}
					return nil
				}
				if opts.MaskBodies {
					m.Body = MaskBody(m.Body)
				}
				page = append(page, m)
				if read == pageSize {
					return hotline.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			send(ctx, c.pages, msgPage{err: err})
			return
		}
		if len(page) > 0 && !send(ctx, c.pages, msgPage{msgs: page}) {
			return
		}
		if read < pageSize {
			return
		}
	}
}

// next returns the next conversation to encode; its end or err field set ends the
// export.
func (r *readAhead) next(ctx context.Context) (*convRead, error) {
	select {
	case c := <-r.order:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// nextPage returns the next page of c's messages, and false after the last.
func (r *readAhead) nextPage(ctx context.Context, c *convRead) (msgPage, bool, error) {
	select {
	case p, ok := <-c.pages:
		return p, ok, nil
	case <-ctx.Done():
		return msgPage{}, false, ctx.Err()
	}
}

// recycle gives back a page the encoder is done with.
func (r *readAhead) recycle(page []hotline.Message) {
	clear(page) // let go of the bodies it held
	select {
	case r.free <- page[:0]:
	default:
	}
}

// send sends v on ch unless ctx is done first, and reports whether it did.
func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}
