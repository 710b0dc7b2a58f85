package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// The cost of encryption at rest and of the hash chain on the hot paths
// (BENCHMARKS.md, "Encryption at rest"): the same benchmarks as bench_test.go's,
// on an encrypted store. Compare BenchmarkAppendInbound with
// BenchmarkAppendInboundEncrypted, and so on.

func benchKey(b *testing.B) []byte {
	k := make([]byte, MasterKeySize)
	rand.Read(k)
	return k
}

// BenchmarkAppendInboundEncrypted is BenchmarkAppendInbound with a master key: a
// new texter each time, so two new data keys (contact, conversation) written to the
// keystore per text, as well as the sealing.
func BenchmarkAppendInboundEncrypted(b *testing.B) {
	s := openBench(b, Options{MasterKey: benchKey(b)})
	ctx := context.Background()
	for b.Loop() {
		n := benchSeq.Add(1)
		if err := s.Update(ctx, func(tx hotline.Tx) error { return appendInbound(tx, n) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendInboundParallelEncrypted is BenchmarkAppendInboundParallel with a
// master key.
func BenchmarkAppendInboundParallelEncrypted(b *testing.B) {
	s := openBench(b, Options{MasterKey: benchKey(b)})
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

// BenchmarkAppendReplyEncrypted and BenchmarkAppendReply are a text in a
// conversation that exists (its data key cached): the common case after the first
// text.
func BenchmarkAppendReply(b *testing.B) { benchAppendReply(b, Options{}) }
func BenchmarkAppendReplyEncrypted(b *testing.B) {
	benchAppendReply(b, Options{MasterKey: benchKey(b)})
}

func benchAppendReply(b *testing.B, opts Options) {
	s := openBench(b, opts)
	ctx := context.Background()
	n := benchSeq.Add(1)
	var conv hotline.ID
	if err := s.Update(ctx, func(tx hotline.Tx) error {
		if err := appendInbound(tx, n); err != nil {
			return err
		}
		m, err := tx.MessageBySID(sidOf(n))
		conv = m.ConversationID
		return err
	}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		err := s.Update(ctx, func(tx hotline.Tx) error {
			now := nowUTC()
			return tx.PutMessage(hotline.Message{ID: hotline.NewID(now), ConversationID: conv, Direction: hotline.DirectionInbound,
				Body: "they are coming back tonight, what do I do", Status: hotline.StatusReceived, TwilioSID: sidOf(benchSeq.Add(1)),
				Segments: 1, CreatedAt: now, UpdatedAt: now})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportScanEncrypted is BenchmarkExportScan with a master key: every
// message opened with AES-256-GCM.
func BenchmarkExportScanEncrypted(b *testing.B) {
	benchExportScan(b, Options{NoSync: true, MasterKey: benchKey(b)})
}

func sidOf(n int64) string { return fmt.Sprintf("SM%032d", n) }

func nowUTC() time.Time { return time.Now().UTC() }

// BenchmarkInboundCPU and BenchmarkInboundCPUEncrypted are a first text's writes
// without fsync, in CPU time per text: the cost of sealing, hashing and the key
// lookups, free of the disk's noise (the fsync'd benchmarks above vary tenfold on
// a shared VM).
func BenchmarkInboundCPU(b *testing.B) { benchInboundCPU(b, Options{NoSync: true}) }
func BenchmarkInboundCPUEncrypted(b *testing.B) {
	benchInboundCPU(b, Options{NoSync: true, MasterKey: benchKey(b)})
}

func benchInboundCPU(b *testing.B, opts Options) {
	s := openBench(b, opts)
	ctx := context.Background()
	cpu := cpuTime()
	for b.Loop() {
		n := benchSeq.Add(1)
		if err := s.Update(ctx, func(tx hotline.Tx) error { return appendInbound(tx, n) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDecodeMessageSealed is BenchmarkDecodeMessage for a sealed record (its
// data key cached, as in an export): the CPU cost of opening it.
func BenchmarkDecodeMessageSealed(b *testing.B) {
	s := openBench(b, Options{NoSync: true, MasterKey: benchKey(b)})
	m := hotline.Message{ID: hotline.NewID(time.Now()), ConversationID: hotline.NewID(time.Now()),
		Direction: hotline.DirectionOutbound, Body: "You've reached the hotline. A counselor will text you shortly.",
		Purpose: hotline.PurposeReply, AuthorID: hotline.NewID(time.Now()), TwilioSID: "SM0123456789abcdef0123456789abcdef",
		Segments: 1, Status: hotline.StatusDelivered, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	key := pairKey(m.ConversationID, m.ID)
	if err := s.Update(context.Background(), func(htx hotline.Tx) error { return htx.PutMessage(m) }); err != nil {
		b.Fatal(err)
	}
	err := s.View(context.Background(), func(rt hotline.ReadTx) error {
		t := rt.(*tx)
		v := t.tx.Bucket(bucketMessages).Get(key)
		b.SetBytes(int64(len(v)))
		cpu := cpuTime()
		for b.Loop() {
			if _, err := t.decodeMessage(key, v); err != nil {
				return err
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInboundParallelCPU and …Encrypted are BenchmarkAppendInboundParallel
// without fsync, in CPU time per text: group commit's bookkeeping plus sealing.
func BenchmarkInboundParallelCPU(b *testing.B) { benchInboundParallelCPU(b, Options{NoSync: true}) }
func BenchmarkInboundParallelCPUEncrypted(b *testing.B) {
	benchInboundParallelCPU(b, Options{NoSync: true, MasterKey: benchKey(b)})
}

func benchInboundParallelCPU(b *testing.B, opts Options) {
	s := openBench(b, opts)
	ctx := context.Background()
	b.SetParallelism(32)
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := benchSeq.Add(1)
			if err := s.Update(ctx, func(tx hotline.Tx) error { return appendInbound(tx, n) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}
