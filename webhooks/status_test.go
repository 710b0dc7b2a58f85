package webhooks

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
)

// TestStatus_mapping is the table from Twilio's MessageStatus to what the hotline
// records; "" means the callback is acknowledged and nothing is recorded.
func TestStatus_mapping(t *testing.T) {
	tests := []struct {
		twilio string
		want   hotline.Status
	}{
		{"queued", hotline.StatusQueued},
		{"sending", hotline.StatusSending},
		{"sent", hotline.StatusSent},
		{"delivered", hotline.StatusDelivered},
		{"undelivered", hotline.StatusUndelivered},
		{"failed", hotline.StatusFailed},
		{"canceled", hotline.StatusFailed},
		{"Delivered", hotline.StatusDelivered},
		{"accepted", ""},
		{"scheduled", ""},
		{"read", ""},
		{"partially_delivered", ""},
		{"receiving", ""},
		{"received", ""},
		{"teleported", ""},
	}
	for _, tt := range tests {
		t.Run(tt.twilio, func(t *testing.T) {
			svc := &fakeService{}
			e, _ := mustServer(t, svc, testConfig())
			rec := serve(e, signedRequest(StatusPath, statusParams(tt.twilio), testToken))
			if got, want := rec.Code, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d (body %s)", got, want, rec.Body)
			}
			if tt.want == "" {
				if len(svc.statuses) != 0 {
					t.Errorf("RecordStatus called with %+v, want no call", svc.statuses)
				}
				return
			}
			want := []hotline.StatusUpdate{{SID: testSID, Status: tt.want}}
			if got := svc.statuses; !reflect.DeepEqual(got, want) {
				t.Errorf("RecordStatus got %+v, want %+v", got, want)
			}
		})
	}
}

func TestStatus_errorFields(t *testing.T) {
	svc := &fakeService{}
	e, _ := mustServer(t, svc, testConfig())
	p := statusParams("undelivered")
	p.Set("ErrorCode", "21610")
	p.Set("ErrorMessage", "Attempt to send to unsubscribed recipient")
	p.Set("RawDlrDoneDate", "2501020304")
	if rec := serve(e, signedRequest(StatusPath, p, testToken)); rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %s)", rec.Code, rec.Body)
	}
	want := []hotline.StatusUpdate{{SID: testSID, Status: hotline.StatusUndelivered, ErrorCode: 21610,
		ErrorMessage: "Attempt to send to unsubscribed recipient", DoneAt: "2501020304"}}
	if got := svc.statuses; !reflect.DeepEqual(got, want) {
		t.Errorf("RecordStatus got %+v, want %+v", got, want)
	}
}

// TestStatus_refusedOrAcknowledged covers the answers other than a plain record.
func TestStatus_refusedOrAcknowledged(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(url.Values)
		token      string
		err        error
		want       int
		wantCalled bool
	}{
		{"unknown MessageSid", nil, testToken, hotline.Errorf(hotline.ENOTFOUND, "No such message."), http.StatusOK, true},
		{"store unavailable", nil, testToken, hotline.Errorf(hotline.EUNAVAILABLE, "Busy."), http.StatusServiceUnavailable, true},
		{"secondary token", nil, testToken2, nil, http.StatusOK, true},
		{"wrong token", nil, "wrong", nil, http.StatusForbidden, false},
		{"another account", func(p url.Values) { p.Set("AccountSid", "AC2") }, testToken, nil, http.StatusForbidden, false},
		{"no MessageSid", func(p url.Values) { p.Del("MessageSid") }, testToken, nil, http.StatusBadRequest, false},
		{"no MessageStatus", func(p url.Values) { p.Del("MessageStatus") }, testToken, nil, http.StatusBadRequest, false},
		{"two MessageStatus", func(p url.Values) { p.Add("MessageStatus", "delivered") }, testToken, nil, http.StatusBadRequest, false},
		{"ErrorCode not a number", func(p url.Values) { p.Set("ErrorCode", "oops") }, testToken, nil, http.StatusBadRequest, false},
		{"invalid UTF-8", func(p url.Values) { p.Set("ErrorMessage", "\xff") }, testToken, nil, http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeService{RecordStatusFn: func(context.Context, hotline.StatusUpdate) error { return tt.err }}
			e, logs := mustServer(t, svc, testConfig())
			p := statusParams("delivered")
			if tt.edit != nil {
				tt.edit(p)
			}
			rec := serve(e, signedRequest(StatusPath, p, tt.token))
			if got := rec.Code; got != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", got, tt.want, rec.Body)
			}
			if got := svc.calls() > 0; got != tt.wantCalled {
				t.Errorf("RecordStatus called = %v, want %v", got, tt.wantCalled)
			}
			if hotline.ErrorCode(tt.err) == hotline.ENOTFOUND && !strings.Contains(logs.String(), "MessageSid not stored yet") {
				t.Errorf("log %s does not mention the unknown MessageSid", logs)
			}
		})
	}
}
