package hotline

import (
	"bytes"
	"slices"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// KeywordKind classifies a texter message that is a single keyword.
type KeywordKind int

// Keyword kinds. KeywordNone is an ordinary message.
const (
	KeywordNone    KeywordKind = iota
	KeywordStop                // opt out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT
	KeywordStart               // opt back in: START, UNSTOP, YES (only while opted out)
	KeywordHelp                // HELP, INFO: answered with the help text, and starts a conversation
	KeywordHotline             // a configured word such as BEFREE or AYUDA
)

var (
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}
	startWords = map[string]bool{"START": true, "UNSTOP": true, "YES": true}
	helpWords  = map[string]bool{"HELP": true, "INFO": true}
)

// HotlineKeyword is a configured word that starts a conversation, optionally in a
// language (AYUDA → "es").
type HotlineKeyword struct {
	Word     string
	Language string
}

// Keyword is what DetectKeyword found.
type Keyword struct {
	Kind     KeywordKind
	Word     string // the keyword, upper-cased
	Language string // for hotline keywords with a language
}

// DetectKeyword classifies body. Only a message that is a single word (any case,
// surrounding spaces and punctuation ignored) is a keyword: "stop." is STOP,
// "please stop" is a message a human must read.
func DetectKeyword(body string, hotline []HotlineKeyword) Keyword {
	word := strings.TrimFunc(body, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	})
	if word == "" || strings.IndexFunc(word, unicode.IsSpace) >= 0 {
		return Keyword{}
	}
	upper := strings.ToUpper(word)
	switch {
	case stopWords[upper]:
		return Keyword{Kind: KeywordStop, Word: upper}
	case startWords[upper]:
		return Keyword{Kind: KeywordStart, Word: upper}
	case helpWords[upper]:
		return Keyword{Kind: KeywordHelp, Word: upper}
	}
	for _, k := range hotline {
		if strings.EqualFold(k.Word, word) {
			return Keyword{Kind: KeywordHotline, Word: upper, Language: k.Language}
		}
	}
	return Keyword{}
}

// MatchRiskTerms returns the configured risk terms found in body, matched
// case-insensitively on word boundaries ("gun" matches "a gun!" but not "begun").
func MatchRiskTerms(body string, terms []string) []string {
	return newRiskIndex(nil, [][]string{terms}).match(body)
}

// riskIndex is a policy's risk terms made ready to match: the terms of every
// language in a stable order (languages sorted, so that the terms a responder sees
// do not shuffle between runs), each with its normalized form.
type riskIndex struct {
	// langs and lists are the policy's RiskTerms it was made from.
	langs []string
	lists [][]string
	terms []string
	// padded are the terms normalized and framed by spaces (" kill myself "); ""
	// for a term that normalizes to nothing, which matches nothing.
	padded []string
}

func newRiskIndex(langs []string, lists [][]string) *riskIndex {
	ri := &riskIndex{langs: langs, lists: lists}
	for _, l := range lists {
		for _, term := range l {
			padded := ""
			if n := normalizeForMatch(term); n != "" {
				padded = " " + n + " "
			}
			ri.terms, ri.padded = append(ri.terms, term), append(ri.padded, padded)
		}
	}
	return ri
}

// lastRiskIndex is the risk index made last: policies change rarely, so most texts
// find theirs here instead of normalizing every term again.
var lastRiskIndex atomic.Pointer[riskIndex]

// riskIndexFor returns the risk index of a policy's RiskTerms.
func riskIndexFor(terms map[string][]string) *riskIndex {
	if ri := lastRiskIndex.Load(); ri != nil && ri.madeFrom(terms) {
		return ri
	}
	langs := make([]string, 0, len(terms))
	for l := range terms {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	lists := make([][]string, len(langs))
	for i, l := range langs {
		lists[i] = slices.Clone(terms[l])
	}
	ri := newRiskIndex(langs, lists)
	lastRiskIndex.Store(ri)
	return ri
}

// madeFrom reports whether the index holds exactly these terms. Comparing them is
// cheap: a policy's terms are the very strings the index was made from.
func (ri *riskIndex) madeFrom(terms map[string][]string) bool {
	if len(terms) != len(ri.langs) {
		return false
	}
	for i, l := range ri.langs {
		if t, ok := terms[l]; !ok || !slices.Equal(t, ri.lists[i]) {
			return false
		}
	}
	return true
}

// match returns the terms found in body, in the index's order.
func (ri *riskIndex) match(body string) []string {
	text := make([]byte, 0, len(body)+2)
	text = appendNormalized(append(text, ' '), body)
	if text[len(text)-1] != ' ' {
		text = append(text, ' ')
	}
	var found []string
	for i, p := range ri.padded {
		if p != "" && bytes.Contains(text, []byte(p)) {
			found = append(found, ri.terms[i])
		}
	}
	return found
}

// normalizeForMatch lower-cases s and turns every run of non-letters and non-digits
// into one space, so that punctuation and line breaks do not hide a term.
func normalizeForMatch(s string) string {
	return strings.TrimSpace(string(appendNormalized(nil, s)))
}

// appendNormalized appends s normalized (normalizeForMatch), with one space after
// it when it ends in a run of non-letters.
func appendNormalized(b []byte, s string) []byte {
	space := true
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case 'A' <= r && r <= 'Z':
				r += 'a' - 'A'
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '\'':
			default:
				if !space {
					b = append(b, ' ')
					space = true
				}
				continue
			}
			b = append(b, byte(r))
			space = false
			continue
		}
		r = unicode.ToLower(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b = utf8.AppendRune(b, r)
			space = false
		} else if !space {
			b = append(b, ' ')
			space = true
		}
	}
	return b
}
