package hotline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// TestApplyCloseChecksTheDispositionList: with a list in the policy, the machine
// refuses a disposition outside it and takes one in it, or none; without a list it
// takes anything.
func TestApplyCloseChecksTheDispositionList(t *testing.T) {
	p := hotline.DefaultPolicy()
	p.CloseLists = hotline.CloseLists{Dispositions: []string{"Support given", "Referred"}}
	th := hotline.Thread{Contact: contact(), Conversation: conv(hotline.StateActive)}
	for _, tt := range []struct {
		policy      hotline.Policy
		disposition string
		wantErr     string
	}{
		{p, "Referred", ""},
		{p, "", ""},
		{p, "made up", hotline.EINVALID},
		{p, "referred", hotline.EINVALID}, // the list's spelling, exactly
		{hotline.DefaultPolicy(), "made up", ""},
	} {
		_, _, err := hotline.Apply(th, hotline.Close{By: alice, Disposition: tt.disposition}, t0, tt.policy)
		if got := hotline.ErrorCode(err); got != tt.wantErr {
			t.Errorf("close with %q (list %q): error %q (%v), want %q", tt.disposition, tt.policy.CloseLists.Dispositions, got, err, tt.wantErr)
		}
	}
}

// TestCloseListSettings: the configured lists are in force until a coordinator
// edits them; an edit is validated, in force at once for closing, audited with what
// was added and removed, kept across a restart, and a reset goes back to the
// configuration.
func TestCloseListSettings(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	configured := hotline.CloseLists{Dispositions: []string{"Support given", "Referred"}, Tags: []string{"minor"}}
	s := hotline.NewCloseListSettings(svc, configured)
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	coordinator := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Username: "cy", Role: hotline.RoleCoordinator}}
	responder := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Username: "ana", Role: hotline.RoleResponder}}
	by := hotline.Actor{ID: responder.User.ID}
	n := 0
	closeWith := func(d string) error {
		t.Helper()
		n++
		res, err := svc.ReceiveInbound(ctx, inbound(fmt.Sprintf("SMclose%d", n), fmt.Sprintf("+1415555%04d", n), "help"))
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Accept(ctx, by, res.ConversationID); err != nil {
			t.Fatal(err)
		}
		return svc.Close(ctx, by, res.ConversationID, d, nil)
	}

	if got := s.Current(); strings.Join(got.Dispositions, "|") != "Support given|Referred" || strings.Join(got.Tags, "|") != "minor" {
		t.Errorf("in force at start = %+v, want the configured lists", got)
	}
	wantCode(t, "closing with an unlisted disposition", closeWith("Safety plan made"), hotline.EINVALID)
	if err := closeWith("Referred"); err != nil {
		t.Errorf("closing with a configured disposition: %v", err)
	}

	_, err := s.Put(ctx, responder, hotline.CloseLists{Dispositions: []string{"x"}})
	wantCode(t, "a responder editing", err, hotline.EFORBIDDEN)
	_, err = s.Get(ctx, responder)
	wantCode(t, "a responder reading the settings", err, hotline.EFORBIDDEN)
	for _, bad := range []hotline.CloseLists{
		{},
		{Dispositions: []string{"ok", "  "}},
		{Dispositions: []string{"Referred", "referred"}},
		{Dispositions: []string{strings.Repeat("d", 101)}},
		{Dispositions: []string{"two\nlines"}},
		{Dispositions: []string{"ok"}, Tags: []string{strings.Repeat("t", 51)}},
		{Dispositions: []string{"ok"}, Tags: make([]string, hotline.MaxTagChoices+1)},
	} {
		_, err := s.Put(ctx, coordinator, bad)
		wantCode(t, fmt.Sprintf("lists %q / %q", bad.Dispositions, bad.Tags), err, hotline.EINVALID)
	}

	v, err := s.Put(ctx, coordinator, hotline.CloseLists{Dispositions: []string{" Support given ", "Safety plan made"}, Tags: []string{"minor", "housing"}})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Edited || strings.Join(v.Effective.Dispositions, "|") != "Support given|Safety plan made" || strings.Join(v.Configured.Dispositions, "|") != "Support given|Referred" {
		t.Errorf("after the edit = %+v, want the trimmed edited lists, and the configured ones beside them", v)
	}
	if err := closeWith("Safety plan made"); err != nil {
		t.Errorf("closing with the new disposition: %v", err)
	}
	wantCode(t, "closing with a removed disposition", closeWith("Referred"), hotline.EINVALID)
	// The same lists again change nothing and are not audited again.
	if _, err := s.Put(ctx, coordinator, hotline.CloseLists{Dispositions: []string{"Support given", "Safety plan made"}, Tags: []string{"minor", "housing"}}); err != nil {
		t.Fatal(err)
	}

	// A restart: the edited lists are loaded from the store.
	again := hotline.NewCloseListSettings(svc, configured)
	svc.UpdatePolicy(func(p *hotline.Policy) { p.CloseLists = hotline.CloseLists{} })
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := again.Current(); strings.Join(got.Tags, "|") != "minor|housing" {
		t.Errorf("after a restart the tags are %q, want the edited ones", got.Tags)
	}

	v, err = again.Reset(ctx, coordinator)
	if err != nil {
		t.Fatal(err)
	}
	if v.Edited || strings.Join(v.Effective.Dispositions, "|") != "Support given|Referred" {
		t.Errorf("after a reset = %+v, want the configured lists", v)
	}
	if err := closeWith("Referred"); err != nil {
		t.Errorf("closing with a configured disposition after the reset: %v", err)
	}

	var entries []hotline.AuditEntry
	err = svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		return tx.AuditEntries(hotline.ID{}, func(e hotline.AuditEntry) error {
			if e.Action == hotline.AuditCloseListsUpdate {
				entries = append(entries, e)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("close list audit entries = %+v, want the edit and the reset", entries)
	}
	var edit, reset hotline.AuditEntry
	for _, e := range entries {
		if e.Detail["reset"] != "" {
			reset = e
		} else {
			edit = e
		}
	}
	if edit.Detail["added_dispositions"] != "Safety plan made" || edit.Detail["removed_dispositions"] != "Referred" ||
		edit.Detail["added_tags"] != "housing" || edit.ActorUsername != "cy" || edit.TargetType != hotline.TargetSettings {
		t.Errorf("the edit's audit entry = %+v", edit)
	}
	if reset.Detail["added_dispositions"] != "Referred" || reset.Detail["removed_tags"] != "housing" {
		t.Errorf("the reset's audit entry = %+v", reset)
	}
}
