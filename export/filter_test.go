package export_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
)

func TestMaskBody(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"call me at +1 (415) 555-0199 please", "call me at [phone] please"},
		{"my number 4155550199", "my number [phone]"},
		{"415.555.0123 or 415 555 0124", "[phone] or [phone]"},
		{"UK: +44 20 7946 0958.", "UK: [phone]."},
		{"(415) 555-0199", "[phone]"},
		{"write to ana.maria@example.com now", "write to [email] now"},
		{"Ana+safe@correo.example.org, or josé@dominio.es", "[email], or [email]"},
		{"on 2026-05-01 at 10:30, room 12, $1,500", "on 2026-05-01 at 10:30, room 12, $1,500"},
		{"dates 01/05/2026 and 1.5.2026", "dates 01/05/2026 and 1.5.2026"},
		{"door code 4471, flat 12-34", "door code 4471, flat 12-34"},
		{"passport X1234567", "passport X[phone]"},
		{"two numbers 4155550199 4155550100", "two numbers [phone]"},
		{"no digits at all 🙂", "no digits at all 🙂"},
		{"", ""},
	} {
		if got := export.MaskBody(tt.in); got != tt.want {
			t.Errorf("MaskBody(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzMaskBody(f *testing.F) {
	for _, s := range []string{"+1 (415) 555-0199", "a@b.co", "2026-05-01", "((((1234567", "\xff@x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := export.MaskBody(s)
		if export.MaskBody(out) != out {
			t.Errorf("masking %q twice changes it: %q → %q", s, out, export.MaskBody(out))
		}
		if long := regexp.MustCompile(`\d{7,}`).FindString(out); long != "" {
			t.Fatalf("MaskBody(%q) = %q still holds the run of digits %q", s, out, long)
		}
	})
}

// ids exports with f and returns the IDs of the conversations written.
func ids(t *testing.T, fx *fixture, f export.Filter) []hotline.ID {
	t.Helper()
	var buf bytes.Buffer
	stats, err := export.Stream(context.Background(), fx.svc.Store(), f, export.Options{}, export.NewJSONL(&buf))
	if err != nil {
		t.Fatal(err)
	}
	var out []hotline.ID
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		id, err := hotline.ParseID(line[len(`{"id":"`) : len(`{"id":"`)+26])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if len(out) != stats.Conversations {
		t.Errorf("wrote %d lines for %d conversations", len(out), stats.Conversations)
	}
	return out
}

func TestFilterCombinations(t *testing.T) {
	fx := newFixture(t)
	closed, waiting := fx.closed, fx.waiting
	both := []hotline.ID{closed, waiting}
	for _, tt := range []struct {
		name string
		f    export.Filter
		want []hotline.ID
	}{
		{"everything", export.Filter{}, both},
		{"state closed", export.Filter{States: []hotline.State{hotline.StateClosed}}, []hotline.ID{closed}},
		{"states waiting or closed", export.Filter{States: []hotline.State{hotline.StateWaiting, hotline.StateClosed}}, both},
		{"disposition, any case", export.Filter{Dispositions: []string{"REFERRED"}}, []hotline.ID{closed}},
		{"disposition nobody used", export.Filter{Dispositions: []string{"prank"}}, nil},
		{"one of the tags", export.Filter{Tags: []string{"nope", "Trafficking"}}, []hotline.ID{closed}},
		{"responder Bo (after a transfer)", export.Filter{Responders: []hotline.ID{fx.bo.ID}}, []hotline.ID{closed}},
		{"responder Ana", export.Filter{Responders: []hotline.ID{fx.ana.ID}}, []hotline.ID{closed}},
		{"from after the first", export.Filter{From: t0.Add(10 * time.Minute)}, []hotline.ID{waiting}},
		{"to before the second", export.Filter{To: t0.Add(10 * time.Minute)}, []hotline.ID{closed}},
		{"an empty range", export.Filter{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}, nil},
		{"ids", export.Filter{IDs: []hotline.ID{waiting}}, []hotline.ID{waiting}},
		{"ids, duplicated and unordered", export.Filter{IDs: []hotline.ID{waiting, closed, waiting}}, both},
		{"ids and state", export.Filter{IDs: both, States: []hotline.State{hotline.StateWaiting}}, []hotline.ID{waiting}},
		{"state and tag and range", export.Filter{States: []hotline.State{hotline.StateClosed}, Tags: []string{"es"}, From: t0, To: t0.Add(time.Hour)}, []hotline.ID{closed}},
		{"state and responder that never match together", export.Filter{States: []hotline.State{hotline.StateWaiting}, Responders: []hotline.ID{fx.ana.ID}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(t, fx, tt.f)
			if len(got) != len(tt.want) {
				t.Fatalf("exported %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("exported %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestMissingIDsAreCounted(t *testing.T) {
	fx := newFixture(t)
	var buf bytes.Buffer
	stats, err := export.Stream(context.Background(), fx.svc.Store(), export.Filter{IDs: []hotline.ID{fx.closed, hotline.NewID(t0)}},
		export.Options{}, export.NewCSV(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Conversations != 1 || stats.Missing != 1 {
		t.Errorf("stats = %+v, want 1 conversation and 1 missing", stats)
	}
}

func TestCountAndProgress(t *testing.T) {
	fx := newFixture(t)
	n, err := export.Count(context.Background(), fx.svc.Store(), export.Filter{States: []hotline.State{hotline.StateClosed}})
	if err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	var seen []int
	_, err = export.Stream(context.Background(), fx.svc.Store(), export.Filter{}, export.Options{Progress: func(s export.Stats) {
		seen = append(seen, s.Conversations)
	}}, export.NewCSV(&bytes.Buffer{}))
	if err != nil || len(seen) != 2 || seen[1] != 2 {
		t.Errorf("progress calls = %v, %v; want [1 2]", seen, err)
	}
}

func TestMaskedBodiesInEveryFormat(t *testing.T) {
	fx := newFixture(t)
	for name, enc := range map[string]func(*bytes.Buffer) export.Encoder{
		"csv":   func(b *bytes.Buffer) export.Encoder { return export.NewCSV(b) },
		"jsonl": func(b *bytes.Buffer) export.Encoder { return export.NewJSONL(b) },
	} {
		var buf bytes.Buffer
		if _, err := export.Stream(context.Background(), fx.svc.Store(), export.Filter{}, export.Options{MaskBodies: true, IncludeNotes: true}, enc(&buf)); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, leak := range []string{"555-0199", "ana.maria@example.com", "415.555.0123"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: %q left unmasked", name, leak)
			}
		}
		if !strings.Contains(out, "[phone]") || !strings.Contains(out, "[email]") || !strings.Contains(out, "door code 4471") {
			t.Errorf("%s: masks missing or too eager:\n%s", name, out)
		}
	}
}
