package hotline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// BenchmarkApply is the state machine alone, for the inbound texts that matter: the
// first text of a new texter (a conversation starts, a welcome is queued), a text in
// an open conversation, the keywords that change what the hotline sends, and a long
// text that the triage scans for risk terms in three languages. It runs inside every
// webhook's store transaction, so its cost is paid under the write lock.
func BenchmarkApply(b *testing.B) {
	now := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
	p := hotline.DefaultPolicy()
	newTexter := hotline.Thread{Contact: hotline.Contact{ID: hotline.NewID(now), Address: "+14155550100", Handle: "T-4821"}}
	open := hotline.Thread{
		Contact: hotline.Contact{ID: hotline.NewID(now), Address: "+14155550100", Handle: "T-4821", FirstSeen: now, LastSeen: now,
			AutoReplies: 1, AutoReplyWindow: now},
		Conversation: hotline.Conversation{ID: hotline.NewID(now), Handle: "T-4821", State: hotline.StateActive,
			Priority: hotline.PriorityNormal, Language: "en", CreatedAt: now, UpdatedAt: now, LastInboundAt: now,
			InactiveAt: now.Add(24 * time.Hour), AssigneeID: hotline.NewID(now)},
	}
	long := strings.Repeat("I have been working here for eight months and they keep my documents. ", 23)[:1590]
	later := now.Add(time.Minute)
	cases := []struct {
		name string
		th   hotline.Thread
		body string
	}{
		{"new-conversation", newTexter, "hi, I need help"},
		{"existing-conversation", open, "he is back, I can't talk now"},
		{"keyword-STOP", open, "STOP"},
		{"keyword-HELP-new", newTexter, "help"},
		{"risk-terms-1590-chars", open, long + " gun"},
		{"spanish-risk-term", open, "me quitaron el pasaporte y estoy encerrada 😢"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ev := hotline.InboundText{Body: c.body}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := hotline.Apply(c.th, ev, later, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
