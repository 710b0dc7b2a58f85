package hotline_test

import (
	"slices"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

func TestDetectKeyword(t *testing.T) {
	configured := []hotline.HotlineKeyword{{Word: "BEFREE"}, {Word: "AYUDA", Language: "es"}}
	tests := []struct {
		body string
		kind hotline.KeywordKind
		word string
		lang string
	}{
		{"STOP", hotline.KeywordStop, "STOP", ""},
		{"stop", hotline.KeywordStop, "STOP", ""},
		{"  Stop.  ", hotline.KeywordStop, "STOP", ""},
		{"STOP!!!", hotline.KeywordStop, "STOP", ""},
		{"stopall", hotline.KeywordStop, "STOPALL", ""},
		{"Unsubscribe", hotline.KeywordStop, "UNSUBSCRIBE", ""},
		{"cancel", hotline.KeywordStop, "CANCEL", ""},
		{"END", hotline.KeywordStop, "END", ""},
		{"quit", hotline.KeywordStop, "QUIT", ""},
		{"revoke", hotline.KeywordStop, "REVOKE", ""},
		{"OptOut", hotline.KeywordStop, "OPTOUT", ""},
		{"start", hotline.KeywordStart, "START", ""},
		{"UNSTOP", hotline.KeywordStart, "UNSTOP", ""},
		{"yes", hotline.KeywordStart, "YES", ""},
		{"help", hotline.KeywordHelp, "HELP", ""},
		{"Info?", hotline.KeywordHelp, "INFO", ""},
		{"befree", hotline.KeywordHotline, "BEFREE", ""},
		{"ayuda", hotline.KeywordHotline, "AYUDA", "es"},
		{"¡Ayuda!", hotline.KeywordHotline, "AYUDA", "es"},
		// Not keywords: a human must read these.
		{"please stop", hotline.KeywordNone, "", ""},
		{"stop him", hotline.KeywordNone, "", ""},
		{"I need help", hotline.KeywordNone, "", ""},
		{"stopped", hotline.KeywordNone, "", ""},
		{"", hotline.KeywordNone, "", ""},
		{"   ", hotline.KeywordNone, "", ""},
		{"S T O P", hotline.KeywordNone, "", ""},
		{"STOP\nnow", hotline.KeywordNone, "", ""},
	}
	for _, tt := range tests {
		got := hotline.DetectKeyword(tt.body, configured)
		if got.Kind != tt.kind || got.Word != tt.word || got.Language != tt.lang {
			t.Errorf("DetectKeyword(%q) = %+v, want kind %d word %q language %q", tt.body, got, tt.kind, tt.word, tt.lang)
		}
	}
}

func TestMatchRiskTerms(t *testing.T) {
	terms := []string{"gun", "kill myself", "took my passport", "suicidio"}
	tests := []struct {
		body string
		want []string
	}{
		{"he has a gun", []string{"gun"}},
		{"He has a GUN!", []string{"gun"}},
		{"it has begun", nil},
		{"I want to\nkill   myself", []string{"kill myself"}},
		{"they took my passport and a gun", []string{"gun", "took my passport"}},
		{"pienso en el suicidio", []string{"suicidio"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := hotline.MatchRiskTerms(tt.body, terms); !slices.Equal(got, tt.want) {
			t.Errorf("MatchRiskTerms(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzDetectKeyword(f *testing.F) {
	for _, s := range []string{"STOP", " stop. ", "ayuda", "I need help", "\xff", "🙂", "STOP\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		k := hotline.DetectKeyword(body, hotline.DefaultPolicy().Keywords)
		if k.Kind == hotline.KeywordNone && k.Word != "" {
			t.Fatalf("no keyword but word %q", k.Word)
		}
		if k.Kind != hotline.KeywordNone && k.Word == "" {
			t.Fatalf("keyword kind %d without a word", k.Kind)
		}
		_ = hotline.MatchRiskTerms(body, []string{"gun", "kill myself"})
	})
}
