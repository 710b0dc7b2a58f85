package console_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
)

func TestCannedResponses_API(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	admin, ana := s.login(t, "admin"), s.login(t, "ana")

	want(t, "a responder creating", ana.send(t, "POST", "/api/v1/canned-responses", map[string]string{"title": "x", "body": "y"}), 403, hotline.EFORBIDDEN)
	r := admin.send(t, "POST", "/api/v1/canned-responses", map[string]string{"title": "Safety", "body": "I am {{responder}}. Are you safe?", "language": "en"})
	want(t, "the coordinator creating", r, 201, "")
	var created struct {
		CannedResponse struct{ ID, Title, Body, Language string } `json:"canned_response"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || created.CannedResponse.ID == "" {
		t.Fatalf("created = %s", r.body)
	}
	id := created.CannedResponse.ID
	want(t, "an unknown placeholder", admin.send(t, "POST", "/api/v1/canned-responses", map[string]string{"title": "x", "body": "{{name}}"}), 400, hotline.EINVALID)
	want(t, "an unknown field", admin.send(t, "POST", "/api/v1/canned-responses", map[string]string{"title": "x", "text": "y"}), 400, hotline.EINVALID)

	var list struct {
		CannedResponses []struct{ ID, Title, Body string } `json:"canned_responses"`
	}
	if status := ana.call(t, "GET", "/api/v1/canned-responses", nil, &list); status != 200 || len(list.CannedResponses) != 1 || list.CannedResponses[0].Body != "I am {{responder}}. Are you safe?" {
		t.Errorf("ana's list = %d %+v", status, list)
	}

	want(t, "a responder changing", ana.send(t, "PATCH", "/api/v1/canned-responses/"+id, map[string]string{"title": "x"}), 403, hotline.EFORBIDDEN)
	r = admin.send(t, "PATCH", "/api/v1/canned-responses/"+id, map[string]string{"title": "Safety check"})
	want(t, "the coordinator changing", r, 200, "")
	if !strings.Contains(string(r.body), `"title":"Safety check"`) || !strings.Contains(string(r.body), "Are you safe?") {
		t.Errorf("changed = %s", r.body)
	}
	want(t, "a responder deleting", ana.send(t, "DELETE", "/api/v1/canned-responses/"+id, nil), 403, hotline.EFORBIDDEN)
	want(t, "the coordinator deleting", admin.send(t, "DELETE", "/api/v1/canned-responses/"+id, nil), 204, "")
	want(t, "deleting again", admin.send(t, "DELETE", "/api/v1/canned-responses/"+id, nil), 404, hotline.ENOTFOUND)
}

func TestSettingsTeamAndDispositions(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{Dispositions: []string{"Support given", "Referred"}, Tags: []string{"minor"}, MaxSegments: 4, Assignment: "pull"})
	s.addUser(t, "admin", hotline.RoleCoordinator)
	s.addUser(t, "ana", hotline.RoleResponder)
	ana := s.login(t, "ana")

	r := ana.send(t, "GET", "/api/v1/settings", nil)
	want(t, "settings", r, 200, "")
	for _, part := range []string{`"dispositions":["Support given","Referred"]`, `"tags":["minor"]`, `"max_segments":4`, `"assignment":"pull"`, `"canned_placeholders":["responder","handle"]`} {
		if !strings.Contains(string(r.body), part) {
			t.Errorf("settings = %s, want %s", r.body, part)
		}
	}

	r = ana.send(t, "GET", "/api/v1/team", nil)
	want(t, "team", r, 200, "")
	if !strings.Contains(string(r.body), `"username":"admin"`) || !strings.Contains(string(r.body), `"username":"ana"`) || strings.Contains(string(r.body), "phone") || strings.Contains(string(r.body), "+1415") {
		t.Errorf("team = %s, want both users without phones", r.body)
	}

	conv := s.text(t, "+14155550101", "hello")
	want(t, "ana accepts", ana.send(t, "POST", "/api/v1/conversations/"+conv+"/accept", nil), 200, "")
	r = ana.send(t, "POST", "/api/v1/conversations/"+conv+"/close", map[string]any{"disposition": "made up", "tags": []string{}})
	want(t, "a disposition not configured", r, 400, hotline.EINVALID)
	if !strings.Contains(r.errorMessage(), "conversation.dispositions") {
		t.Errorf("message = %q, want it to name the key", r.errorMessage())
	}
	want(t, "a configured disposition", ana.send(t, "POST", "/api/v1/conversations/"+conv+"/close", map[string]any{"disposition": "Referred", "tags": []string{"minor", "other"}}), 200, "")
}
