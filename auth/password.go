package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/hotlinehq/hotline/hotline"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's recommended minimum for argon2id (19 MiB, two passes,
// one thread), with a 128-bit salt and a 256-bit key. One hash takes some tens of
// milliseconds and 19 MiB of memory.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Argon2id hashes passwords with argon2id and encodes them as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>   (base64 without padding)
//
// It bounds how many hashes run at once, so that a burst of sign-ins cannot take all
// the memory. It is safe for concurrent use.
type Argon2id struct {
	params Params
	slots  chan struct{}
}

var _ hotline.PasswordHasher = (*Argon2id)(nil)

// NewArgon2id returns a hasher with p; zero fields take DefaultParams' values. At
// most GOMAXPROCS hashes run at once.
func NewArgon2id(p Params) *Argon2id {
	d := DefaultParams
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return &Argon2id{params: p, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

// Hash returns the PHC string of the password with a new random salt.
func (a *Argon2id) Hash(password string) (string, error) {
	salt := make([]byte, a.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := a.key(password, salt, a.params)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		a.params.Memory, a.params.Time, a.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether the password matches the PHC string, comparing in constant
// time with the parameters the string names. A string that is not argon2id PHC is
// an error.
func (a *Argon2id) Verify(encoded, password string) (bool, error) {
	p, salt, want, err := DecodePHC(encoded)
	if err != nil {
		return false, err
	}
	got := a.key(password, salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether a PHC string was made with weaker parameters than the
// hasher's (or cannot be read), so that it should be replaced at the next sign-in.
func (a *Argon2id) NeedsRehash(encoded string) bool {
	p, _, _, err := DecodePHC(encoded)
	return err != nil || p.Memory < a.params.Memory || p.Time < a.params.Time || p.KeyLen < a.params.KeyLen
}

func (a *Argon2id) key(password string, salt []byte, p Params) []byte {
	a.slots <- struct{}{}
	defer func() { <-a.slots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// Limits on what DecodePHC accepts, so that a tampered hash cannot make a sign-in
// allocate gigabytes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 100
)

// DecodePHC reads an argon2id PHC string into its parameters, salt and key.
func DecodePHC(encoded string) (p Params, salt, key []byte, err error) {
	fail := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("password hash: %s", what)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return fail("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return fail("unsupported argon2 version")
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return fail("malformed parameters")
	}
	if p.Memory == 0 || p.Memory > maxMemoryKiB || p.Time == 0 || p.Time > maxTime || threads == 0 || threads > 255 {
		return fail("parameters out of range")
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return fail("malformed salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 1024 {
		return fail("malformed key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
