// Package console is the console's JSON API under /api/v1: sign-in and sessions,
// users, the audit log and conversations as the signed-in user may see them.
//
// Every handler has one shape: bind the request, call a use case of the hotline
// package (which holds the access rules), render the answer. Errors are returned,
// and the server's one error handler (package httpx) renders them as
// {"error": {"code", "message"}}.
//
// Guard is the server-wide middleware that denies by default: every route needs a
// session except an explicit allowlist, and every request that changes something
// needs the session's CSRF token in the X-CSRF-Token header.
package console

import (
	"net"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Names on the wire.
const (
	// CookieName is the session cookie: HttpOnly, SameSite=Strict, Secure unless
	// the server is plain http on a loopback address, Path=/.
	CookieName = "hotline_session"
	// CSRFHeader carries the session's CSRF token on every request that changes
	// something; HTML forms may send it as the csrf_token field instead.
	CSRFHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

// Deps are what the console runs on.
type Deps struct {
	Accounts *hotline.Accounts
	Access   *hotline.Access
	// SecureCookies sets the Secure attribute of the session cookie (see
	// SecureCookies).
	SecureCookies bool
	// ClientIP returns the client's address for throttling and the audit log;
	// nil means the connection's peer address.
	ClientIP func(*http.Request) string
	// Router and Roster are routing and the schedule (routing.go); nil answers 503
	// on their routes.
	Router *hotline.Router
	Roster *hotline.Roster
	// Canned are the canned responses; nil answers 503 on their routes.
	Canned *hotline.CannedResponses
	// Events feeds GET /api/v1/events; nil answers 503 there.
	Events *Hub
	// Settings come from configuration (GET /api/v1/settings).
	Settings Settings
	// Tools are the coordinators' exports, backups, retention, dashboard and
	// texts (admin.go).
	Tools Tools
}

// Route is a method and an Echo path pattern, such as POST /api/v1/login.
type Route struct {
	Method string
	Path   string
}

// PublicRoutes are the console's routes that need no session: signing in, and the
// hotline's public signing key (evidence.go), which is public by nature.
var PublicRoutes = []Route{{http.MethodPost, "/api/v1/login"}, {http.MethodGet, "/api/v1/key"}}

// route is one line of the routes table.
type route struct {
	method, path string
	handle       func(*api, echo.Context) error
	// coordinator routes answer 403 to responders before reading the request.
	coordinator bool
}

// routes is the console's routes table: every endpoint, in one place.
var routes = []route{
	{http.MethodPost, "/api/v1/login", (*api).login, false},
	{http.MethodPost, "/api/v1/logout", (*api).logout, false},
	{http.MethodGet, "/api/v1/me", (*api).me, false},
	{http.MethodPut, "/api/v1/me/availability", (*api).setAvailability, false},
	{http.MethodPost, "/api/v1/me/totp", (*api).setupTOTP, false},
	{http.MethodPost, "/api/v1/me/totp/confirm", (*api).confirmTOTP, false},

	{http.MethodGet, "/api/v1/users", (*api).listUsers, true},
	{http.MethodPost, "/api/v1/users", (*api).createUser, true},
	{http.MethodGet, "/api/v1/users/:id", (*api).getUser, false}, // also the user themself
	{http.MethodPatch, "/api/v1/users/:id", (*api).updateUser, true},
	{http.MethodPost, "/api/v1/users/:id/password", (*api).setPassword, false}, // also the user themself
	{http.MethodGet, "/api/v1/audit", (*api).listAudit, true},

	{http.MethodGet, "/api/v1/conversations", (*api).listConversations, false},
	{http.MethodGet, "/api/v1/conversations/:id", (*api).getConversation, false},
	{http.MethodPost, "/api/v1/conversations/:id/accept", (*api).accept, false},
	{http.MethodPost, "/api/v1/conversations/:id/messages", (*api).reply, false},
	{http.MethodPost, "/api/v1/conversations/:id/notes", (*api).addNote, false},
	{http.MethodPost, "/api/v1/conversations/:id/close", (*api).closeConversation, false},
	{http.MethodPost, "/api/v1/conversations/:id/release", (*api).release, false},
	{http.MethodPost, "/api/v1/conversations/:id/transfer", (*api).transfer, false},
	{http.MethodPost, "/api/v1/conversations/:id/reveal", (*api).reveal, true},
	{http.MethodPost, "/api/v1/messages/lookup", (*api).lookupMessages, true},

	// Routing and schedules (issue 5; routing.go): take next, who answers and who
	// is on call, shifts, pages.
	{http.MethodGet, "/api/v1/routing", (*api).routingInfo, false},
	{http.MethodPost, "/api/v1/queue/next", (*api).takeNext, false},
	{http.MethodGet, "/api/v1/responders", (*api).listResponders, false},
	{http.MethodGet, "/api/v1/oncall", (*api).onCall, false},
	{http.MethodGet, "/api/v1/shifts", (*api).listShifts, false},
	{http.MethodPost, "/api/v1/shifts", (*api).createShift, true},
	{http.MethodPost, "/api/v1/shifts/rotations", (*api).createRotation, true},
	{http.MethodPut, "/api/v1/shifts/rotations/:id", (*api).updateRotation, true},
	{http.MethodDelete, "/api/v1/shifts/rotations/:id", (*api).deleteRotation, true},
	{http.MethodPost, "/api/v1/shifts/overrides", (*api).createOverride, true},
	{http.MethodDelete, "/api/v1/shifts/overrides/:id", (*api).deleteOverride, true},
	{http.MethodPost, "/api/v1/shifts/closures", (*api).createClosure, true},
	{http.MethodDelete, "/api/v1/shifts/closures/:id", (*api).deleteClosure, true},
	{http.MethodGet, "/api/v1/pages", (*api).listPages, true},

	// The web console's own calls (issue 6): live events, configuration it shows,
	// names, canned responses.
	{http.MethodGet, "/api/v1/events", (*api).events, false},
	{http.MethodGet, "/api/v1/settings", (*api).settings, false},
	{http.MethodGet, "/api/v1/team", (*api).team, false},
	{http.MethodGet, "/api/v1/canned-responses", (*api).listCanned, false},
	{http.MethodPost, "/api/v1/canned-responses", (*api).createCanned, true},
	{http.MethodPatch, "/api/v1/canned-responses/:id", (*api).updateCanned, true},
	{http.MethodDelete, "/api/v1/canned-responses/:id", (*api).deleteCanned, true},

	// Coordinators' tools (issue 7): exports, API tokens, backups, legal holds and
	// retention, the dashboard, the automatic texts. Tokens reach TokenRoutes only.
	{http.MethodGet, "/api/v1/export", (*api).exportTranscripts, true},
	{http.MethodGet, "/api/v1/key", (*api).publicKey, false}, // evidence bundles (issue 10; evidence.go)
	{http.MethodGet, "/api/v1/tokens", (*api).listTokens, true},
	{http.MethodPost, "/api/v1/tokens", (*api).createToken, true},
	{http.MethodDelete, "/api/v1/tokens/:id", (*api).revokeToken, true},
	{http.MethodGet, "/api/v1/admin/backup", (*api).backup, true},
	{http.MethodPost, "/api/v1/conversations/:id/hold", (*api).hold, true},
	{http.MethodDelete, "/api/v1/conversations/:id/hold", (*api).releaseHold, true},
	{http.MethodGet, "/api/v1/retention", (*api).retention, true},
	{http.MethodGet, "/api/v1/dashboard", (*api).dashboard, true},
	{http.MethodGet, "/api/v1/dashboard/charts/texts-per-hour.svg", (*api).textsPerHourChart, true},
	{http.MethodGet, "/api/v1/dashboard/charts/wait-times.svg", (*api).waitTimesChart, true},
	{http.MethodGet, "/api/v1/settings/texts", (*api).getTexts, true},
	{http.MethodPut, "/api/v1/settings/texts", (*api).putTexts, true},
	{http.MethodGet, "/api/v1/settings/dispositions", (*api).getCloseLists, true},
	{http.MethodPut, "/api/v1/settings/dispositions", (*api).putCloseLists, true},
	{http.MethodDelete, "/api/v1/settings/dispositions", (*api).resetCloseLists, true},
	{http.MethodGet, "/api/v1/holds", (*api).holds, true},
}

// api holds the handlers' dependencies.
type api struct {
	Deps
}

// Register mounts the console's JSON API on e. Install Guard on the whole server
// too: the handlers refuse to run without the session it checks.
func Register(e *echo.Echo, d Deps) {
	if d.ClientIP == nil {
		d.ClientIP = PeerIP
	}
	a := &api{Deps: d}
	for _, r := range routes {
		mw := []echo.MiddlewareFunc{noStore}
		if r.coordinator {
			mw = append(mw, coordinatorOnly)
		}
		e.Add(r.method, r.path, func(c echo.Context) error { return r.handle(a, c) }, mw...)
	}
}

// PeerIP returns the address of the connection's peer, without the port.
func PeerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SecureCookies reports whether the session cookie must be Secure for a server at
// publicURL: always, except on plain http to a loopback host (a laptop trying it out),
// where a Secure cookie would never come back.
func SecureCookies(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "http" {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// noStore keeps API answers, which hold what texters wrote, out of caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// coordinatorOnly answers 403 to anyone but a coordinator, before the handler
// reads the request. The use cases check the role again.
func coordinatorOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := principal(c)
		if ok && !p.User.IsCoordinator() {
			return hotline.Errorf(hotline.EFORBIDDEN, "Only coordinators can do this.")
		}
		return next(c)
	}
}
