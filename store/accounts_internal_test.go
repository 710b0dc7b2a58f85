package store

import (
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// The audit log is append-only by construction: the store's transaction has no
// method that could change or delete an entry.
func TestAudit_NoUpdateOrDeleteMethod(t *testing.T) {
	typ := reflect.TypeFor[*tx]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if strings.Contains(name, "Audit") && name != "AppendAudit" && name != "AuditEntries" {
			t.Errorf("tx has method %s: the audit log must offer only AppendAudit and AuditEntries", name)
		}
	}
}

// Check names broken account records and indexes, never a token.
func TestCheck_FindsAccountProblems(t *testing.T) {
	u := hotline.User{ID: hotline.NewID(testTime), Username: "ana", Role: hotline.RoleResponder}
	h := hotline.HashToken("secret-token")
	tests := []struct {
		name  string
		plant func(tx *bolt.Tx) error
		want  string
	}{
		{"username index missing", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketUserByUsername).Delete([]byte("ana"))
		}, "user " + u.ID.String() + ": no idx_user_username entry"},
		{"username index to nobody", func(tx *bolt.Tx) error {
			other := hotline.NewID(testTime)
			return tx.Bucket(bucketUserByUsername).Put([]byte("ghost"), other[:])
		}, `idx_user_username "ghost": user`},
		{"session of a deleted user", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketUsers).Delete(u.ID[:])
		}, "session " + h.Short() + ": user " + u.ID.String() + " does not exist"},
		{"session index missing", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSessionsByUser).Delete(userSessionKey(u.ID, h))
		}, "session " + h.Short() + ": no idx_sessions_by_user entry"},
		{"session deleted behind its index", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSessions).Delete(h[:])
		}, "session does not exist"},
		{"audit entry unreadable", func(tx *bolt.Tx) error {
			id := hotline.NewID(testTime)
			return tx.Bucket(bucketAudit).Put(id[:], []byte("{"))
		}, "audit entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			err := s.Update(t.Context(), func(tx hotline.Tx) error {
				if err := tx.PutUser(u); err != nil {
					return err
				}
				return tx.PutSession(hotline.Session{TokenHash: h, UserID: u.ID, CSRFToken: "c"})
			})
			if err != nil {
				t.Fatal(err)
			}
			raw(t, s, tt.plant)
			problems, err := s.Check(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tt.want)
				if strings.Contains(p, "secret-token") {
					t.Errorf("problem %q names the token", p)
				}
			}
			if !found {
				t.Errorf("Check = %q, want a problem containing %q", problems, tt.want)
			}
		})
	}
}
