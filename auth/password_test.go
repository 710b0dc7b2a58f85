package auth_test

import (
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/auth"
)

func TestArgon2id_RoundTripAndParameters(t *testing.T) {
	h := auth.NewArgon2id(auth.Params{})
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want a PHC string with argon2id v=19 m=19456 t=2 p=1", encoded)
	}
	p, salt, key, err := auth.DecodePHC(encoded)
	if err != nil {
		t.Fatalf("DecodePHC: %v", err)
	}
	// OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane.
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 {
		t.Errorf("parameters m=%d t=%d p=%d, want at least m=19456 t=2 p=1", p.Memory, p.Time, p.Threads)
	}
	if len(salt) != 16 || len(key) != 32 {
		t.Errorf("salt %d bytes, key %d bytes; want 16 and 32", len(salt), len(key))
	}

	if ok, err := h.Verify(encoded, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("Verify(right password) = %v, %v; want true", ok, err)
	}
	if ok, err := h.Verify(encoded, "correct horse battery stable"); ok || err != nil {
		t.Errorf("Verify(wrong password) = %v, %v; want false", ok, err)
	}
	again, _ := h.Hash("correct horse battery staple")
	if again == encoded {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if h.NeedsRehash(encoded) {
		t.Error("NeedsRehash of a fresh hash = true")
	}
	weak := "$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43)
	if !h.NeedsRehash(weak) {
		t.Error("NeedsRehash of a hash with m=4096 t=1 = false, want true")
	}
}

func TestDecodePHC_RefusesMalformed(t *testing.T) {
	for _, s := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43), // 95 GiB
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=19456,t=2,p=1$!!$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$QQ",
	} {
		if _, _, _, err := auth.DecodePHC(s); err == nil {
			t.Errorf("DecodePHC(%q) succeeded, want an error", s)
		}
		if ok, err := auth.NewArgon2id(auth.Params{}).Verify(s, "x"); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", s, ok, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	p, err := auth.GeneratePassword()
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 27 || strings.Count(p, "-") != 3 || strings.ContainsAny(p, "0O1lI") {
		t.Errorf("GeneratePassword() = %q, want four groups of six unambiguous characters", p)
	}
	if q, _ := auth.GeneratePassword(); q == p {
		t.Error("two generated passwords are equal")
	}
}

func TestTokens(t *testing.T) {
	a, err := auth.Tokens{}.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := auth.Tokens{}.NewToken()
	if len(a) != 43 || a == b || strings.ContainsAny(a, "+/=") {
		t.Errorf("tokens %q, %q: want two different 43-character base64url strings (256 bits)", a, b)
	}
}
