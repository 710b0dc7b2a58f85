package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// appendInbound writes what a first text from a new texter writes: the SID, address
// and handle lookups that miss, then a contact, a conversation, the inbound message,
// the welcome text and its outbox entry.
func appendInbound(tx hotline.Tx, n int64) error {
	now := time.Now()
	sid := fmt.Sprintf("SM%032d", n)
	addr := hotline.Address(fmt.Sprintf("+1%010d", n))
	if _, err := tx.MessageBySID(sid); !hotline.IsNotFound(err) {
		return fmt.Errorf("MessageBySID: %v", err)
	}
	if _, err := tx.ContactByAddress(addr); !hotline.IsNotFound(err) {
		return fmt.Errorf("ContactByAddress: %v", err)
	}
	handle := fmt.Sprintf("T-%09d", n)
	if _, err := tx.ContactByHandle(handle); !hotline.IsNotFound(err) {
		return fmt.Errorf("ContactByHandle: %v", err)
	}
	c := hotline.Contact{ID: hotline.NewID(now), Address: addr, Handle: handle, Language: "en", FirstSeen: now, LastSeen: now}
	if _, err := tx.LatestConversation(c.ID); !hotline.IsNotFound(err) {
		return fmt.Errorf("LatestConversation: %v", err)
	}
	conv := hotline.Conversation{ID: hotline.NewID(now), ContactID: c.ID, Handle: handle, State: hotline.StateWaiting,
		Priority: hotline.PriorityNormal, Language: "en", CreatedAt: now, UpdatedAt: now, WaitingSince: now,
		LastInboundAt: now, InactiveAt: now.Add(time.Hour)}
	in := hotline.Message{ID: hotline.NewID(now), ConversationID: conv.ID, Direction: hotline.DirectionInbound,
		Body: "I need help, I can't leave the house and they took my passport", TwilioSID: sid, Segments: 1,
		Status: hotline.StatusReceived, CreatedAt: now, UpdatedAt: now}
	welcome := hotline.Message{ID: hotline.NewID(now), ConversationID: conv.ID, Direction: hotline.DirectionOutbound,
		Body:    "You've reached the hotline. A counselor will text you shortly. If you are in danger call 911. Text STOP to opt out.",
		Purpose: hotline.PurposeWelcome, Segments: 1, Status: hotline.StatusQueued, CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{tx.PutMessage(in), tx.PutContact(c), tx.PutConversation(conv), tx.PutMessage(welcome),
		tx.PutOutbox(hotline.OutboxEntry{ID: welcome.ID, ConversationID: conv.ID, To: addr, Body: welcome.Body,
			Status: hotline.StatusQueued, NextAttemptAt: now, CreatedAt: now})} {
		if err != nil {
			return err
		}
	}
	return nil
}

// openBench opens a store with fsync, as in production.
func openBench(b *testing.B, opts Options) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "hotline.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

var benchSeq atomic.Int64

// BenchmarkAppendInbound is one webhook at a time through Update (group commit with
// the default delay, fsync on).
func BenchmarkAppendInbound(b *testing.B) {
	s := openBench(b, Options{})
	ctx := context.Background()
	for b.Loop() {
		n := benchSeq.Add(1)
		if err := s.Update(ctx, func(tx hotline.Tx) error { return appendInbound(tx, n) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendInboundParallel is many concurrent webhooks (32 per CPU) through
// Update: the case group commit is for.
func BenchmarkAppendInboundParallel(b *testing.B) {
	s := openBench(b, Options{})
	ctx := context.Background()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := benchSeq.Add(1)
			if err := s.Update(ctx, func(tx hotline.Tx) error { return appendInbound(tx, n) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCommit compares plain bbolt Update, bbolt Batch at several delays, and
// Store.Update (commit at once when alone, Batch when others are writing), for one
// writer and for 64 concurrent writers. It chose DefaultBatchDelay: see the figures
// there.
func BenchmarkCommit(b *testing.B) {
	modes := []struct {
		name  string
		delay time.Duration
		write func(s *Store) func(context.Context, func(hotline.Tx) error) error
	}{
		{"update", 0, func(s *Store) func(context.Context, func(hotline.Tx) error) error {
			return func(ctx context.Context, fn func(hotline.Tx) error) error { return s.write(ctx, s.db.Update, fn) }
		}},
		{"batch-500us", 500 * time.Microsecond, pureBatch},
		{"batch-1ms", time.Millisecond, pureBatch},
		{"batch-2ms", 2 * time.Millisecond, pureBatch},
		{"batch-5ms", 5 * time.Millisecond, pureBatch},
		{"batch-10ms", 10 * time.Millisecond, pureBatch},
		{"store-1ms", time.Millisecond, storeUpdate},
		{"store-2ms", 2 * time.Millisecond, storeUpdate},
	}
	for _, writers := range []int{1, 64} {
		for _, mode := range modes {
			b.Run(fmt.Sprintf("writers=%d/%s", writers, mode.name), func(b *testing.B) {
				s := openBench(b, Options{BatchDelay: mode.delay})
				write := mode.write(s)
				ctx := context.Background()
				var next atomic.Int64
				var wg sync.WaitGroup
				latencies := make([]time.Duration, b.N)
				b.ResetTimer()
				for range writers {
					wg.Go(func() {
						for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
							n := benchSeq.Add(1)
							start := time.Now()
							if err := write(ctx, func(tx hotline.Tx) error { return appendInbound(tx, n) }); err != nil {
								b.Error(err)
								return
							}
							latencies[i] = time.Since(start)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				// A shared disk has fsync spikes: the median latency says more than the mean.
				slices.Sort(latencies)
				b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
			})
		}
	}
}

func pureBatch(s *Store) func(context.Context, func(hotline.Tx) error) error {
	return func(ctx context.Context, fn func(hotline.Tx) error) error { return s.write(ctx, s.db.Batch, fn) }
}

func storeUpdate(s *Store) func(context.Context, func(hotline.Tx) error) error { return s.Update }

// BenchmarkDecodeMessage is the cost of one record for an export.
func BenchmarkDecodeMessage(b *testing.B) {
	m := hotline.Message{ID: hotline.NewID(time.Now()), ConversationID: hotline.NewID(time.Now()),
		Direction: hotline.DirectionOutbound, Body: "You've reached the hotline. A counselor will text you shortly.",
		Purpose: hotline.PurposeReply, AuthorID: hotline.NewID(time.Now()), TwilioSID: "SM0123456789abcdef0123456789abcdef",
		Segments: 1, Status: hotline.StatusDelivered, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	v, err := encodeMessage(m)
	if err != nil {
		b.Fatal(err)
	}
	key := pairKey(m.ConversationID, m.ID)
	b.SetBytes(int64(len(v)))
	cpu := cpuTime()
	for b.Loop() {
		if _, err := decodeMessage(key, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time this process has used. On a shared machine wall-clock
// benchmarks of CPU-bound work vary with the neighbours; CPU time does much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExportScan walks 100 threads of 100 messages through Messages, as an
// export does, on all CPUs. msgs/s is the figure to hold against the target of
// 200,000 messages a second on 2 cores, so msgs/cpu-s must reach 100,000.
func BenchmarkExportScan(b *testing.B) { benchExportScan(b, Options{NoSync: true}) }

// benchExportScan is BenchmarkExportScan on a store opened with opts.
func benchExportScan(b *testing.B, opts Options) {
	s := openBench(b, opts)
	ctx := context.Background()
	var convs []hotline.ID
	for range 100 {
		n := benchSeq.Add(1)
		var conv hotline.ID
		err := s.Update(ctx, func(tx hotline.Tx) error {
			if err := appendInbound(tx, n); err != nil {
				return err
			}
			m, err := tx.MessageBySID(fmt.Sprintf("SM%032d", n))
			conv = m.ConversationID
			for i := range 98 {
				r := hotline.Message{ID: hotline.NewID(time.Now()), ConversationID: conv, Direction: hotline.DirectionOutbound,
					Body:    fmt.Sprintf("reply %d: we can help you find a safe place tonight, are you able to talk?", i),
					Purpose: hotline.PurposeReply, AuthorID: conv, Segments: 1, Status: hotline.StatusDelivered,
					TwilioSID: fmt.Sprintf("SMout%d-%d", n, i), CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if err := tx.PutMessage(r); err != nil {
					return err
				}
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		convs = append(convs, conv)
	}
	var total atomic.Int64
	b.ResetTimer()
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := s.View(ctx, func(tx hotline.ReadTx) error {
				for _, id := range convs {
					if err := tx.Messages(id, hotline.ID{}, func(hotline.Message) error { total.Add(1); return nil }); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(total.Load())/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(total.Load())/(cpuTime()-cpu).Seconds(), "msgs/cpu-s")
}
