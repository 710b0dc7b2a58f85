package export_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// benchStore returns a store (without fsync) holding convs conversations of perConv
// messages each, as a hotline's history looks: each starts with the texter's text
// and a welcome, then alternates texter and responder.
func benchStore(b *testing.B, convs, perConv int) *store.Store {
	return benchStoreWith(b, store.Options{NoSync: true}, convs, perConv)
}

// benchStoreWith is benchStore opened with opts.
func benchStoreWith(b *testing.B, opts store.Options, convs, perConv int) *store.Store {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "hotline.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	responder := hotline.NewID(start)
	for first := 0; first < convs; first += 100 {
		err := st.Update(ctx, func(tx hotline.Tx) error {
			for c := first; c < min(first+100, convs); c++ {
				if err := putBenchConversation(tx, c, perConv, start.Add(time.Duration(c)*time.Minute), responder); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// putBenchConversation writes one closed conversation of n messages starting at t.
func putBenchConversation(tx hotline.Tx, i, n int, t time.Time, responder hotline.ID) error {
	contact := hotline.Contact{ID: hotline.NewID(t), Address: hotline.Address(fmt.Sprintf("+1%03d555%04d", 200+i/10000%800, i%10000)),
		Handle: fmt.Sprintf("T-%06d", i), Language: "en", FirstSeen: t, LastSeen: t}
	conv := hotline.Conversation{ID: hotline.NewID(t), ContactID: contact.ID, Handle: contact.Handle, State: hotline.StateClosed,
		Priority: hotline.PriorityNormal, Language: "en", CreatedAt: t, UpdatedAt: t, LastInboundAt: t, FirstResponseAt: t,
		ClosedAt: t.Add(time.Hour), ClosedReason: "responder", Disposition: "referred", Tags: []string{"labor"},
		Responders: []hotline.ID{responder}}
	if err := tx.PutContact(contact); err != nil {
		return err
	}
	if err := tx.PutConversation(conv); err != nil {
		return err
	}
	for j := range n {
		at := t.Add(time.Duration(j) * time.Second)
		m := hotline.Message{ID: hotline.NewID(at), ConversationID: conv.ID, Segments: 1, CreatedAt: at, UpdatedAt: at}
		switch {
		case j == 0:
			m.Direction, m.Status, m.TwilioSID = hotline.DirectionInbound, hotline.StatusReceived, fmt.Sprintf("SM%016x%016x", i, j)
			m.Body = "hi, I need help. My employer took my passport and I can't leave the farm 🙏"
		case j == 1:
			m.Direction, m.Purpose, m.Status = hotline.DirectionOutbound, hotline.PurposeWelcome, hotline.StatusDelivered
			m.Body, m.TwilioSID = hotline.DefaultPolicy().TextsFor("en").Welcome, fmt.Sprintf("SM%016x%016x", i, j)
		case j%2 == 0:
			m.Direction, m.Status, m.TwilioSID = hotline.DirectionInbound, hotline.StatusReceived, fmt.Sprintf("SM%016x%016x", i, j)
			m.Body = "ok. they lock the gate at night but I have my phone, I can text when they sleep"
		default:
			m.Direction, m.Purpose, m.Status, m.AuthorID = hotline.DirectionOutbound, hotline.PurposeReply, hotline.StatusDelivered, responder
			m.Body, m.TwilioSID = "Thank you for telling us. Are you safe right now? We can help you find a place to stay tonight.", fmt.Sprintf("SM%016x%016x", i, j)
		}
		if err := tx.PutMessage(m); err != nil {
			return err
		}
	}
	return nil
}

// benchmarkExport exports 200 conversations of 50 messages (10,000 messages) per
// iteration and reports the figure the target is stated in: messages per second
// (the target is 200,000 messages/s to CSV on 2 cores).
func benchmarkExport(b *testing.B, newEncoder func(io.Writer) export.Encoder) {
	benchmarkExportOf(b, store.Options{NoSync: true}, newEncoder)
}

// benchmarkExportOf is benchmarkExport with the store opened with opts.
func benchmarkExportOf(b *testing.B, opts store.Options, newEncoder func(io.Writer) export.Encoder) {
	const convs, perConv = 200, 50
	st := benchStoreWith(b, opts, convs, perConv)
	ctx := context.Background()
	var messages int
	var written countingWriter
	b.ReportAllocs()
	for b.Loop() {
		stats, err := export.Stream(ctx, st, export.Filter{}, export.Options{}, newEncoder(&written))
		if err != nil {
			b.Fatal(err)
		}
		if stats.Messages != convs*perConv {
			b.Fatalf("exported %d messages, want %d", stats.Messages, convs*perConv)
		}
		messages += stats.Messages
	}
	b.ReportMetric(float64(messages)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(messages), "ns/msg")
	b.ReportMetric(float64(written)/float64(messages), "B/msg")
}

func BenchmarkExportCSV(b *testing.B) {
	benchmarkExport(b, func(w io.Writer) export.Encoder { return export.NewCSV(w) })
}

// BenchmarkExportCSVEncrypted is BenchmarkExportCSV with the store encrypted at rest
// (the default): every message record is opened with AES-GCM as well.
func BenchmarkExportCSVEncrypted(b *testing.B) {
	key := make([]byte, store.MasterKeySize)
	rand.Read(key)
	benchmarkExportOf(b, store.Options{NoSync: true, MasterKey: key}, func(w io.Writer) export.Encoder { return export.NewCSV(w) })
}

func BenchmarkExportJSONL(b *testing.B) {
	benchmarkExport(b, func(w io.Writer) export.Encoder { return export.NewJSONL(w) })
}

// BenchmarkExportPDF writes printable transcripts (one PDF per conversation in a
// zip archive, the form that runs in constant memory) for 20 conversations of 50
// messages, and reports the cost per page.
func BenchmarkExportPDF(b *testing.B) {
	const convs, perConv = 20, 50
	st := benchStore(b, convs, perConv)
	ctx := context.Background()
	var pages, messages int
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		stats, err := export.Stream(ctx, st, export.Filter{}, export.Options{}, export.NewPDFZip(&out))
		if err != nil {
			b.Fatal(err)
		}
		messages += stats.Messages
		// The archive stores the documents uncompressed, and fpdf writes each page
		// object's dictionary in the clear.
		pages += bytes.Count(out.Bytes(), []byte("/Type /Page\n")) + bytes.Count(out.Bytes(), []byte("/Type /Page "))
	}
	if pages == 0 {
		b.Fatal("no page found in the PDFs")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(pages)/1000, "ms/page")
	b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(float64(messages)/b.Elapsed().Seconds(), "msgs/s")
}

// countingWriter discards what it is given and counts the bytes.
type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
