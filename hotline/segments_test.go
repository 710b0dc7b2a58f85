package hotline_test

import (
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

func TestCountSegments(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		encoding hotline.Encoding
		units    int
		segments int
	}{
		{"empty", "", hotline.EncodingGSM7, 0, 0},
		{"short ascii", "hello", hotline.EncodingGSM7, 5, 1},
		{"160 gsm fits one", strings.Repeat("a", 160), hotline.EncodingGSM7, 160, 1},
		{"161 gsm needs two", strings.Repeat("a", 161), hotline.EncodingGSM7, 161, 2},
		{"306 gsm is two", strings.Repeat("a", 306), hotline.EncodingGSM7, 306, 2},
		{"307 gsm is three", strings.Repeat("a", 307), hotline.EncodingGSM7, 307, 3},
		{"extension chars count twice", "€[]", hotline.EncodingGSM7, 6, 1},
		{"ó is not in gsm-7", "¿Dónde estás? ñ", hotline.EncodingUCS2, 15, 1},
		{"spanish that fits gsm-7", "¿Qué pasa? ñ é ü", hotline.EncodingGSM7, 16, 1},
		{"70 ucs2 fits one", strings.Repeat("ç", 70), hotline.EncodingUCS2, 70, 1},
		{"71 ucs2 needs two", strings.Repeat("ç", 71), hotline.EncodingUCS2, 71, 2},
		{"emoji is a surrogate pair", "hi 🙂", hotline.EncodingUCS2, 5, 1},
		{"134 ucs2 is two", strings.Repeat("ç", 134), hotline.EncodingUCS2, 134, 2},
		{"135 ucs2 is three", strings.Repeat("ç", 135), hotline.EncodingUCS2, 135, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hotline.CountSegments(tt.body)
			if got.Encoding != tt.encoding || got.Units != tt.units || got.Segments != tt.segments {
				t.Errorf("CountSegments(%q) = %+v, want %s %d units %d segments", tt.body, got, tt.encoding, tt.units, tt.segments)
			}
		})
	}
}

func FuzzCountSegments(f *testing.F) {
	for _, s := range []string{"", "hello", "€", "🙂", strings.Repeat("a", 200), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got := hotline.CountSegments(body)
		if body != "" && got.Segments < 1 {
			t.Fatalf("CountSegments(%q) = %+v: a non-empty text needs a segment", body, got)
		}
		per := 153
		if got.Encoding == hotline.EncodingUCS2 {
			per = 67
		}
		if got.Segments > 1 && got.Units > got.Segments*per {
			t.Fatalf("CountSegments(%q) = %+v: units do not fit the segments", body, got)
		}
	})
}
