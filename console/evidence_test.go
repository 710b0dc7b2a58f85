package console_test

import (
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
)

// TestEncryptionBanner: while the store is not encrypted at rest, coordinators see
// a warning on every page and in GET /api/v1/settings; responders do not, and
// nobody does once it is encrypted.
func TestEncryptionBanner(t *testing.T) {
	const warning = "DATA IS NOT ENCRYPTED: set crypto.master_key_file"
	for _, encrypted := range []bool{false, true} {
		s := newLiveServer(t, 0, console.Settings{Encrypted: encrypted, PlaintextWarning: warning})
		s.addUser(t, "cora", hotline.RoleCoordinator)
		s.addUser(t, "ana", hotline.RoleResponder)
		for _, who := range []string{"cora", "ana"} {
			c := s.login(t, who)
			want := !encrypted && who == "cora"
			for _, path := range []string{"/", "/coordinator/exports"} {
				r := c.send(t, "GET", path, nil)
				if got := strings.Contains(string(r.body), `id="encryption-warning"`); got != want && r.status == 200 {
					t.Errorf("encrypted %v, %s GET %s: banner shown %v, want %v", encrypted, who, path, got, want)
				}
			}
			var v struct {
				Encrypted bool   `json:"encrypted"`
				Warning   string `json:"encryption_warning"`
			}
			c.call(t, "GET", "/api/v1/settings", nil, &v)
			if v.Encrypted != encrypted || (v.Warning == warning) != want {
				t.Errorf("encrypted %v, %s: settings = %+v", encrypted, who, v)
			}
		}
	}
}
