package simulator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed assets
var assets embed.FS

// pageTemplate is the simulator page; its assets are referenced with a checksum so
// that browsers may cache them for good.
var pageTemplate = template.Must(template.ParseFS(assets, "assets/index.html"))

// versions holds each asset's checksum, computed once.
var versions = func() map[string]string {
	v := map[string]string{}
	for _, name := range []string{"app.js", "app.css"} {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		v[name] = hex.EncodeToString(sum[:6])
	}
	return v
}()

// pageCSP allows only the page's own script, style and connections.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Simulator) page(c echo.Context) error {
	var buf bytes.Buffer
	data := struct {
		JS, CSS string
		Number  string
	}{JS: versions["app.js"], CSS: versions["app.css"], Number: string(s.opts.Number)}
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// asset serves an embedded file, for a year when the request names its checksum.
func asset(name string) echo.HandlerFunc {
	contentType := map[string]string{"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}[name]
	return func(c echo.Context) error {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return err
		}
		if c.QueryParam("v") == versions[name] {
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		}
		return c.Blob(http.StatusOK, contentType, b)
	}
}
