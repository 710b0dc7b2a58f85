package hotline_test

import (
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		raw     string
		want    hotline.Address
		channel hotline.Channel
		wantErr bool
	}{
		{"+14155550100", "+14155550100", hotline.ChannelSMS, false},
		{" +1 (415) 555-0100 ", "+14155550100", hotline.ChannelSMS, false},
		{"4155550100", "+14155550100", hotline.ChannelSMS, false},
		{"+447700900123", "+447700900123", hotline.ChannelSMS, false},
		{"whatsapp:+14155550100", "whatsapp:+14155550100", hotline.ChannelWhatsApp, false},
		{"WhatsApp:+1 415 555 0100", "whatsapp:+14155550100", hotline.ChannelWhatsApp, false},
		{"233733", "233733", hotline.ChannelSMS, false},
		{"", "", "", true},
		{"whatsapp:", "", "", true},
		{"not a number", "", "", true},
		{"+1", "", "", true},
		{"javascript:alert(1)", "", "", true},
	}
	// Twice: the second time from the cache of parsed numbers.
	for _, tt := range append(tests, tests...) {
		got, err := hotline.NormalizeAddress(tt.raw, "US")
		if tt.wantErr {
			if err == nil || hotline.ErrorCode(err) != hotline.EINVALID {
				t.Errorf("NormalizeAddress(%q) = %q, %v; want an EINVALID error", tt.raw, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.Channel() != tt.channel {
			t.Errorf("NormalizeAddress(%q) = %q (channel %q), %v; want %q (channel %q)", tt.raw, got, got.Channel(), err, tt.want, tt.channel)
		}
	}
}

// TestNormalizeAddressRegion: the default region is part of what a parsed number is
// remembered by.
func TestNormalizeAddressRegion(t *testing.T) {
	for range 2 {
		for region, want := range map[string]hotline.Address{"US": "+14155550100", "GB": "+444155550100"} {
			if got, err := hotline.NormalizeAddress("4155550100", region); err != nil || got != want {
				t.Errorf("NormalizeAddress(4155550100, %s) = %q, %v; want %q", region, got, err, want)
			}
		}
	}
}

func TestAddressMasked(t *testing.T) {
	tests := []struct {
		addr hotline.Address
		want string
	}{
		{"+14155557890", "+1******7890"},
		{"whatsapp:+14155557890", "whatsapp:+1******7890"},
		{"233733", "******"},
		{"+447700900123", "+4*******0123"},
	}
	for _, tt := range tests {
		if got := tt.addr.Masked(); got != tt.want {
			t.Errorf("%q.Masked() = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
