package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// TOTP makes and checks RFC 6238 time-based one-time codes as authenticator apps
// show them: HMAC-SHA1, six digits, 30-second steps. A code of the step before or
// after the current one is accepted too, for clocks that drift.
type TOTP struct {
	// Issuer names the hotline in authenticator apps.
	Issuer string
}

var _ hotline.OneTimeCodes = TOTP{}

const (
	totpDigits    = 6
	totpPeriod    = 30 // seconds
	totpSkew      = 1  // steps either side
	totpSecretLen = 20 // bytes: 160 bits, as RFC 4226 recommends
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random secret, base32 without padding.
func (TOTP) NewSecret() (string, error) {
	b := make([]byte, totpSecretLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

// Verify checks a code against the secret at time at. It returns the time step the
// code belongs to, so the caller can refuse a code used before.
func (TOTP) Verify(secret, code string, at time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	key, err := decodeSecret(secret)
	if err != nil || len(code) != totpDigits {
		return 0, false
	}
	now := at.Unix() / totpPeriod
	for s := now - totpSkew; s <= now+totpSkew; s++ {
		if subtle.ConstantTimeCompare([]byte(hotp(key, s)), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// Code returns the code for the secret at time at (for tests and tools).
func (TOTP) Code(secret string, at time.Time) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	return hotp(key, at.Unix()/totpPeriod), nil
}

// URL returns the otpauth:// URL an authenticator app reads (usually as a QR code).
func (t TOTP) URL(account, secret string) string {
	issuer := t.Issuer
	if issuer == "" {
		issuer = "Hotline"
	}
	q := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(totpPeriod)}}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + q.Encode()
}

func decodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(secret), " ", ""))
	key, err := b32.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("totp: malformed secret")
	}
	return key, nil
}

// hotp is RFC 4226's HOTP with six digits.
func hotp(key []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, n%1_000_000)
}
