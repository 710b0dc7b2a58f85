package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/internal/faketwilio"
)

// The fake Twilio API's credentials, and a Messaging Service SID.
const (
	testAccount = faketwilio.AccountSID
	testToken   = faketwilio.AuthToken
	testFrom    = faketwilio.From
	testService = "MG0123456789abcdef0123456789abcdef"
)

// newServer serves h on loopback until the test ends and returns its URL.
func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
