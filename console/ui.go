package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// The web console: HTML pages rendered with html/template from web/templates and
// web/pages, and static assets (CSS, JavaScript modules, an icon) from web/assets,
// all embedded in the binary. There is no build step.
//
// A page is a shell: it holds no conversation data. Its script module loads
// everything through the JSON API (with the session cookie and the CSRF token the
// page carries in a meta tag) and listens to GET /api/v1/events. So the API's
// access rules are the only ones, and every action a page offers is an API call.
//
// Adding a page (see web/README.md): add a line to Pages, a template under
// web/pages that defines "content" (and optionally "title"), and a module under
// web/assets/js/pages that imports ../shell.js. The page is mounted, listed in the
// navigation for the roles that may see it, and served without the Guard (it
// checks the session itself and sends anyone signed out to the sign-in page).

//go:embed web
var webFS embed.FS

// Page is one page of the web console.
type Page struct {
	// Path is where the page is served, such as "/" or "/coordinator/exports".
	Path string
	// Template is the file under web/pages that defines "content".
	Template string
	// Title is the page's title, and its label in the navigation.
	Title string
	// Script is the module under web/assets/js/pages that runs the page.
	Script string
	// Coordinator pages answer 403 to responders and are not in their navigation.
	Coordinator bool
	// Hidden pages are not listed in the navigation.
	Hidden bool
}

// Pages are the web console's pages, in navigation order.
var Pages = []Page{
	{Path: "/", Template: "conversations.html", Title: "Conversations", Script: "conversations.js"},
	// Coordinators' pages (issue 7): the dashboard is in the navigation; it and the
	// others link to each other in their own sub-navigation.
	{Path: "/coordinator/dashboard", Template: "coord-dashboard.html", Title: "Dashboard", Script: "coord-dashboard.js", Coordinator: true},
	{Path: "/coordinator/responders", Template: "coord-responders.html", Title: "Responders", Script: "coord-responders.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/schedule", Template: "coord-schedule.html", Title: "Schedule", Script: "coord-schedule.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/exports", Template: "coord-exports.html", Title: "Exports", Script: "coord-exports.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/texts", Template: "coord-texts.html", Title: "Texts", Script: "coord-texts.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/canned", Template: "coord-canned.html", Title: "Canned responses", Script: "coord-canned.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/dispositions", Template: "coord-dispositions.html", Title: "Dispositions and tags", Script: "coord-dispositions.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/retention", Template: "coord-retention.html", Title: "Retention", Script: "coord-retention.js", Coordinator: true, Hidden: true},
	{Path: "/coordinator/audit", Template: "coord-audit.html", Title: "Audit log", Script: "coord-audit.js", Coordinator: true, Hidden: true},
}

// LoginPath is the sign-in page.
const LoginPath = "/login"

// assetsPrefix is where web/assets is served.
const assetsPrefix = "/assets/"

// pageCSP is the policy of every page: only the server's own scripts, styles and
// connections; no inline script or style, no framing.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// UIRoutes are the web console's routes that the Guard must let through: the pages
// (which check the session themselves), the sign-in page and the static assets.
func UIRoutes() []Route {
	out := []Route{{http.MethodGet, LoginPath}, {http.MethodGet, assetsPrefix + "*"}}
	for _, p := range Pages {
		out = append(out, Route{http.MethodGet, p.Path})
	}
	return out
}

// ui renders the pages.
type ui struct {
	d         Deps
	templates map[string]*template.Template // by page path, and LoginPath
	versions  map[string]string             // asset path under web/assets → checksum
}

// navItem is a link in the navigation.
type navItem struct {
	Path, Title string
	Current     bool
}

// pageData is what the templates see.
type pageData struct {
	Title     string
	Script    string // the page module's URL, with its checksum
	CSS       string // the stylesheet's URL, with its checksum
	Icon      string
	CSRFToken string
	User      userView
	Nav       []navItem
	Message   string // for the error page
	// EncryptionWarning is shown to coordinators while the store is not encrypted
	// at rest (Settings.Encrypted).
	EncryptionWarning string
}

// RegisterUI mounts the web console's pages and assets on e. Add UIRoutes to the
// Guard's public routes.
func RegisterUI(e *echo.Echo, d Deps) {
	u := &ui{d: d, templates: map[string]*template.Template{}, versions: assetVersions()}
	for _, p := range Pages {
		u.templates[p.Path] = parsePage("pages/" + p.Template)
		e.GET(p.Path, u.page(p))
	}
	u.templates[LoginPath] = parsePage("pages/login.html")
	e.GET(LoginPath, u.login)
	e.GET(assetsPrefix+"*", u.asset)
}

// parsePage parses the layout with one page's template.
func parsePage(name string) *template.Template {
	return template.Must(template.New("layout.html").ParseFS(webFS, "web/templates/layout.html", "web/"+name))
}

// assetVersions computes each asset's checksum once.
func assetVersions() map[string]string {
	v := map[string]string{}
	err := fs.WalkDir(webFS, "web/assets", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[strings.TrimPrefix(p, "web/assets/")] = hex.EncodeToString(sum[:8])
		return nil
	})
	if err != nil {
		panic(err)
	}
	return v
}

// assetURL is the URL of an asset with its checksum, cacheable for good.
func (u *ui) assetURL(name string) string {
	return assetsPrefix + name + "?v=" + u.versions[name]
}

func (u *ui) data(title, script string) pageData {
	d := pageData{Title: title, CSS: u.assetURL("console.css"), Icon: u.assetURL("icon.svg")}
	if script != "" {
		d.Script = u.assetURL("js/pages/" + script)
	}
	return d
}

// page serves a page to a signed-in user, and sends anyone else to sign in.
func (u *ui) page(p Page) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, err := authenticate(c, u.d.Accounts)
		if hotline.ErrorCode(err) == hotline.EUNAUTHORIZED {
			clearSessionCookie(c, u.d.SecureCookies)
			return c.Redirect(http.StatusSeeOther, LoginPath+"?next="+url.QueryEscape(c.Request().URL.Path))
		} else if err != nil {
			return err
		}
		d := u.data(p.Title, p.Script)
		d.CSRFToken, d.User = pr.Session.CSRFToken, viewUser(pr.User, pr.User)
		if pr.User.IsCoordinator() && !u.d.Settings.Encrypted {
			d.EncryptionWarning = u.d.Settings.PlaintextWarning
		}
		for _, q := range Pages {
			if !q.Hidden && (!q.Coordinator || pr.User.IsCoordinator()) {
				d.Nav = append(d.Nav, navItem{Path: q.Path, Title: q.Title, Current: q.Path == p.Path})
			}
		}
		if p.Coordinator && !pr.User.IsCoordinator() {
			d.Script, d.Title, d.Message = "", "Not for responders", "Only coordinators can open this page."
			return u.render(c, http.StatusForbidden, u.templates[p.Path], d)
		}
		return u.render(c, http.StatusOK, u.templates[p.Path], d)
	}
}

// login serves the sign-in page; a signed-in user goes on to the console.
func (u *ui) login(c echo.Context) error {
	if _, err := authenticate(c, u.d.Accounts); err == nil {
		return c.Redirect(http.StatusSeeOther, SafeNext(c.QueryParam("next")))
	}
	return u.render(c, http.StatusOK, u.templates[LoginPath], u.data("Sign in", "login.js"))
}

// render executes the layout with the page's content (or d.Message instead).
func (u *ui) render(c echo.Context, status int, t *template.Template, d pageData) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// SafeNext returns where to go after signing in: a path on this server, else "/".
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// asset serves a file of web/assets: for a year when the request names its
// checksum, else revalidated each time (modules import each other without one).
func (u *ui) asset(c echo.Context) error {
	name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
	sum, ok := u.versions[name]
	if !ok || strings.HasPrefix(name, ".") {
		return hotline.Errorf(hotline.ENOTFOUND, "No such asset.")
	}
	b, err := webFS.ReadFile("web/assets/" + name)
	if err != nil {
		return hotline.Errorf(hotline.ENOTFOUND, "No such asset.")
	}
	h := c.Response().Header()
	etag := `"` + sum + `"`
	h.Set("ETag", etag)
	if c.QueryParam("v") == sum {
		h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		h.Set(echo.HeaderCacheControl, "no-cache")
	}
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	return c.Blob(http.StatusOK, ct, b)
}
