package console_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// keys returns the keys of a JSON object.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s is not a JSON object: %v", raw, err)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func wantKeys(t *testing.T, what string, raw json.RawMessage, want ...string) {
	t.Helper()
	have := keys(t, raw)
	for _, k := range want {
		if !slices.Contains(have, k) {
			t.Errorf("%s has no %q (has %v)", what, k, have)
		}
	}
}

func TestConversations_ResponderSeesOnlyWhatTheirWorkNeeds(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	s.addUser(t, "bo", hotline.RoleResponder)
	ana, bo, admin := s.login(t, "ana"), s.login(t, "bo"), s.login(t, "admin")
	mine := s.text(t, "+14155550101", "he took my passport")
	queued := s.text(t, "+14155550102", "hello?")

	want(t, "ana accepts", ana.send(t, "POST", "/api/v1/conversations/"+mine+"/accept", nil), 200, "")
	r := ana.send(t, "POST", "/api/v1/conversations/"+mine+"/messages", map[string]string{"body": "I am here. Are you safe?"})
	want(t, "ana replies", r, 201, "")
	var reply struct{ Message json.RawMessage }
	_ = json.Unmarshal(r.body, &reply)
	wantKeys(t, "the reply", reply.Message, "id", "direction", "body", "status", "error_code", "error_message", "author_id", "created_at", "purpose")
	want(t, "ana notes", ana.send(t, "POST", "/api/v1/conversations/"+mine+"/notes", map[string]string{"body": "texter is scared"}), 201, "")

	// Responder B: another responder's conversation does not exist for them.
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/conversations/" + mine, nil},
		{"POST", "/api/v1/conversations/" + mine + "/messages", map[string]string{"body": "hi"}},
		{"POST", "/api/v1/conversations/" + mine + "/notes", map[string]string{"body": "hi"}},
		{"POST", "/api/v1/conversations/" + mine + "/close", map[string]any{"disposition": "x", "tags": []string{}}},
		{"POST", "/api/v1/conversations/" + mine + "/release", nil},
		{"POST", "/api/v1/conversations/" + mine + "/transfer", map[string]any{"to": nil, "note": "mine now"}},
	} {
		want(t, "bo: "+tt.method+" "+tt.path, bo.send(t, tt.method, tt.path, tt.body), 404, hotline.ENOTFOUND)
	}
	want(t, "bo taking ana's conversation", bo.send(t, "POST", "/api/v1/conversations/"+mine+"/accept", nil), 409, hotline.ECONFLICT)
	want(t, "an id that does not exist", bo.send(t, "GET", "/api/v1/conversations/"+hotline.NewID(t0).String(), nil), 404, hotline.ENOTFOUND)
	want(t, "a malformed id", bo.send(t, "GET", "/api/v1/conversations/nope", nil), 400, hotline.EINVALID)

	// Bo's list: the queue only, without bodies.
	r = bo.send(t, "GET", "/api/v1/conversations", nil)
	var list struct{ Conversations []json.RawMessage }
	_ = json.Unmarshal(r.body, &list)
	if len(list.Conversations) != 1 || !strings.Contains(string(list.Conversations[0]), queued) {
		t.Fatalf("bo's list = %s, want only %s", r.body, queued)
	}
	wantKeys(t, "a list item", list.Conversations[0], "id", "state", "handle", "priority", "language", "assignee_id", "waiting_since", "triage_terms", "opted_out")
	if strings.Contains(string(r.body), "hello?") {
		t.Errorf("the list holds a message body: %s", r.body)
	}

	// Ana sees her thread, with the triage term that raised it.
	r = ana.send(t, "GET", "/api/v1/conversations/"+mine, nil)
	want(t, "ana reading her conversation", r, 200, "")
	var thread struct {
		Conversation json.RawMessage
		Messages     []json.RawMessage
	}
	_ = json.Unmarshal(r.body, &thread)
	if !strings.Contains(string(thread.Conversation), `"triage_terms":["took my passport"]`) || len(thread.Messages) < 4 {
		t.Errorf("ana's thread = %s", r.body)
	}
	if strings.Contains(string(r.body), "+14155550101") {
		t.Error("the thread shows the texter's number")
	}

	// The coordinator sees everything; each transcript view is audited.
	want(t, "the coordinator reading ana's conversation", admin.send(t, "GET", "/api/v1/conversations/"+mine, nil), 200, "")
	r = admin.send(t, "GET", "/api/v1/conversations?state=all", nil)
	_ = json.Unmarshal(r.body, &list)
	if len(list.Conversations) != 2 {
		t.Errorf("the coordinator's list has %d conversations, want 2", len(list.Conversations))
	}
	var audit struct {
		Entries []struct {
			Action   string
			TargetID string `json:"target_id"`
		}
	}
	admin.call(t, "GET", "/api/v1/audit?limit=1", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Action != "transcript_view" || audit.Entries[0].TargetID != mine {
		t.Errorf("the newest audit entry = %+v, want the coordinator's transcript view of %s", audit.Entries, mine)
	}

	// Close, with a disposition; the conversation stays in ana's view for a while.
	r = ana.send(t, "POST", "/api/v1/conversations/"+mine+"/close", map[string]any{"disposition": "referred", "tags": []string{"labor"}})
	want(t, "ana closes", r, 200, "")
	if !strings.Contains(string(r.body), `"state":"closed"`) || !strings.Contains(string(r.body), `"tags":["labor"]`) {
		t.Errorf("close answer = %s", r.body)
	}
	want(t, "a bad state filter", ana.send(t, "GET", "/api/v1/conversations?state=open", nil), 400, hotline.EINVALID)
}

func TestCoordinatorAPIs_Are403ForResponders(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	admin := s.addUser(t, "admin", hotline.RoleCoordinator)
	anaUser := s.addUser(t, "ana", hotline.RoleResponder)
	ana := s.login(t, "ana")
	conv := s.text(t, "+14155550101", "help")
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/users", nil},
		{"POST", "/api/v1/users", map[string]any{"username": "x", "password": password, "role": "coordinator"}},
		{"GET", "/api/v1/users/" + admin.ID.String(), nil},
		{"PATCH", "/api/v1/users/" + anaUser.ID.String(), map[string]string{"role": "coordinator"}},
		{"POST", "/api/v1/users/" + admin.ID.String() + "/password", map[string]string{"password": "taken over now!"}},
		{"GET", "/api/v1/audit", nil},
		{"POST", "/api/v1/conversations/" + conv + "/reveal", nil},
		{"POST", "/api/v1/messages/lookup", map[string]any{"sids": []string{"SM1"}}},
	} {
		want(t, "ana: "+tt.method+" "+tt.path, ana.send(t, tt.method, tt.path, tt.body), 403, hotline.EFORBIDDEN)
	}
	r := ana.send(t, "GET", "/api/v1/users/"+anaUser.ID.String(), nil)
	want(t, "ana reading herself", r, 200, "")
	if !strings.Contains(string(r.body), `"phone":"+14155550123"`) {
		t.Errorf("ana's own record = %s, want her phone", r.body)
	}
}

func TestUsers_CreateUpdateDisableReset(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	admin := s.login(t, "admin")
	r := admin.send(t, "POST", "/api/v1/users", map[string]any{"username": "Dee", "password": password, "role": "responder",
		"display_name": "Dee D.", "languages": []string{"en", "es"}, "capacity": 3, "phone": "+14155550199"})
	want(t, "create", r, 201, "")
	var created struct{ User json.RawMessage }
	_ = json.Unmarshal(r.body, &created)
	wantKeys(t, "the new user", created.User, "id", "username", "display_name", "role", "languages", "capacity", "phone", "disabled", "availability")
	var u struct{ ID, Username string }
	_ = json.Unmarshal(created.User, &u)
	if u.Username != "dee" {
		t.Errorf("username = %q, want dee", u.Username)
	}
	want(t, "create again", admin.send(t, "POST", "/api/v1/users", map[string]any{"username": "dee", "password": password, "role": "responder"}), 409, hotline.ECONFLICT)
	r = admin.send(t, "POST", "/api/v1/users", map[string]any{"username": "eve", "password": "short", "role": "responder"})
	if r.status != 400 || !strings.Contains(r.errorMessage(), "at least 12 characters") {
		t.Errorf("a short password = %d %s, want 400 saying at least 12 characters", r.status, r.body)
	}

	dee := s.login(t, "dee")
	r = admin.send(t, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"capacity": 5, "languages": []string{"pt"}})
	if r.status != 200 || !strings.Contains(string(r.body), `"capacity":5`) || !strings.Contains(string(r.body), `"languages":["pt"]`) {
		t.Errorf("patch = %d %s", r.status, r.body)
	}
	// Disabling ends the user's sessions at once.
	want(t, "disable", admin.send(t, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"disabled": true}), 200, "")
	want(t, "the disabled user's session", dee.send(t, "GET", "/api/v1/me", nil), 401, hotline.EUNAUTHORIZED)
	want(t, "the disabled user signing in", s.client().send(t, "POST", "/api/v1/login", map[string]string{"username": "dee", "password": password}), 401, hotline.EUNAUTHORIZED)
	want(t, "enable", admin.send(t, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"disabled": false}), 200, "")

	// A reset ends sessions; the user then changes it with the current one.
	dee = s.login(t, "dee")
	want(t, "reset", admin.send(t, "POST", "/api/v1/users/"+u.ID+"/password", map[string]string{"password": "reset by the coordinator"}), 204, "")
	want(t, "a session after the reset", dee.send(t, "GET", "/api/v1/me", nil), 401, hotline.EUNAUTHORIZED)
	c := s.client()
	c.call(t, "POST", "/api/v1/login", map[string]string{"username": "dee", "password": "reset by the coordinator"}, &struct{}{})
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.call(t, "GET", "/api/v1/me", nil, &me)
	c.csrf = me.CSRFToken
	want(t, "a change without the current password", c.send(t, "POST", "/api/v1/users/"+u.ID+"/password", map[string]string{"password": "my very own secret"}), 401, hotline.EUNAUTHORIZED)
	want(t, "a change with it", c.send(t, "POST", "/api/v1/users/"+u.ID+"/password",
		map[string]string{"password": "my very own secret", "current_password": "reset by the coordinator"}), 204, "")
	want(t, "the session the change came from", c.send(t, "GET", "/api/v1/me", nil), 200, "")

	var users struct{ Users []struct{ Username string } }
	admin.call(t, "GET", "/api/v1/users", nil, &users)
	if len(users.Users) != 2 {
		t.Errorf("users = %+v, want admin and dee", users.Users)
	}
}

func TestAudit_ListsNewestFirstWithPaging(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	admin := s.login(t, "admin")
	for i := range 5 {
		admin.send(t, "POST", "/api/v1/users", map[string]any{"username": fmt.Sprintf("u%d", i), "password": password, "role": "responder"})
	}
	type page struct {
		Entries []struct {
			ID, Action string
			Detail     map[string]string
		}
		NextBefore *string `json:"next_before"`
	}
	var p1, p2 page
	admin.call(t, "GET", "/api/v1/audit?limit=3", nil, &p1)
	if len(p1.Entries) != 3 || p1.Entries[0].Detail["username"] != "u4" || p1.NextBefore == nil {
		t.Fatalf("first page = %+v, want the 3 newest, u4 first, and a cursor", p1)
	}
	admin.call(t, "GET", "/api/v1/audit?limit=3&before="+*p1.NextBefore, nil, &p2)
	if len(p2.Entries) != 3 || p2.Entries[0].Detail["username"] != "u1" {
		t.Errorf("second page = %+v, want u1, u0, then the sign-in", p2)
	}
	want(t, "a bad limit", admin.send(t, "GET", "/api/v1/audit?limit=0", nil), 400, hotline.EINVALID)
}

func TestReveal_AndLookup(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	admin := s.login(t, "admin")
	conv := s.text(t, "+14155550101", "help")
	var out struct{ Address string }
	if st := admin.call(t, "POST", "/api/v1/conversations/"+conv+"/reveal", nil, &out); st != 200 || out.Address != "+14155550101" {
		t.Errorf("reveal = %d %q, want the number", st, out.Address)
	}
	var audit struct {
		Entries []struct {
			Action   string
			TargetID string `json:"target_id"`
		}
	}
	admin.call(t, "GET", "/api/v1/audit?limit=1", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Action != "reveal" || audit.Entries[0].TargetID != conv {
		t.Errorf("audit after a reveal = %+v", audit.Entries)
	}

	var counts struct{ Counts map[string]int }
	if st := admin.call(t, "POST", "/api/v1/messages/lookup", map[string]any{"sids": []string{"SMtest000001", "SMnope"}}, &counts); st != 200 {
		t.Fatalf("lookup = %d", st)
	}
	if counts.Counts["SMtest000001"] != 1 || counts.Counts["SMnope"] != 0 || len(counts.Counts) != 2 {
		t.Errorf("lookup = %v, want SMtest000001: 1, SMnope: 0", counts.Counts)
	}
	too := make([]string, 1001)
	for i := range too {
		too[i] = fmt.Sprintf("SM%d", i)
	}
	want(t, "1001 SIDs", admin.send(t, "POST", "/api/v1/messages/lookup", map[string]any{"sids": too}), 400, hotline.EINVALID)
}

func TestMe_AvailabilityAndTOTP(t *testing.T) {
	s := newServer(t, hotline.AccountsOptions{})
	s.addUser(t, "ana", hotline.RoleResponder)
	ana := s.login(t, "ana")
	r := ana.send(t, "PUT", "/api/v1/me/availability", map[string]string{"status": "available"})
	if r.status != 200 || !strings.Contains(string(r.body), `"availability":"available"`) {
		t.Errorf("availability = %d %s", r.status, r.body)
	}
	want(t, "offline by hand", ana.send(t, "PUT", "/api/v1/me/availability", map[string]string{"status": "offline"}), 400, hotline.EINVALID)
	var setup struct{ Secret, URL string }
	if st := ana.call(t, "POST", "/api/v1/me/totp", nil, &setup); st != 200 || !strings.HasPrefix(setup.URL, "otpauth://") {
		t.Fatalf("totp setup = %d %+v", st, setup)
	}
	code, _ := s.codes.Code(setup.Secret, s.clock.Now())
	r = ana.send(t, "POST", "/api/v1/me/totp/confirm", map[string]string{"code": code})
	if r.status != 200 || !strings.Contains(string(r.body), `"totp_enabled":true`) {
		t.Errorf("totp confirm = %d %s", r.status, r.body)
	}
	want(t, "sign-in without the code", s.client().send(t, "POST", "/api/v1/login", map[string]string{"username": "ana", "password": password}), 401, hotline.EUNAUTHORIZED)
}
