package console

import (
	"crypto/ed25519"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
)

type publicKeyView struct {
	Algorithm   string `json:"algorithm"`   // "ed25519"
	PublicKey   string `json:"public_key"`  // "ed25519:" and the base64 of the key
	Fingerprint string `json:"fingerprint"` // SHA-256 of the key, 16 bytes in groups of four hex digits
}

// publicKey: GET /api/v1/key → {"algorithm","public_key","fingerprint"}: the key that
// signs evidence bundles. It is public (no session needed), for
// `hotline key --server`; a prosecutor's expert should still get it out of band.
func (a *api) publicKey(c echo.Context) error {
	if a.Tools.SigningKey == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "This server has no signing key.")
	}
	priv, err := a.Tools.SigningKey(c.Request().Context())
	if err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	return render(c, http.StatusOK, publicKeyView{Algorithm: "ed25519", PublicKey: export.FormatPublicKey(pub), Fingerprint: export.Fingerprint(pub)})
}
