package config

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on the lists the console's close dialog offers.
const (
	MaxDispositions     = 50
	MaxDispositionRunes = 100 // as the API allows
	MaxTagChoices       = 50
	MaxTagRunes         = 50 // as the API allows
)

// DefaultDispositions returns the outcomes a conversation is closed with when
// conversation.dispositions is not set.
func DefaultDispositions() []string {
	return []string{
		"Support given",
		"Safety plan made",
		"Referred to services",
		"Referred to law enforcement",
		"Emergency services called",
		"Information only",
		"Texter stopped responding",
		"Wrong number or test",
		"Abusive or prank",
	}
}

// DefaultTags returns the tags offered when closing when conversation.tags is not
// set.
func DefaultTags() []string {
	return []string{"labor trafficking", "sex trafficking", "domestic violence", "minor", "immigration",
		"housing", "medical", "follow-up needed"}
}

// validateCloseLists checks conversation.dispositions and conversation.tags: not
// empty (dispositions), no blank or repeated entry, within the limits the API takes.
func (c Config) validateCloseLists(p *problems) {
	cv := c.Conversation
	if len(cv.Dispositions) == 0 {
		p.add("conversation.dispositions", "is empty; list the outcomes responders choose from when closing, such as [Support given, Referred to services]")
	}
	for _, l := range []struct {
		key      string
		items    []string
		max, len int
	}{
		{"conversation.dispositions", cv.Dispositions, MaxDispositions, MaxDispositionRunes},
		{"conversation.tags", cv.Tags, MaxTagChoices, MaxTagRunes},
	} {
		if len(l.items) > l.max {
			p.add(l.key, "has %d entries; at most %d", len(l.items), l.max)
		}
		seen := map[string]int{}
		for i, s := range l.items {
			key := l.key + "[" + strconv.Itoa(i) + "]"
			switch n := utf8.RuneCountInString(s); {
			case strings.TrimSpace(s) == "":
				p.add(key, "is empty; write a word or remove it")
			case strings.TrimSpace(s) != s:
				p.add(key, "%q starts or ends with spaces; remove them", s)
			case n > l.len:
				p.add(key, "is %d characters; at most %d", n, l.len)
			}
			low := strings.ToLower(s)
			if j, dup := seen[low]; dup {
				p.add(key, "%q repeats %s[%d]; remove one", s, l.key, j)
			}
			seen[low] = i
		}
	}
}
