package hotline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// normalizeForMatchBefore is normalizeForMatch as it was before its ASCII fast
// path: the reference the fast one must agree with.
func normalizeForMatchBefore(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

var normalizeSeeds = []string{"", " ", "He has a GUN!", "I want to\nkill   myself", "don't", "KELVIN \u212a", "İstanbul",
	"me quitaron el pasaporte y estoy encerrada 😢", "\xff\xfe", "a\u00a0b", "ÀÉÎÕÜ ß ǅ", "١٢٣ arabic digits", "x--y..z", "'quoted'"}

func TestNormalizeForMatch(t *testing.T) {
	for _, s := range normalizeSeeds {
		if got, want := normalizeForMatch(s), normalizeForMatchBefore(s); got != want {
			t.Errorf("normalizeForMatch(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzNormalizeForMatch(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := normalizeForMatch(s), normalizeForMatchBefore(s); got != want {
			t.Fatalf("normalizeForMatch(%q) = %q, want %q", s, got, want)
		}
		terms := []string{"gun", "kill myself", "a"}
		var want []string
		text := " " + normalizeForMatchBefore(s) + " "
		for _, term := range terms {
			if strings.Contains(text, " "+normalizeForMatchBefore(term)+" ") {
				want = append(want, term)
			}
		}
		if got := MatchRiskTerms(s, terms); !slices.Equal(got, want) {
			t.Fatalf("MatchRiskTerms(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestRiskIndexFollowsThePolicy: the risk terms are normalized once per policy, and
// a policy whose terms changed, even in place, is matched with its new terms.
func TestRiskIndexFollowsThePolicy(t *testing.T) {
	now := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
	p := DefaultPolicy()
	urgent := func(body string) []string {
		th, _, err := Apply(Thread{Contact: Contact{ID: NewID(now), Address: "+14155550100"}}, InboundText{Body: body}, now, p)
		if err != nil {
			t.Fatal(err)
		}
		return th.Conversation.TriageTerms
	}
	if got := urgent("he has a GUN"); !slices.Equal(got, []string{"gun"}) {
		t.Errorf("default terms: %q, want [gun]", got)
	}
	first := riskIndexFor(p.RiskTerms)
	if again := riskIndexFor(p.RiskTerms); again != first {
		t.Errorf("the same terms were indexed again")
	}
	if got := urgent("pegaram meu passaporte e sou trancada"); !slices.Equal(got, []string{"trancada", "pegaram meu passaporte"}) {
		t.Errorf("Portuguese terms: %q", got)
	}
	p.RiskTerms["en"][2] = "knife" // changed in place
	if got := urgent("he has a gun and a knife"); !slices.Equal(got, []string{"knife"}) {
		t.Errorf("after replacing gun by knife in place: %q, want [knife]", got)
	}
	p.RiskTerms["fr"] = []string{"Arme à feu"}
	if got := urgent("il a une ARME à feu"); !slices.Equal(got, []string{"Arme à feu"}) {
		t.Errorf("after adding French: %q, want [Arme à feu]", got)
	}
	delete(p.RiskTerms, "fr")
	p.RiskTerms["en"] = append(p.RiskTerms["en"], "bruise")
	if got := urgent("a bruise, une arme à feu"); !slices.Equal(got, []string{"bruise"}) {
		t.Errorf("after removing French and adding bruise: %q, want [bruise]", got)
	}
	p.RiskTerms = nil
	if got := urgent("gun"); got != nil {
		t.Errorf("without terms: %q", got)
	}
}

// TestNumberCacheBounded: the cache of parsed numbers starts afresh when full, and
// answers the same as parsing.
func TestNumberCacheBounded(t *testing.T) {
	for i := range numberCacheSize + 10 {
		raw := fmt.Sprintf("+1415%07d", i)
		if a, err := NormalizeAddress(raw, "US"); err != nil || string(a) != raw {
			t.Fatalf("NormalizeAddress(%s) = %q, %v", raw, a, err)
		}
		if n := len(numbers.m); n > numberCacheSize {
			t.Fatalf("%d numbers cached, more than %d", n, numberCacheSize)
		}
	}
}
