package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

// readAheadStore returns a store whose conversations have the given numbers of
// messages, around the page size (256) and its multiples, every seventh message a
// responder's note, bodies with a phone number to mask.
func readAheadStore(t *testing.T, sizes []int) hotline.Store {
	t.Helper()
	st := storetest.MustOpen(t)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	responder := hotline.NewID(start)
	for i, n := range sizes {
		t0 := start.Add(time.Duration(i) * time.Hour)
		err := st.Update(context.Background(), func(tx hotline.Tx) error {
			contact := hotline.Contact{ID: hotline.NewID(t0), Address: hotline.Address(fmt.Sprintf("+1415555%04d", i)),
				Handle: fmt.Sprintf("T-%04d", i), Language: "en", FirstSeen: t0, LastSeen: t0}
			conv := hotline.Conversation{ID: hotline.NewID(t0), ContactID: contact.ID, Handle: contact.Handle, State: hotline.StateClosed,
				Priority: hotline.PriorityNormal, Language: "en", CreatedAt: t0, UpdatedAt: t0, ClosedAt: t0.Add(time.Hour),
				Disposition: "referred", Tags: []string{"labor", "=x"}, Responders: []hotline.ID{responder}}
			if err := tx.PutContact(contact); err != nil {
				return err
			}
			if err := tx.PutConversation(conv); err != nil {
				return err
			}
			for j := range n {
				at := t0.Add(time.Duration(j) * time.Second)
				m := hotline.Message{ID: hotline.NewID(at), ConversationID: conv.ID, Segments: 1, CreatedAt: at, UpdatedAt: at,
					Direction: hotline.DirectionInbound, Status: hotline.StatusReceived, TwilioSID: fmt.Sprintf("SM%08d%08d", i, j),
					Body: fmt.Sprintf("%d/%d call me at 415-555-%04d", i, j, j)}
				switch {
				case j%7 == 3:
					m.Direction, m.Status, m.TwilioSID, m.AuthorID = hotline.DirectionNote, "", "", responder
				case j%2 == 1:
					m.Direction, m.Purpose, m.Status, m.AuthorID = hotline.DirectionOutbound, hotline.PurposeReply, hotline.StatusDelivered, responder
				}
				if err := tx.PutMessage(m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// referenceExport is what Stream wrote before it read ahead: every conversation and
// its messages, in order, read here in one transaction and encoded on one goroutine.
func referenceExport(t *testing.T, st hotline.Store, opts export.Options, enc export.Encoder) export.Stats {
	t.Helper()
	var stats export.Stats
	meta := export.Meta{Options: opts, Names: map[hotline.ID]string{}}
	if err := enc.Begin(meta); err != nil {
		t.Fatal(err)
	}
	err := st.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Conversations(hotline.ConversationFilter{}, func(c hotline.Conversation) error {
			contact, err := tx.Contact(c.ContactID)
			if err != nil {
				return err
			}
			h := export.Header{Conversation: c, Texter: contact.Address.Masked()}
			if opts.RevealNumbers {
				h.Texter = string(contact.Address)
			}
			for _, id := range c.Responders {
				h.Responders = append(h.Responders, meta.Name(id))
			}
			if err := enc.Conversation(h); err != nil {
				return err
			}
			err = tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
				if m.Direction == hotline.DirectionNote && !opts.IncludeNotes {
					return nil
				}
				if opts.MaskBodies {
					m.Body = export.MaskBody(m.Body)
				}
				stats.Messages++
				return enc.Message(m)
			})
			if err != nil {
				return err
			}
			stats.Conversations++
			return enc.EndConversation()
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.End(); err != nil {
		t.Fatal(err)
	}
	return stats
}

// Stream reads conversations side by side and a conversation's pages ahead of its
// encoder; what it writes is what reading everything in order on one goroutine
// writes, byte for byte, with conversations of every size around the page size and
// more conversations than a page of them.
func TestStreamReadAheadWritesWhatReadingInOrderWrites(t *testing.T) {
	sizes := []int{0, 1, 255, 256, 257, 3, 512, 513, 600, 1, 1000}
	for i := range 300 {
		sizes = append(sizes, i%9)
	}
	st := readAheadStore(t, sizes)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	formats := map[string]func(io.Writer) export.Encoder{
		"csv":   func(w io.Writer) export.Encoder { return export.NewCSV(w) },
		"jsonl": func(w io.Writer) export.Encoder { return export.NewJSONL(w) },
	}
	for _, opts := range []export.Options{{}, {IncludeNotes: true, RevealNumbers: true}, {MaskBodies: true}} {
		opts.Now, opts.Location = now, time.UTC
		for name, newEnc := range formats {
			t.Run(fmt.Sprintf("%s/notes=%v,reveal=%v,mask=%v", name, opts.IncludeNotes, opts.RevealNumbers, opts.MaskBodies), func(t *testing.T) {
				var want, got bytes.Buffer
				wantStats := referenceExport(t, st, opts, newEnc(&want))
				stats, err := export.Stream(context.Background(), st, export.Filter{}, opts, newEnc(&got))
				if err != nil {
					t.Fatal(err)
				}
				if stats != wantStats {
					t.Errorf("stats = %+v, want %+v", stats, wantStats)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("the export (%d bytes) differs from reading in order (%d bytes) at byte %d", got.Len(), want.Len(), firstDifference(got.Bytes(), want.Bytes()))
				}
			})
		}
	}
	noReaderLeft(t)
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// noReaderLeft fails the test if a goroutine of Stream's read-ahead is still running
// shortly after Stream returned (they have returned when it does; this allows for
// the scheduler's tidying).
func noReaderLeft(t *testing.T) {
	t.Helper()
	var stacks string
	for range 100 {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
		stacks = buf.String()
		if !strings.Contains(stacks, "export.(*readAhead)") && !strings.Contains(stacks, "export.startReading") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("goroutines of the export's read-ahead still run after Stream returned:\n%s", stacks)
}

// countingStore counts read transactions, and fails the failAt-th (from 1) when set.
type countingStore struct {
	hotline.Store
	views  atomic.Int64
	failAt int64
}

var errDiskOnFire = errors.New("disk on fire")

func (s *countingStore) View(ctx context.Context, fn func(hotline.ReadTx) error) error {
	if n := s.views.Add(1); n == s.failAt {
		return errDiskOnFire
	}
	return s.Store.View(ctx, fn)
}

// failingEncoder is a CSV encoder whose Message fails after ok messages, and which
// calls onConversation (when set) at each conversation.
type failingEncoder struct {
	*export.CSV
	ok             int
	onConversation func()
}

var errWriteFailed = errors.New("the client went away")

func (e *failingEncoder) Conversation(h export.Header) error {
	if e.onConversation != nil {
		e.onConversation()
	}
	return e.CSV.Conversation(h)
}

func (e *failingEncoder) Message(m hotline.Message) error {
	if e.ok == 0 {
		return errWriteFailed
	}
	e.ok--
	return e.CSV.Message(m)
}

// However an export ends (an encoder's error, a store's, the caller's cancellation,
// or success), Stream returns the error that ended it, with the counts of what it
// wrote until then, and leaves no goroutine behind.
func TestStreamEndsItsReadAheadHoweverItEnds(t *testing.T) {
	sizes := []int{300, 600}
	for i := range 40 {
		sizes = append(sizes, 10+i%5)
	}
	st := readAheadStore(t, sizes)
	total := 0
	for _, n := range sizes {
		total += n - (n+3)/7 // notes are left out
	}

	t.Run("encoder fails", func(t *testing.T) {
		enc := &failingEncoder{CSV: export.NewCSV(io.Discard), ok: 700}
		stats, err := export.Stream(context.Background(), st, export.Filter{}, export.Options{}, enc)
		if !errors.Is(err, errWriteFailed) {
			t.Errorf("err = %v, want %v", err, errWriteFailed)
		}
		if stats.Messages != 700 {
			t.Errorf("stats.Messages = %d, want the 700 written", stats.Messages)
		}
		noReaderLeft(t)
	})
	for _, failAt := range []int64{1, 2, 3, 5, 20, 40} {
		t.Run(fmt.Sprintf("read transaction %d fails", failAt), func(t *testing.T) {
			cs := &countingStore{Store: st, failAt: failAt}
			_, err := export.Stream(context.Background(), cs, export.Filter{}, export.Options{}, export.NewCSV(io.Discard))
			if !errors.Is(err, errDiskOnFire) {
				t.Errorf("err = %v, want %v", err, errDiskOnFire)
			}
			noReaderLeft(t)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		conversations := 0
		enc := &failingEncoder{CSV: export.NewCSV(io.Discard), ok: total, onConversation: func() {
			if conversations++; conversations == 3 {
				cancel()
			}
		}}
		stats, err := export.Stream(ctx, st, export.Filter{}, export.Options{}, enc)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want %v", err, context.Canceled)
		}
		if stats.Conversations > 3 {
			t.Errorf("stats.Conversations = %d after a cancellation during the third", stats.Conversations)
		}
		noReaderLeft(t)
	})
	t.Run("completes", func(t *testing.T) {
		stats, err := export.Stream(context.Background(), st, export.Filter{}, export.Options{}, export.NewCSV(io.Discard))
		if err != nil || stats.Messages != total || stats.Conversations != len(sizes) {
			t.Errorf("Stream = %+v, %v; want %d conversations and %d messages", stats, err, len(sizes), total)
		}
		noReaderLeft(t)
	})
}

// blockingEncoder holds its first message until released.
type blockingEncoder struct {
	*export.CSV
	blocked  chan struct{}
	released chan struct{}
	first    bool
}

func (e *blockingEncoder) Message(m hotline.Message) error {
	if !e.first {
		e.first = true
		close(e.blocked)
		<-e.released
	}
	return e.CSV.Message(m)
}

// Stream reads ahead of a slow encoder by a few pages, not the whole export: a
// bounded number of read transactions happen while the encoder is stuck on its
// first message, with many conversations to come and with one long conversation.
func TestStreamReadsABoundedWayAhead(t *testing.T) {
	many := make([]int, 150)
	for i := range many {
		many[i] = 2
	}
	for name, sizes := range map[string][]int{"many conversations": many, "one long conversation": {3000}} {
		t.Run(name, func(t *testing.T) {
			cs := &countingStore{Store: readAheadStore(t, sizes)}
			enc := &blockingEncoder{CSV: export.NewCSV(io.Discard), blocked: make(chan struct{}), released: make(chan struct{})}
			done := make(chan error, 1)
			go func() {
				_, err := export.Stream(context.Background(), cs, export.Filter{}, export.Options{}, enc)
				done <- err
			}()
			<-enc.blocked
			time.Sleep(200 * time.Millisecond) // time enough for the readers to run as far as they may
			views := cs.views.Load()
			close(enc.released)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			all := cs.views.Load()
			t.Logf("%d read transactions while the encoder was stuck, %d in all", views, all)
			if views > 30 || views >= all/2 {
				t.Errorf("%d of the export's %d read transactions happened while its encoder was stuck on the first message", views, all)
			}
			noReaderLeft(t)
		})
	}
}

// releasingStore counts the calls of ReleaseMappedPages, the optional method through
// which a store that reads through a memory map lets go of the pages an export read.
type releasingStore struct {
	hotline.Store
	calls atomic.Int64
	err   error
}

func (s *releasingStore) ReleaseMappedPages() error {
	s.calls.Add(1)
	return s.err
}

// An export asks a store that can release its mapped pages to do so every few
// thousand messages, and goes on when it cannot.
func TestStreamReleasesMappedPages(t *testing.T) {
	st := readAheadStore(t, []int{3000, 3000, 3000})
	rs := &releasingStore{Store: st}
	stats, err := export.Stream(context.Background(), rs, export.Filter{}, export.Options{IncludeNotes: true}, export.NewCSV(io.Discard))
	if err != nil || stats.Messages != 9000 {
		t.Fatalf("Stream = %+v, %v", stats, err)
	}
	if n := rs.calls.Load(); n != 2 { // once 4,096 messages have passed since the last call
		t.Errorf("ReleaseMappedPages called %d times for 9,000 messages, want 2", n)
	}
	failing := &releasingStore{Store: st, err: errors.New("madvise: invalid argument")}
	stats, err = export.Stream(context.Background(), failing, export.Filter{}, export.Options{IncludeNotes: true}, export.NewCSV(io.Discard))
	if err != nil || stats.Messages != 9000 {
		t.Fatalf("Stream with a store failing to release pages = %+v, %v", stats, err)
	}
	if n := failing.calls.Load(); n != 1 {
		t.Errorf("ReleaseMappedPages called %d times after failing, want 1 (no more tries)", n)
	}
}
