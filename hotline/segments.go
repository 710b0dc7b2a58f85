package hotline

import "strings"

// gsm7Basic is the GSM 03.38 default alphabet; gsm7Extension characters take two
// septets (an escape and the character).
const (
	gsm7Basic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "^{}\\[~]|€\f"
)

// Encoding is how an SMS is encoded on the air.
type Encoding string

// SMS encodings.
const (
	EncodingGSM7 Encoding = "GSM-7"
	EncodingUCS2 Encoding = "UCS-2"
)

// SegmentInfo describes how a text is split into SMS segments.
type SegmentInfo struct {
	Encoding Encoding
	Units    int // septets for GSM-7, UTF-16 code units for UCS-2
	Segments int
}

// CountSegments tells how many SMS segments body needs: 160 GSM-7 septets (153 per
// segment when split) or 70 UCS-2 code units (67 when split). One character outside
// GSM-7, an emoji say, makes the whole text UCS-2.
func CountSegments(body string) SegmentInfo {
	if body == "" {
		return SegmentInfo{Encoding: EncodingGSM7}
	}
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			septets++
		case strings.ContainsRune(gsm7Extension, r):
			septets += 2
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	if gsm {
		return SegmentInfo{Encoding: EncodingGSM7, Units: septets, Segments: split(septets, 160, 153)}
	}
	units := 0
	for _, r := range body {
		if r >= 0x10000 {
			units += 2 // a surrogate pair
		} else {
			units++
		}
	}
	return SegmentInfo{Encoding: EncodingUCS2, Units: units, Segments: split(units, 70, 67)}
}

// Segments is CountSegments(body).Segments.
func Segments(body string) int { return CountSegments(body).Segments }

func split(units, single, multi int) int {
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}
