package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// seed stores n conversations, one per texter: an inbound text (and so a welcome),
// a reply and an internal note; the first one's text tries a spreadsheet formula.
func seed(t testing.TB, n int) (*hotline.Service, *clock) {
	t.Helper()
	c := &clock{now: t0}
	svc := hotline.NewService(storetest.MustOpen(t), c, nil, hotline.DefaultPolicy())
	ctx := context.Background()
	responder := hotline.Actor{ID: hotline.NewID(t0)}
	for i := range n {
		body := fmt.Sprintf("help me %d ñ 🙂", i)
		if i == 0 {
			body = "=HYPERLINK(\"http://evil\")"
		}
		res, err := svc.ReceiveInbound(ctx, hotline.InboundMessage{SID: fmt.Sprintf("SM%032d", i),
			From: hotline.Address(fmt.Sprintf("+1415555%04d", i)), Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Accept(ctx, responder, res.ConversationID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reply(ctx, responder, res.ConversationID, "We are here."); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddNote(ctx, responder, res.ConversationID, "private note"); err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(time.Hour)
	}
	return svc, c
}

func TestCSVOneRowPerMessageWithMaskedNumbers(t *testing.T) {
	svc, _ := seed(t, 3)
	var buf bytes.Buffer
	stats, err := export.Stream(context.Background(), svc.Store(), export.Filter{}, export.Options{}, export.NewCSV(&buf))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v", err)
	}
	if got, want := strings.Join(rows[0], ","), "conversation_id,handle,texter,conversation_state,message_id,direction,purpose,author_id,body,status,error_code,twilio_sid,created_at,author,disposition,tags"; got != want {
		t.Errorf("header = %s\nwant %s", got, want)
	}
	// Each conversation: inbound, welcome, reply (the note is left out by default).
	if got, want := len(rows)-1, 9; got != want {
		t.Errorf("rows = %d, want %d", got, want)
	}
	if stats.Conversations != 3 || stats.Messages != 9 {
		t.Errorf("stats = %+v, want 3 conversations and 9 messages", stats)
	}
	for _, r := range rows[1:] {
		if r[2] != "+1******0000" && r[2] != "+1******0001" && r[2] != "+1******0002" {
			t.Errorf("texter column %q is not a masked number", r[2])
		}
		if r[5] == "note" {
			t.Errorf("a note was exported without IncludeNotes")
		}
	}
	if got, want := rows[1][8], "'=HYPERLINK(\"http://evil\")"; got != want {
		t.Errorf("formula body = %q, want %q (neutralised)", got, want)
	}
	if !strings.Contains(buf.String()+rows[4][8], "ñ 🙂") {
		t.Errorf("Unicode body not preserved: %q", rows[4][8])
	}
}

func TestJSONLOneConversationPerLine(t *testing.T) {
	svc, _ := seed(t, 2)
	var buf bytes.Buffer
	if _, err := export.Stream(context.Background(), svc.Store(), export.Filter{}, export.Options{IncludeNotes: true, RevealNumbers: true}, export.NewJSONL(&buf)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if got, want := len(lines), 2; got != want {
		t.Fatalf("lines = %d, want %d", got, want)
	}
	for i, line := range lines {
		var conv struct {
			ID, State, Handle, Texter string
			CreatedAt                 string  `json:"created_at"`
			ClosedAt                  *string `json:"closed_at"`
			Messages                  []struct {
				ID, Direction, Body, Status string
				TwilioSID                   string `json:"twilio_sid"`
				CreatedAt                   string `json:"created_at"`
			}
		}
		if err := json.Unmarshal([]byte(line), &conv); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, line)
		}
		if conv.ID == "" || conv.State != "active" || !strings.HasPrefix(conv.Handle, "T-") || conv.ClosedAt != nil {
			t.Errorf("line %d conversation = %+v", i, conv)
		}
		if got, want := conv.Texter, fmt.Sprintf("+1415555%04d", i); got != want {
			t.Errorf("texter = %q, want the revealed %q", got, want)
		}
		var dirs []string
		for _, m := range conv.Messages {
			dirs = append(dirs, m.Direction)
		}
		if got, want := strings.Join(dirs, ","), "inbound,outbound,outbound,note"; got != want {
			t.Errorf("messages = %s, want %s", got, want)
		}
		if conv.Messages[0].TwilioSID != fmt.Sprintf("SM%032d", i) {
			t.Errorf("inbound twilio_sid = %q", conv.Messages[0].TwilioSID)
		}
	}
}

func TestStreamPagesThroughManyConversationsAndFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 600 conversations")
	}
	svc, _ := seed(t, 600)
	count := func(f export.Filter) int {
		var buf bytes.Buffer
		stats, err := export.Stream(context.Background(), svc.Store(), f, export.Options{}, export.NewJSONL(&buf))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(buf.String(), "\n"); got != stats.Conversations {
			t.Errorf("wrote %d lines for %d conversations", got, stats.Conversations)
		}
		return stats.Conversations
	}
	if got, want := count(export.Filter{}), 600; got != want {
		t.Errorf("all = %d, want %d", got, want)
	}
	// Conversation i was created at t0 + i hours.
	if got, want := count(export.Filter{From: t0.Add(100 * time.Hour), To: t0.Add(400 * time.Hour)}), 300; got != want {
		t.Errorf("from/to = %d, want %d", got, want)
	}
	if got, want := count(export.Filter{From: t0.Add(599 * time.Hour)}), 1; got != want {
		t.Errorf("from the last = %d, want %d", got, want)
	}
	if got, want := count(export.Filter{States: []hotline.State{hotline.StateClosed}}), 0; got != want {
		t.Errorf("closed = %d, want %d", got, want)
	}
}

func FuzzCSVMessage(f *testing.F) {
	for _, s := range []string{"", "hello", "=1+1", "a,b\n\"c\"", "\xff", "🙂\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var buf bytes.Buffer
		enc := export.NewCSV(&buf)
		_ = enc.Begin(export.Meta{})
		_ = enc.Conversation(export.Header{Conversation: hotline.Conversation{Handle: "T-1"}, Texter: "+1******0000"})
		if err := enc.Message(hotline.Message{Body: body}); err != nil {
			t.Fatal(err)
		}
		if err := enc.End(); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("unreadable CSV for %q: %v", body, err)
		}
		if len(rows) != 2 {
			t.Fatalf("rows = %d for %q, want 2", len(rows), body)
		}
	})
}
