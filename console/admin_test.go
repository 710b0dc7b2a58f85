package console_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/auth"
	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/httpx"
	"github.com/hotlinehq/hotline/store/storetest"
)

// newToolsServer is newServer with the coordinators' tools wired, retention 30 days.
func newToolsServer(t *testing.T) *server {
	t.Helper()
	st := storetest.MustOpen(t)
	s := &server{clock: &testClock{now: t0}}
	s.svc = hotline.NewService(st, s.clock, nil, hotline.DefaultPolicy())
	s.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: s.clock,
		Passwords: auth.NewArgon2id(auth.Params{Memory: 64, Time: 1}), Codes: s.codes, Tokens: auth.Tokens{}}, hotline.AccountsOptions{})
	loc, _ := time.LoadLocation("America/Chicago")
	texts := hotline.NewTextSettings(s.svc, hotline.DefaultPolicy().TextsByLanguage, 10)
	deps := console.Deps{Accounts: s.accounts, Access: hotline.NewAccess(s.svc, 24*time.Hour),
		Tools: console.Tools{Store: st, Location: loc, Backup: st.Backup, Retention: hotline.NewRetention(s.svc, 30),
			Dashboard: hotline.NewDashboard(s.svc, loc, nil), Texts: texts}}
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	e.Use(console.Guard(deps, console.PublicRoutes))
	console.Register(e, deps)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

func auditActions(t *testing.T, s *server) []hotline.AuditEntry {
	t.Helper()
	log, err := s.accounts.AuditLog(context.Background(), hotline.OperatorCaller("test"), hotline.ID{}, 500)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func TestExportAPI(t *testing.T) {
	s := newToolsServer(t)
	s.addUser(t, "admin", hotline.RoleCoordinator)
	ana := s.addUser(t, "ana", hotline.RoleResponder)
	first := s.text(t, "+14155550101", "help me, write to me at me@example.com")
	s.clock.Advance(time.Hour)
	second := s.text(t, "+14155550102", "hello")
	admin, responder := s.login(t, "admin"), s.login(t, "ana")
	id1, _ := hotline.ParseID(first)
	if err := s.svc.Accept(context.Background(), ana.Actor(), id1); err != nil {
		t.Fatal(err)
	}

	want(t, "a responder exporting", responder.send(t, "GET", "/api/v1/export", nil), 403, hotline.EFORBIDDEN)
	for _, q := range []string{"format=xml", "state=nope", "from=yesterday", "from=2026-03-09&to=2026-03-08", "ids=nope", "notes=maybe", "responder=nobody"} {
		want(t, "export?"+q, admin.send(t, "GET", "/api/v1/export?"+q, nil), 400, hotline.EINVALID)
	}

	r := admin.send(t, "GET", "/api/v1/export?format=csv&mask_bodies=true&count=1", nil)
	want(t, "csv export", r, 200, "")
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); !strings.HasPrefix(ct, "text/csv") ||
		!strings.HasPrefix(cd, `attachment; filename="hotline-export-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("headers: %q, %q", ct, cd)
	}
	if got := r.header.Get(console.ExportCountHeader); got != "2" {
		t.Errorf("%s = %q, want 2", console.ExportCountHeader, got)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != 1+4 {
		t.Fatalf("csv rows = %d, %v", len(rows), err)
	}
	if strings.Contains(string(r.body), "me@example.com") || !strings.Contains(string(r.body), "[email]") {
		t.Error("mask_bodies left an e-mail address in the export")
	}

	// Filters: by responder (username), by state, by date in the hotline's zone, by id.
	for q, wantIDs := range map[string][]string{
		"responder=ana":                              {first},
		"state=waiting":                              {second},
		"ids=" + second + "," + first:                {first, second},
		"from=2026-03-08T09:30:00Z":                  {second},
		"to=2026-03-08T10:00:00Z":                    {first},
		"from=2026-03-08&to=2026-03-09":              {first, second}, // Chicago dates
		"tag=none&state=waiting":                     {},
		"state=waiting,assigned&notes=1":             {first, second},
		"disposition=x&responder=" + ana.ID.String(): {},
	} {
		r := admin.send(t, "GET", "/api/v1/export?format=jsonl&"+q, nil)
		var got []string
		for line := range strings.SplitSeq(strings.TrimSpace(string(r.body)), "\n") {
			var c struct{ ID string }
			if line != "" && json.Unmarshal([]byte(line), &c) == nil {
				got = append(got, c.ID)
			}
		}
		if strings.Join(got, ",") != strings.Join(wantIDs, ",") {
			t.Errorf("export?%s = %v, want %v", q, got, wantIDs)
		}
	}

	// PDF: one conversation is a PDF, several a zip of PDFs.
	r = admin.send(t, "GET", "/api/v1/export?format=pdf&ids="+first, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Errorf("one-conversation PDF: %d %s", r.status, r.header.Get("Content-Type"))
	}
	r = admin.send(t, "GET", "/api/v1/export?format=pdf", nil)
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if r.header.Get("Content-Type") != "application/zip" || err != nil || len(zr.File) != 2 {
		t.Errorf("PDF zip: %s, %v", r.header.Get("Content-Type"), err)
	}

	// A revealed export is audited as a reveal too.
	r = admin.send(t, "GET", "/api/v1/export?format=jsonl&reveal=1&ids="+first, nil)
	if !strings.Contains(string(r.body), "+14155550101") {
		t.Error("reveal=1 did not reveal the number")
	}
	var completed, reveals int
	for _, e := range auditActions(t, s) {
		switch {
		case e.Action == hotline.AuditExport && e.Detail["status"] == "completed":
			completed++
		case e.Action == hotline.AuditReveal && e.TargetType == "export":
			reveals++
		}
	}
	if completed != 13 || reveals != 1 {
		t.Errorf("audit: %d completed exports, %d export reveals; want 13 and 1", completed, reveals)
	}
}

// TestExportStreamsWithATrailer reads the trailer that says the download is whole.
func TestExportStreamsWithATrailer(t *testing.T) {
	s := newToolsServer(t)
	s.addUser(t, "admin", hotline.RoleCoordinator)
	admin := s.login(t, "admin")
	s.text(t, "+14155550101", "hello")
	req, _ := http.NewRequest("GET", s.url+"/api/v1/export?format=csv", nil)
	resp, err := admin.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if got := resp.Trailer.Get(console.ExportStatusTrailer); got != "complete" {
		t.Errorf("trailer %s = %q, want complete", console.ExportStatusTrailer, got)
	}
}

func TestHoldsRetentionDashboardTexts(t *testing.T) {
	s := newToolsServer(t)
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	admin, responder := s.login(t, "admin"), s.login(t, "ana")
	conv := s.text(t, "+14155550101", "he took my passport")

	want(t, "a responder's hold", responder.send(t, "POST", "/api/v1/conversations/"+conv+"/hold", nil), 403, hotline.EFORBIDDEN)
	var held struct {
		Conversation struct {
			LegalHold bool `json:"legal_hold"`
		} `json:"conversation"`
	}
	if status := admin.call(t, "POST", "/api/v1/conversations/"+conv+"/hold", map[string]string{"reason": "subpoena"}, &held); status != 200 || !held.Conversation.LegalHold {
		t.Errorf("hold = %d %+v", status, held)
	}
	if status := admin.call(t, "DELETE", "/api/v1/conversations/"+conv+"/hold", nil, &held); status != 200 || held.Conversation.LegalHold {
		t.Errorf("release = %d %+v", status, held)
	}
	want(t, "hold on nothing", admin.send(t, "POST", "/api/v1/conversations/"+hotline.NewID(t0).String()+"/hold", nil), 404, hotline.ENOTFOUND)

	var ret struct {
		Days       int            `json:"days"`
		WouldPurge map[string]any `json:"would_purge"`
	}
	if status := admin.call(t, "GET", "/api/v1/retention", nil, &ret); status != 200 || ret.Days != 30 || ret.WouldPurge["conversations"] != 0.0 {
		t.Errorf("retention = %d %+v", status, ret)
	}

	want(t, "a responder's dashboard", responder.send(t, "GET", "/api/v1/dashboard", nil), 403, hotline.EFORBIDDEN)
	r := admin.send(t, "GET", "/api/v1/dashboard", nil)
	want(t, "dashboard", r, 200, "")
	var dash map[string]json.RawMessage
	_ = json.Unmarshal(r.body, &dash)
	wantKeys(t, "dashboard", r.body, "now", "timezone", "waiting", "longest_wait_seconds", "responders", "on_call_known", "today", "last_7_days")
	if !strings.Contains(string(dash["waiting"]), `"priority":"urgent"`) {
		t.Errorf("waiting = %s, want the urgent texter", dash["waiting"])
	}
	for _, chart := range []string{"texts-per-hour.svg", "wait-times.svg"} {
		r := admin.send(t, "GET", "/api/v1/dashboard/charts/"+chart, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "image/svg+xml") || !bytes.HasPrefix(r.body, []byte("<svg")) ||
			!bytes.HasSuffix(r.body, []byte("</svg>")) {
			t.Errorf("%s: %d %s %.60s", chart, r.status, r.header.Get("Content-Type"), r.body)
		}
	}

	var texts struct {
		Effective map[string]map[string]string `json:"effective"`
		Edited    map[string]map[string]string `json:"edited"`
	}
	if status := admin.call(t, "GET", "/api/v1/settings/texts", nil, &texts); status != 200 || texts.Effective["en"]["welcome"] == "" {
		t.Fatalf("texts = %d %+v", status, texts)
	}
	es := texts.Effective["es"]
	es["welcome"] = "Hola: le responderemos pronto. En peligro, llame al 911."
	if status := admin.call(t, "PUT", "/api/v1/settings/texts", map[string]any{"texts": map[string]any{"es": es}}, &texts); status != 200 ||
		texts.Edited["es"]["welcome"] != es["welcome"] {
		t.Errorf("put texts = %d %+v", status, texts.Edited)
	}
	if got := s.svc.Policy().TextsFor("es").Welcome; got != es["welcome"] {
		t.Errorf("the new welcome is not in force: %q", got)
	}
	want(t, "a responder editing texts", responder.send(t, "PUT", "/api/v1/settings/texts", map[string]any{"texts": map[string]any{}}), 403, hotline.EFORBIDDEN)
}
