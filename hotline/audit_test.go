package hotline_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// Every audited action writes an entry.
func TestAudit_EveryAuditedActionIsWritten(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	admin := f.coord
	if _, err := f.accounts.Login(ctx, hotline.LoginRequest{Username: "ana", Password: "wrong password " + strings.Repeat("x", 80), RemoteAddr: "192.0.2.1"}); err == nil {
		t.Fatal("a wrong password signed in")
	}
	res := f.login(t, "ana")
	ana := hotline.Principal{User: f.ana.User, Session: res.Session}.Caller("192.0.2.1")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	u, err := f.accounts.CreateUser(ctx, admin, hotline.NewUser{Username: "dee", Password: password, Role: hotline.RoleResponder})
	must(err)
	name := "Dee"
	_, err = f.accounts.UpdateUser(ctx, admin, u.ID, hotline.UserPatch{DisplayName: &name})
	must(err)
	_, err = f.accounts.DisableUser(ctx, admin, u.ID)
	must(err)
	_, err = f.accounts.EnableUser(ctx, admin, u.ID)
	must(err)
	must(f.accounts.ResetPassword(ctx, admin, u.ID, "another good password", ""))
	must(f.accounts.ResetPassword(ctx, ana, ana.User.ID, "my own new password", password))
	_, err = f.accounts.SetupTOTP(ctx, ana, ana.User.ID)
	must(err)
	_, err = f.accounts.SetupTOTP(ctx, operator, u.ID)
	must(err)
	must(f.accounts.DisableTOTP(ctx, admin, u.ID))
	id := f.text(t, "+14155550101", "help")
	_, err = f.access.Transcript(ctx, admin, id)
	must(err)
	_, err = f.access.Reveal(ctx, admin, id)
	must(err)
	must(f.accounts.Audit(ctx, hotline.AuditEntry{ActorUsername: "cli", Action: hotline.AuditExport, Detail: map[string]string{"format": "csv"}}))
	must(f.accounts.Logout(ctx, ana))

	log, err := f.accounts.AuditLog(ctx, admin, hotline.ID{}, hotline.MaxAuditPage)
	must(err)
	var actions []hotline.AuditAction
	for _, e := range log {
		actions = append(actions, e.Action)
		if e.At.IsZero() || hotline.IsZeroID(e.ID) {
			t.Errorf("entry %+v has no time or ID", e)
		}
		for _, v := range e.Detail {
			if strings.Contains(v, password) || strings.Contains(v, "wrong password") || strings.Contains(v, "+1415") {
				t.Errorf("entry %s holds %q: no passwords or numbers in the audit log", e.Action, v)
			}
		}
		if e.Action == hotline.AuditLoginFailed && (e.ActorUsername != "ana" || e.Detail["reason"] != "wrong_password") {
			t.Errorf("failed sign-in entry = %+v, want username ana and reason wrong_password", e)
		}
	}
	for _, want := range []hotline.AuditAction{
		hotline.AuditLoginFailed, hotline.AuditLogin, hotline.AuditUserCreate, hotline.AuditUserUpdate,
		hotline.AuditUserDisable, hotline.AuditUserEnable, hotline.AuditPasswordReset, hotline.AuditPasswordChange,
		hotline.AuditTOTPSetup, hotline.AuditTOTPEnable, hotline.AuditTOTPDisable, hotline.AuditTranscriptView,
		hotline.AuditReveal, hotline.AuditExport, hotline.AuditLogout,
	} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s entry in the audit log %v", want, actions)
		}
	}
	if actions[0] != hotline.AuditLogout {
		t.Errorf("the newest entry is %s, want logout (newest first)", actions[0])
	}
	// Paging: the page before the newest entry starts with the second newest.
	page, err := f.accounts.AuditLog(ctx, admin, log[0].ID, 2)
	if err != nil || len(page) != 2 || page[0].ID != log[1].ID {
		t.Errorf("the page before %s = %d entries, %v; want 2 starting with %s", log[0].ID, len(page), err, log[1].ID)
	}
}

func TestAudit_FailedLoginTruncatesTheUsername(t *testing.T) {
	f := newAccess(t)
	ctx := context.Background()
	typed := "\x1b[31m" + strings.Repeat("é", 100)
	_, _ = f.accounts.Login(ctx, hotline.LoginRequest{Username: typed[:60], Password: "irrelevant"})
	log, _ := f.accounts.AuditLog(ctx, f.coord, hotline.ID{}, 1)
	if len(log) != 1 || log[0].Action != hotline.AuditLoginFailed {
		t.Fatalf("log = %+v, want a failed sign-in", log)
	}
	if got := log[0].ActorUsername; strings.ContainsRune(got, '\x1b') || len([]rune(got)) > 65 {
		t.Errorf("audited username %q: want control characters dropped and at most 64 characters", got)
	}
}
