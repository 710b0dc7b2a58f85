package hotline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestCannedResponses_CoordinatorsManageEveryoneReads(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	ctx := context.Background()
	coord := hotline.Caller{User: f.addUser(t, "cy", hotline.RoleCoordinator)}
	ana := hotline.Caller{User: f.addUser(t, "ana", hotline.RoleResponder)}
	canned := hotline.NewCannedResponses(f.svc.Store(), f.clock)

	_, err := canned.Create(ctx, ana, hotline.CannedDraft{Title: "Hi", Body: "Hello"})
	wantCode(t, "a responder creating one", err, hotline.EFORBIDDEN)

	safe, err := canned.Create(ctx, coord, hotline.CannedDraft{Title: "  Safety check ", Body: "Hi, I am {{responder}}. Are you safe right now?"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := safe.Title, "Safety check"; got != want {
		t.Errorf("title = %q, want %q (trimmed)", got, want)
	}
	if _, err := canned.Create(ctx, coord, hotline.CannedDraft{Title: "Another", Body: "Hola {{ handle }}", Language: "ES"}); err != nil {
		t.Fatal(err)
	}

	list, err := canned.List(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Title != "Another" || list[1].Title != "Safety check" || list[0].Language != "es" {
		t.Errorf("list = %+v, want both, by title, language lower case", list)
	}
	if _, err := canned.List(ctx, hotline.Caller{}); err == nil {
		t.Error("an anonymous caller listed canned responses")
	}

	title := "Safety"
	if _, err := canned.Update(ctx, ana, safe.ID, hotline.CannedPatch{Title: &title}); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder updating = %v, want EFORBIDDEN", err)
	}
	got, err := canned.Update(ctx, coord, safe.ID, hotline.CannedPatch{Title: &title})
	if err != nil || got.Title != "Safety" || got.Body != safe.Body {
		t.Errorf("Update = %+v, %v; want the new title and the old body", got, err)
	}
	wantCode(t, "a responder deleting", canned.Delete(ctx, ana, safe.ID), hotline.EFORBIDDEN)
	if err := canned.Delete(ctx, coord, safe.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting twice", canned.Delete(ctx, coord, safe.ID), hotline.ENOTFOUND)

	entries, err := f.accounts.AuditLog(ctx, coord, hotline.ID{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.TargetType == hotline.TargetCanned {
			actions = append(actions, string(e.Action))
		}
	}
	if got, want := strings.Join(actions, ","), "canned_delete,canned_update,canned_create,canned_create"; got != want {
		t.Errorf("audited actions = %s, want %s", got, want)
	}
}

func TestCannedResponses_RefuseBadDrafts(t *testing.T) {
	st := storetest.MustOpen(t)
	canned := hotline.NewCannedResponses(st, nil)
	op := hotline.OperatorCaller(hotline.OperatorCLI)
	for _, tt := range []struct {
		name  string
		draft hotline.CannedDraft
		code  string
		in    string
	}{
		{"no title", hotline.CannedDraft{Body: "x"}, hotline.EINVALID, "title"},
		{"long title", hotline.CannedDraft{Title: strings.Repeat("t", 81), Body: "x"}, hotline.EINVALID, "title"},
		{"blank body", hotline.CannedDraft{Title: "t", Body: "  \n"}, hotline.EINVALID, "body"},
		{"long body", hotline.CannedDraft{Title: "t", Body: strings.Repeat("é", 1601)}, hotline.ETOOLARGE, "1600"},
		{"unknown placeholder", hotline.CannedDraft{Title: "t", Body: "Hi {{respnder}}"}, hotline.EINVALID, "{{responder}}"},
		{"bad language", hotline.CannedDraft{Title: "t", Body: "x", Language: "english!"}, hotline.EINVALID, "language"},
	} {
		_, err := canned.Create(context.Background(), op, tt.draft)
		if hotline.ErrorCode(err) != tt.code || !strings.Contains(hotline.ErrorMessage(err), tt.in) {
			t.Errorf("%s: %v, want %s mentioning %q", tt.name, err, tt.code, tt.in)
		}
	}
}

func TestExpandPlaceholders(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"Hi, I am {{responder}}.", "Hi, I am Ana."},
		{"{{ handle }} and {{handle}}", "T-1234 and T-1234"},
		{"{{unknown}} stays", "{{unknown}} stays"},
		{"{{responder}}", "Ana"},
		{"no placeholders {{}}", "no placeholders {{}}"},
	} {
		if got := hotline.ExpandPlaceholders(tt.body, map[string]string{"responder": "Ana", "handle": "T-1234"}); got != tt.want {
			t.Errorf("ExpandPlaceholders(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
