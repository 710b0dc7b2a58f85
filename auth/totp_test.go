package auth_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/auth"
)

// rfcSecret is RFC 6238's SHA-1 test key, "12345678901234567890", in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// RFC 6238 appendix B, the last six digits of the SHA-1 codes.
func TestTOTP_RFC6238Vectors(t *testing.T) {
	for _, tt := range []struct {
		unix int64
		code string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		at := time.Unix(tt.unix, 0)
		if got, err := (auth.TOTP{}).Code(rfcSecret, at); err != nil || got != tt.code {
			t.Errorf("Code at %d = %q, %v; want %q", tt.unix, got, err, tt.code)
		}
		step, ok := auth.TOTP{}.Verify(rfcSecret, tt.code, at)
		if !ok || step != tt.unix/30 {
			t.Errorf("Verify(%q) at %d = %d, %v; want step %d", tt.code, tt.unix, step, ok, tt.unix/30)
		}
	}
}

func TestTOTP_Window(t *testing.T) {
	totp := auth.TOTP{}
	secret, err := totp.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	code, _ := totp.Code(secret, now)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		if _, ok := totp.Verify(secret, code, now.Add(d)); !ok {
			t.Errorf("a code checked %s from its time was refused; one step of drift is allowed", d)
		}
	}
	for _, d := range []time.Duration{-90 * time.Second, 90 * time.Second} {
		if _, ok := totp.Verify(secret, code, now.Add(d)); ok {
			t.Errorf("a code checked %s from its time was accepted", d)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := totp.Verify(secret, bad, now); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
}

func TestTOTP_URL(t *testing.T) {
	u, err := url.Parse(auth.TOTP{Issuer: "Hotline"}.URL("ana", "ABC"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Hotline:ana" || q.Get("secret") != "ABC" ||
		q.Get("issuer") != "Hotline" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("URL = %s, want otpauth://totp/Hotline:ana?secret=ABC&issuer=Hotline&digits=6&period=30…", u)
	}
}
