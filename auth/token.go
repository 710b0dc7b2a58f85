package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/hotlinehq/hotline/hotline"
)

// Tokens makes random 256-bit tokens for sessions and CSRF protection.
type Tokens struct{}

var _ hotline.TokenSource = Tokens{}

// NewToken returns 32 random bytes as unpadded base64url (43 characters).
func (Tokens) NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// passwordAlphabet has no letters or digits that are easy to confuse (0/O, 1/l/I).
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random password of 24 characters in four groups
// ("xxxxxx-xxxxxx-xxxxxx-xxxxxx"), about 140 bits: the first coordinator's
// password when none is configured.
func GeneratePassword() (string, error) {
	out := make([]byte, 0, 27)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range 24 {
		if i > 0 && i%6 == 0 {
			out = append(out, '-')
		}
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out = append(out, passwordAlphabet[n.Int64()])
	}
	return string(out), nil
}
