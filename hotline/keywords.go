package hotline

import (
	"strings"
	"unicode"
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
	text := " " + normalizeForMatch(body) + " "
	var found []string
	for _, term := range terms {
		t := normalizeForMatch(term)
		if t != "" && strings.Contains(text, " "+t+" ") {
			found = append(found, term)
		}
	}
	return found
}

// normalizeForMatch lower-cases s and turns every run of non-letters and non-digits
// into one space, so that punctuation and line breaks do not hide a term.
func normalizeForMatch(s string) string {
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
