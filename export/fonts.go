package export

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"sync"
)

// The fonts a PDF transcript is set in, embedded so that the binary needs nothing
// installed. DejaVu Sans (Bitstream Vera licence, DejaVu changes in the public
// domain: fonts/LICENSE-DejaVu.txt) covers Latin, Greek, Cyrillic, Armenian,
// Georgian, Hebrew, Arabic and many symbols; Droid Sans Fallback (Apache 2.0:
// fonts/LICENSE-DroidSansFallback.txt) adds Chinese, Japanese and Korean, and is
// embedded in a PDF only when a transcript uses it. A character neither covers (most
// emoji) is printed as its code point, such as [U+1F642], never dropped.
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
	//go:embed fonts/DroidSansFallbackFull.ttf
	droidSansFallback []byte
)

// coverage is the set of code points a font has a glyph for.
type coverage struct {
	bits []uint64 // one bit per code point up to U+10FFFF
}

func (c *coverage) has(r rune) bool {
	if r < 0 || int(r>>6) >= len(c.bits) {
		return false
	}
	return c.bits[r>>6]&(1<<(uint(r)&63)) != 0
}

func (c *coverage) add(r rune) {
	// fpdf maps a font's characters to glyphs in a table of 65,536 entries and
	// panics on any code point beyond U+FFFF (DejaVu Sans has some emoji there, such
	// as U+1F600): those are printed as their code point instead.
	if r > 0xFFFF {
		return
	}
	if r >= 0 && int(r>>6) < len(c.bits) {
		c.bits[r>>6] |= 1 << (uint(r) & 63)
	}
}

var (
	coverOnce               sync.Once
	coverRegular, coverBold *coverage
	coverFallback           *coverage
)

// fontCoverage reads the fonts' character maps, once.
func fontCoverage() (regular, bold, fallback *coverage) {
	coverOnce.Do(func() {
		coverRegular = mustCoverage(dejaVuSans)
		coverBold = mustCoverage(dejaVuSansBold)
		coverFallback = mustCoverage(droidSansFallback)
	})
	return coverRegular, coverBold, coverFallback
}

func mustCoverage(ttf []byte) *coverage {
	c, err := readCoverage(ttf)
	if err != nil {
		panic("export: embedded font: " + err.Error())
	}
	return c
}

var errFont = errors.New("not a TrueType font this package can read")

// readCoverage reads the Unicode character map (cmap format 12, else format 4) of a
// TrueType font.
func readCoverage(ttf []byte) (*coverage, error) {
	be := binary.BigEndian
	if len(ttf) < 12 {
		return nil, errFont
	}
	numTables := int(be.Uint16(ttf[4:]))
	var cmap []byte
	for i := range numTables {
		rec := 12 + 16*i
		if rec+16 > len(ttf) {
			return nil, errFont
		}
		if string(ttf[rec:rec+4]) == "cmap" {
			off, n := int(be.Uint32(ttf[rec+8:])), int(be.Uint32(ttf[rec+12:]))
			if off+n > len(ttf) {
				return nil, errFont
			}
			cmap = ttf[off : off+n]
		}
	}
	if len(cmap) < 4 {
		return nil, errFont
	}
	var best []byte
	bestFormat := 0
	for i := range int(be.Uint16(cmap[2:])) {
		rec := 4 + 8*i
		if rec+8 > len(cmap) {
			return nil, errFont
		}
		platform, encoding, off := be.Uint16(cmap[rec:]), be.Uint16(cmap[rec+2:]), int(be.Uint32(cmap[rec+4:]))
		if off+2 > len(cmap) || !(platform == 3 && (encoding == 1 || encoding == 10) || platform == 0) {
			continue
		}
		format := int(be.Uint16(cmap[off:]))
		if format == 12 || (format == 4 && bestFormat != 12) {
			best, bestFormat = cmap[off:], format
		}
	}
	c := &coverage{bits: make([]uint64, (0x10FFFF>>6)+1)}
	switch bestFormat {
	case 12:
		if len(best) < 16 {
			return nil, errFont
		}
		groups := int(be.Uint32(best[12:]))
		for g := range groups {
			p := 16 + 12*g
			if p+12 > len(best) {
				return nil, errFont
			}
			start, end, glyph := be.Uint32(best[p:]), be.Uint32(best[p+4:]), be.Uint32(best[p+8:])
			for r := start; r <= end && r <= 0x10FFFF; r++ {
				if glyph+(r-start) != 0 {
					c.add(rune(r))
				}
			}
		}
	case 4:
		if len(best) < 14 {
			return nil, errFont
		}
		segs := int(be.Uint16(best[6:])) / 2
		ends, starts, deltas, offsets := 14, 16+2*segs, 16+4*segs, 16+6*segs
		if offsets+2*segs > len(best) {
			return nil, errFont
		}
		for s := range segs {
			end, start := int(be.Uint16(best[ends+2*s:])), int(be.Uint16(best[starts+2*s:]))
			delta, rangeOff := int(be.Uint16(best[deltas+2*s:])), int(be.Uint16(best[offsets+2*s:]))
			for r := start; r <= end && r != 0xFFFF; r++ {
				glyph := 0
				if rangeOff == 0 {
					glyph = (r + delta) & 0xFFFF
				} else if p := offsets + 2*s + rangeOff + 2*(r-start); p+2 <= len(best) {
					if g := int(be.Uint16(best[p:])); g != 0 {
						glyph = (g + delta) & 0xFFFF
					}
				}
				if glyph != 0 {
					c.add(rune(r))
				}
			}
		}
	default:
		return nil, errFont
	}
	return c, nil
}
