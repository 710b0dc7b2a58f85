package export

import (
	"slices"
	"unicode"

	"golang.org/x/text/unicode/bidi"
)

// A PDF draws glyphs left to right, one per character, exactly as it is given them.
// Text in Arabic script must first be shaped (each letter takes its isolated, initial,
// medial or final form, and lam-alef becomes one ligature), and right-to-left text
// (Arabic, Hebrew) must be put in visual order. shapeArabic does the first on a
// paragraph in logical order; visualOrder the second on each wrapped line.

// arabicForms holds the presentation forms of the Arabic letters the hotline's
// texters use (Arabic, Persian, Urdu): isolated, final, initial, medial. A letter
// with no initial form joins only to the letter before it.
var arabicForms = map[rune][4]rune{
	0x0621: {0xFE80, 0, 0, 0},
	0x0622: {0xFE81, 0xFE82, 0, 0},
	0x0623: {0xFE83, 0xFE84, 0, 0},
	0x0624: {0xFE85, 0xFE86, 0, 0},
	0x0625: {0xFE87, 0xFE88, 0, 0},
	0x0626: {0xFE89, 0xFE8A, 0xFE8B, 0xFE8C},
	0x0627: {0xFE8D, 0xFE8E, 0, 0},
	0x0628: {0xFE8F, 0xFE90, 0xFE91, 0xFE92},
	0x0629: {0xFE93, 0xFE94, 0, 0},
	0x062A: {0xFE95, 0xFE96, 0xFE97, 0xFE98},
	0x062B: {0xFE99, 0xFE9A, 0xFE9B, 0xFE9C},
	0x062C: {0xFE9D, 0xFE9E, 0xFE9F, 0xFEA0},
	0x062D: {0xFEA1, 0xFEA2, 0xFEA3, 0xFEA4},
	0x062E: {0xFEA5, 0xFEA6, 0xFEA7, 0xFEA8},
	0x062F: {0xFEA9, 0xFEAA, 0, 0},
	0x0630: {0xFEAB, 0xFEAC, 0, 0},
	0x0631: {0xFEAD, 0xFEAE, 0, 0},
	0x0632: {0xFEAF, 0xFEB0, 0, 0},
	0x0633: {0xFEB1, 0xFEB2, 0xFEB3, 0xFEB4},
	0x0634: {0xFEB5, 0xFEB6, 0xFEB7, 0xFEB8},
	0x0635: {0xFEB9, 0xFEBA, 0xFEBB, 0xFEBC},
	0x0636: {0xFEBD, 0xFEBE, 0xFEBF, 0xFEC0},
	0x0637: {0xFEC1, 0xFEC2, 0xFEC3, 0xFEC4},
	0x0638: {0xFEC5, 0xFEC6, 0xFEC7, 0xFEC8},
	0x0639: {0xFEC9, 0xFECA, 0xFECB, 0xFECC},
	0x063A: {0xFECD, 0xFECE, 0xFECF, 0xFED0},
	0x0641: {0xFED1, 0xFED2, 0xFED3, 0xFED4},
	0x0642: {0xFED5, 0xFED6, 0xFED7, 0xFED8},
	0x0643: {0xFED9, 0xFEDA, 0xFEDB, 0xFEDC},
	0x0644: {0xFEDD, 0xFEDE, 0xFEDF, 0xFEE0},
	0x0645: {0xFEE1, 0xFEE2, 0xFEE3, 0xFEE4},
	0x0646: {0xFEE5, 0xFEE6, 0xFEE7, 0xFEE8},
	0x0647: {0xFEE9, 0xFEEA, 0xFEEB, 0xFEEC},
	0x0648: {0xFEED, 0xFEEE, 0, 0},
	0x0649: {0xFEEF, 0xFEF0, 0, 0},
	0x064A: {0xFEF1, 0xFEF2, 0xFEF3, 0xFEF4},
	0x067E: {0xFB56, 0xFB57, 0xFB58, 0xFB59}, // peh
	0x0686: {0xFB7A, 0xFB7B, 0xFB7C, 0xFB7D}, // tcheh
	0x0698: {0xFB8A, 0xFB8B, 0, 0},           // jeh
	0x06A9: {0xFB8E, 0xFB8F, 0xFB90, 0xFB91}, // keheh
	0x06AF: {0xFB92, 0xFB93, 0xFB94, 0xFB95}, // gaf
	0x06CC: {0xFBFC, 0xFBFD, 0xFBFE, 0xFBFF}, // farsi yeh
}

// lamAlef maps the alef that follows a lam to the ligature: isolated, final.
var lamAlef = map[rune][2]rune{
	0x0622: {0xFEF5, 0xFEF6},
	0x0623: {0xFEF7, 0xFEF8},
	0x0625: {0xFEF9, 0xFEFA},
	0x0627: {0xFEFB, 0xFEFC},
}

const tatweel = 0x0640

// transparent reports whether r (a vowel mark) is skipped when letters join.
func transparent(r rune) bool { return unicode.Is(unicode.Mn, r) }

// joinsBefore reports whether r connects to the letter before it (right-hand side).
func joinsBefore(r rune) bool {
	if r == tatweel {
		return true
	}
	f, ok := arabicForms[r]
	return ok && f[1] != 0
}

// joinsAfter reports whether r connects to the letter after it (left-hand side).
func joinsAfter(r rune) bool {
	if r == tatweel {
		return true
	}
	f, ok := arabicForms[r]
	return ok && f[2] != 0
}

// shapeArabic replaces the Arabic letters of s (in logical order) by their
// contextual presentation forms, when the font has them (has).
func shapeArabic(s []rune, has func(rune) bool) []rune {
	if !slices.ContainsFunc(s, func(r rune) bool { _, ok := arabicForms[r]; return ok }) {
		return s
	}
	neighbour := func(i, step int) rune {
		for j := i + step; j >= 0 && j < len(s); j += step {
			if !transparent(s[j]) {
				return s[j]
			}
		}
		return 0
	}
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); i++ {
		r := s[i]
		forms, ok := arabicForms[r]
		if !ok {
			out = append(out, r)
			continue
		}
		prevJoins := joinsAfter(neighbour(i, -1))
		if r == 0x0644 { // lam: a following alef makes a ligature
			j := i + 1
			for j < len(s) && transparent(s[j]) {
				j++
			}
			if j < len(s) {
				if lig, ok := lamAlef[s[j]]; ok {
					form := lig[0]
					if prevJoins {
						form = lig[1]
					}
					if has(form) {
						out = append(out, form)
						out = append(out, s[i+1:j]...) // the marks between them
						i = j
						continue
					}
				}
			}
		}
		nextJoins := joinsAfter(r) && joinsBefore(neighbour(i, 1))
		var form rune
		switch {
		case prevJoins && nextJoins:
			form = forms[3]
		case prevJoins && forms[1] != 0:
			form = forms[1]
		case nextJoins:
			form = forms[2]
		default:
			form = forms[0]
		}
		if form == 0 || !has(form) {
			form = r
		}
		out = append(out, form)
	}
	return out
}

// rtlParagraph reports whether the first strong character of s is right-to-left:
// such a paragraph is laid out from the right.
func rtlParagraph(s []rune) bool {
	for _, r := range s {
		p, _ := bidi.LookupRune(r)
		switch p.Class() {
		case bidi.L:
			return false
		case bidi.R, bidi.AL:
			return true
		}
	}
	return false
}

// mirrored swaps the brackets that flip in right-to-left text.
var mirrored = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«'}

// visualOrder returns one line of text in the order its characters are drawn from
// left to right: the Unicode bidirectional algorithm's levels (from x/text), runs of
// right-to-left text reversed (keeping each vowel mark after its letter, and
// brackets mirrored), and the runs themselves in reverse order in a right-to-left
// paragraph. A line with no right-to-left character is returned as it is.
func visualOrder(line []rune, rtl bool) (out []rune) {
	if !rtl && !slices.ContainsFunc(line, isRTL) {
		return line
	}
	defer func() {
		if recover() != nil { // never lose a transcript to a bidi corner case
			out = line
		}
	}()
	var p bidi.Paragraph
	opts := []bidi.Option{bidi.DefaultDirection(bidi.LeftToRight)}
	if rtl {
		opts = []bidi.Option{bidi.DefaultDirection(bidi.RightToLeft)}
	}
	if _, err := p.SetString(string(line), opts...); err != nil {
		return line
	}
	o, err := p.Order()
	if err != nil {
		return line
	}
	runs := make([][]rune, o.NumRuns())
	for i := range runs {
		run := o.Run(i)
		rs := []rune(run.String())
		if run.Direction() == bidi.RightToLeft {
			rs = reverseClusters(rs)
		}
		runs[i] = rs
	}
	if rtl {
		slices.Reverse(runs)
	}
	out = make([]rune, 0, len(line))
	for _, r := range runs {
		out = append(out, r...)
	}
	return out
}

func isRTL(r rune) bool {
	p, _ := bidi.LookupRune(r)
	c := p.Class()
	return c == bidi.R || c == bidi.AL
}

// reverseClusters reverses a right-to-left run, keeping marks after their base and
// mirroring brackets.
func reverseClusters(rs []rune) []rune {
	var clusters [][]rune
	for _, r := range rs {
		if transparent(r) && len(clusters) > 0 {
			last := len(clusters) - 1
			clusters[last] = append(clusters[last], r)
			continue
		}
		if m, ok := mirrored[r]; ok {
			r = m
		}
		clusters = append(clusters, []rune{r})
	}
	slices.Reverse(clusters)
	out := make([]rune, 0, len(rs))
	for _, c := range clusters {
		out = append(out, c...)
	}
	return out
}
