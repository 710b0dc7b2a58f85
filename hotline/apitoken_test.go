package hotline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

func TestAPITokens(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	ctx := context.Background()
	coord := f.addUser(t, "coord", hotline.RoleCoordinator)
	other := f.addUser(t, "other", hotline.RoleCoordinator)
	resp := f.addUser(t, "resp", hotline.RoleResponder)
	asCoord := hotline.Caller{User: coord}

	if _, _, err := f.accounts.CreateAPIToken(ctx, hotline.Caller{User: resp}, "x", 0); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder making a token = %v, want EFORBIDDEN", err)
	}
	if _, _, err := f.accounts.CreateAPIToken(ctx, asCoord, " ", 0); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("a token without a name = %v, want EINVALID", err)
	}
	token, tok, err := f.accounts.CreateAPIToken(ctx, asCoord, "nightly export", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, hotline.APITokenPrefix) || len(token) < 40 || tok.UserID != coord.ID {
		t.Errorf("token %q, %+v", token, tok)
	}
	p, _, err := f.accounts.AuthenticateAPIToken(ctx, token)
	if err != nil || p.User.ID != coord.ID || !p.Session.TokenHash.IsZero() {
		t.Errorf("AuthenticateAPIToken = %+v, %v; want the coordinator, without a session", p.User.ID, err)
	}
	for _, bad := range []string{"", "hlt_nope", token + "x", strings.TrimPrefix(token, hotline.APITokenPrefix)} {
		if _, _, err := f.accounts.AuthenticateAPIToken(ctx, bad); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
			t.Errorf("AuthenticateAPIToken(%q) = %v, want EUNAUTHORIZED", bad, err)
		}
	}
	list, err := f.accounts.ListAPITokens(ctx, asCoord)
	if err != nil || len(list) != 1 || list[0].Name != "nightly export" {
		t.Errorf("ListAPITokens = %+v, %v", list, err)
	}

	// A token stops working when its user is no longer a coordinator.
	if _, err := f.accounts.UpdateUser(ctx, hotline.Caller{User: other}, coord.ID, hotline.UserPatch{Disabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.accounts.AuthenticateAPIToken(ctx, token); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
		t.Errorf("the token of a disabled user = %v, want EUNAUTHORIZED", err)
	}

	// Expiry and revocation.
	short, shortTok, err := f.accounts.CreateAPIToken(ctx, hotline.Caller{User: other}, "one day", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.accounts.AuthenticateAPIToken(ctx, short); err != nil {
		t.Errorf("a fresh token: %v", err)
	}
	f.clock.Advance(25 * time.Hour)
	if _, _, err := f.accounts.AuthenticateAPIToken(ctx, short); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
		t.Errorf("an expired token = %v, want EUNAUTHORIZED", err)
	}
	if err := f.accounts.RevokeAPIToken(ctx, hotline.Caller{User: other}, shortTok.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.accounts.RevokeAPIToken(ctx, hotline.Caller{User: other}, shortTok.ID); !hotline.IsNotFound(err) {
		t.Errorf("revoking twice = %v, want ENOTFOUND", err)
	}
	log, _ := f.accounts.AuditLog(ctx, hotline.Caller{User: other}, hotline.ID{}, 100)
	var creates, revokes int
	for _, e := range log {
		switch e.Action {
		case hotline.AuditAPITokenCreate:
			creates++
		case hotline.AuditAPITokenRevoke:
			revokes++
		}
	}
	if creates != 2 || revokes != 1 {
		t.Errorf("audit: %d creations, %d revocations; want 2 and 1", creates, revokes)
	}
}

func TestTextSettingsTakeEffectWithoutRestart(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	configured := hotline.DefaultPolicy().TextsByLanguage
	s := hotline.NewTextSettings(svc, configured, 10)
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	coord := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Username: "c", Role: hotline.RoleCoordinator}}
	resp := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Username: "r", Role: hotline.RoleResponder}}
	es := configured["es"]
	es.Welcome = "Bienvenida nueva. Si está en peligro, llame al 911."
	if _, err := s.Put(ctx, resp, map[string]hotline.Texts{"es": es}); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder editing texts = %v", err)
	}
	en := configured["en"]
	en.Welcome = ""
	if _, err := s.Put(ctx, coord, map[string]hotline.Texts{"en": en}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("an empty welcome in the default language = %v, want EINVALID", err)
	}
	if _, err := s.Put(ctx, coord, map[string]hotline.Texts{"not a code": es}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("a bad language code = %v, want EINVALID", err)
	}
	view, err := s.Put(ctx, coord, map[string]hotline.Texts{"es": es})
	if err != nil {
		t.Fatal(err)
	}
	if view.Effective["es"].Welcome != es.Welcome || view.Effective["en"].Welcome != configured["en"].Welcome || len(view.Edited) != 1 {
		t.Errorf("view = %+v", view)
	}
	if got := svc.Policy().TextsFor("es").Welcome; got != es.Welcome {
		t.Errorf("the service still sends %q", got)
	}
	// A fresh start loads the edited texts from the store.
	svc.SetPolicy(hotline.DefaultPolicy())
	if err := hotline.NewTextSettings(svc, configured, 10).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := svc.Policy().TextsFor("es").Welcome; got != es.Welcome {
		t.Errorf("after a restart the service sends %q", got)
	}
	// Going back to the configuration.
	if _, err := s.Put(ctx, coord, map[string]hotline.Texts{}); err != nil {
		t.Fatal(err)
	}
	if got := svc.Policy().TextsFor("es").Welcome; got != configured["es"].Welcome {
		t.Errorf("after a reset the service sends %q", got)
	}
}
