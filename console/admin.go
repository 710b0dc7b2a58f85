package console

import (
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Tools are what the coordinators' tools run on (issue 7): exports, backups,
// retention and legal holds, the dashboard and the automatic texts. A nil field
// answers 503 on its routes.
type Tools struct {
	// Store is read by exports.
	Store hotline.Store
	// Location is the hotline's time zone: dates in export filters, "today" on the
	// dashboard, times in PDFs.
	Location *time.Location
	// Backup writes a consistent snapshot of the database (store.Store.Backup).
	Backup    func(ctx context.Context, w io.Writer) (int64, error)
	Retention *hotline.Retention
	Dashboard *hotline.Dashboard
	Texts     *hotline.TextSettings
	// CloseLists are the dispositions and tags as coordinators edit them; nil
	// keeps Settings' (from configuration) and answers 503 on their routes.
	CloseLists *hotline.CloseListSettings
	// SigningKey returns the hotline's Ed25519 key, which signs evidence bundles
	// and whose public half GET /api/v1/key shows; nil refuses bundles (503).
	SigningKey func(context.Context) (ed25519.PrivateKey, error)
}

func (t Tools) location() *time.Location {
	if t.Location == nil {
		return time.UTC
	}
	return t.Location
}

// TokenRoutes are the only routes an API token (Authorization: Bearer) may call:
// read-only coordinator tools for scripts and the CLI.
var TokenRoutes = []Route{
	{http.MethodGet, "/api/v1/export"},
	{http.MethodGet, "/api/v1/admin/backup"},
}

// viaTokenKey marks, in the Echo context, a request authenticated by an API token.
const viaTokenKey = "hotline.api_token"

func viaToken(c echo.Context) bool { b, _ := c.Get(viaTokenKey).(bool); return b }

// bearer authenticates a request that carries an API token. ok is false when the
// request has none (the session cookie decides then). A token on any route but
// TokenRoutes is refused with 403, whoever it belongs to.
func bearer(c echo.Context, accounts *hotline.Accounts) (p hotline.Principal, ok bool, err error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, found := strings.Cut(h, " ")
	if h == "" || !found || !strings.EqualFold(scheme, "Bearer") {
		return p, false, nil
	}
	allowed := false
	for _, r := range TokenRoutes {
		if r.Method == c.Request().Method && r.Path == c.Path() {
			allowed = true
		}
	}
	if !allowed {
		return p, true, hotline.Errorf(hotline.EFORBIDDEN, "API tokens are read-only: they may call GET /api/v1/export and GET /api/v1/admin/backup only; sign in for the rest.")
	}
	p, _, err = accounts.AuthenticateAPIToken(c.Request().Context(), strings.TrimSpace(token))
	if err != nil {
		return p, true, err
	}
	c.Set(viaTokenKey, true)
	return p, true, nil
}

type tokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"`
}

type tokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

func viewToken(t hotline.APIToken) tokenView {
	return tokenView{ID: t.ID.String(), Name: t.Name, UserID: t.UserID.String(), CreatedAt: t.CreatedAt.UTC(),
		LastUsedAt: optionalTime(t.LastUsedAt), ExpiresAt: optionalTime(t.ExpiresAt)}
}

// createToken: POST /api/v1/tokens (coordinators) {"name","expires_in_days"?} → 201
// {"token","api_token"}: the token is shown this once.
func (a *api) createToken(c echo.Context) error {
	var req tokenRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 3650 {
		return hotline.Errorf(hotline.EINVALID, "expires_in_days: 0 (never) to 3650.")
	}
	token, t, err := a.Accounts.CreateAPIToken(c.Request().Context(), caller, req.Name, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"token": token, "api_token": viewToken(t)})
}

// listTokens: GET /api/v1/tokens (coordinators) → {"api_tokens":[…]}, oldest first.
func (a *api) listTokens(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	list, err := a.Accounts.ListAPITokens(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	out := make([]tokenView, len(list))
	for i, t := range list {
		out[i] = viewToken(t)
	}
	return render(c, http.StatusOK, map[string]any{"api_tokens": out})
}

// revokeToken: DELETE /api/v1/tokens/{id} (coordinators) → 204.
func (a *api) revokeToken(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	if err := a.Accounts.RevokeAPIToken(c.Request().Context(), caller, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// backup: GET /api/v1/admin/backup (coordinators, or an API token) → the database
// file, a consistent snapshot streamed as application/octet-stream while the hotline
// keeps serving. Audited. A failure half-way ends the connection.
func (a *api) backup(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if a.Tools.Backup == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Backups are not available on this server.")
	}
	ctx := c.Request().Context()
	now := a.Accounts.Clock().Now()
	e := hotline.AuditEntry{Action: hotline.AuditBackup, TargetType: hotline.TargetBackup, RemoteAddr: caller.RemoteAddr,
		ActorID: caller.User.ID, ActorUsername: caller.User.Username, Detail: map[string]string{"via": "session"}}
	if viaToken(c) {
		e.Detail["via"] = "api_token"
	}
	if err := a.Accounts.Audit(ctx, e); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="hotline-`+now.UTC().Format("20060102-150405")+`.db"`)
	h.Set("Trailer", ExportStatusTrailer)
	w := &lazyWriter{c: c}
	if _, err := a.Tools.Backup(ctx, w); err != nil {
		if !w.started {
			return err
		}
		panic(http.ErrAbortHandler)
	}
	h.Set(ExportStatusTrailer, "complete")
	return nil
}

type holdRequest struct {
	Reason string `json:"reason"`
}

// hold: POST /api/v1/conversations/{id}/hold (coordinators) {"reason"?} →
// {"conversation"}: a legal hold exempts it from retention. Audited.
func (a *api) hold(c echo.Context) error { return a.setHold(c, true) }

// releaseHold: DELETE /api/v1/conversations/{id}/hold (coordinators) {"reason"?} →
// {"conversation"}. Audited.
func (a *api) releaseHold(c echo.Context) error { return a.setHold(c, false) }

func (a *api) setHold(c echo.Context, hold bool) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	var req holdRequest
	if err := bindOptional(c, &req); err != nil {
		return err
	}
	if a.Tools.Retention == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Retention is not available on this server.")
	}
	conv, err := a.Tools.Retention.SetLegalHold(c.Request().Context(), caller, id, hold, req.Reason)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"conversation": map[string]any{"id": conv.ID.String(), "handle": conv.Handle,
		"state": conv.State, "legal_hold": conv.LegalHold}})
}

// retention: GET /api/v1/retention (coordinators) → {"days","would_purge":{"cutoff",
// "conversations","messages","contacts_deleted","contacts_kept_opted_out","held"}}:
// what the next daily purge would delete (counts only).
func (a *api) retention(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if a.Tools.Retention == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Retention is not available on this server.")
	}
	rep, err := a.Tools.Retention.Purge(c.Request().Context(), caller, true)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"days": a.Tools.Retention.Days(), "would_purge": viewPurge(rep)})
}

func viewPurge(r hotline.PurgeReport) map[string]any {
	return map[string]any{"cutoff": optionalTime(r.Cutoff), "conversations": r.Conversations, "messages": r.Messages,
		"contacts_deleted": r.ContactsDeleted, "contacts_kept_opted_out": r.ContactsKept, "held": r.Held, "pages": r.Pages}
}

type textsView struct {
	Welcome    string `json:"welcome"`
	Help       string `json:"help"`
	OptOut     string `json:"opt_out"`
	OptIn      string `json:"opt_in"`
	Closing    string `json:"closing"`
	AfterHours string `json:"after_hours"`
}

func viewTexts(m map[string]hotline.Texts) map[string]textsView {
	out := make(map[string]textsView, len(m))
	for lang, t := range m {
		out[lang] = textsView{Welcome: t.Welcome, Help: t.Help, OptOut: t.OptOut, OptIn: t.OptIn, Closing: t.Closing, AfterHours: t.AfterHours}
	}
	return out
}

// getTexts: GET /api/v1/settings/texts (coordinators) → {"default_language",
// "effective","edited","configured"}: each a map of language → {"welcome","help",
// "opt_out","opt_in","closing","after_hours"}.
func (a *api) getTexts(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if a.Tools.Texts == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Text settings are not available on this server.")
	}
	v, err := a.Tools.Texts.Get(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	return renderTexts(c, v)
}

type putTextsRequest struct {
	Texts map[string]textsView `json:"texts"`
}

// putTexts: PUT /api/v1/settings/texts (coordinators) {"texts":{"es":{…}}} → as GET:
// the edited languages replace the configuration's at once; {"texts":{}} goes back
// to the configuration. Audited.
func (a *api) putTexts(c echo.Context) error {
	var req putTextsRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if a.Tools.Texts == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Text settings are not available on this server.")
	}
	edited := make(map[string]hotline.Texts, len(req.Texts))
	for lang, t := range req.Texts {
		edited[lang] = hotline.Texts{Welcome: t.Welcome, Help: t.Help, OptOut: t.OptOut, OptIn: t.OptIn, Closing: t.Closing, AfterHours: t.AfterHours}
	}
	v, err := a.Tools.Texts.Put(c.Request().Context(), caller, edited)
	if err != nil {
		return err
	}
	return renderTexts(c, v)
}

func renderTexts(c echo.Context, v hotline.TextsView) error {
	return render(c, http.StatusOK, map[string]any{"default_language": v.DefaultLanguage, "effective": viewTexts(v.Effective),
		"edited": viewTexts(v.Edited), "configured": viewTexts(v.Configured)})
}

// seconds renders a duration as whole seconds for JSON.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }
