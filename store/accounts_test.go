package store_test

import (
	"slices"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func newUser(n int, username string) hotline.User {
	return hotline.User{
		ID: hotline.NewID(at(n)), Username: username, DisplayName: "User " + username,
		Role: hotline.RoleResponder, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Languages: []string{"en", "es"}, Capacity: 3, Phone: "+14155550123",
		Availability: hotline.AvailabilityAway, CreatedAt: at(n), UpdatedAt: at(n), TOTPLastStep: 42,
	}
}

func TestUsers_PutAndFind(t *testing.T) {
	s := storetest.MustOpen(t)
	ana, bo := newUser(1, "ana"), newUser(2, "bo")
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutUser(bo); err != nil {
			return err
		}
		return tx.PutUser(ana)
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		got, err := tx.User(ana.ID)
		if err != nil || !equalUsers(got, ana) {
			t.Errorf("User = %+v, %v\nwant %+v", got, err, ana)
		}
		if got, err := tx.UserByUsername("ANA"); err != nil || got.ID != ana.ID {
			t.Errorf("UserByUsername(ANA) = %s, %v; want %s (any case)", got.ID, err, ana.ID)
		}
		_, err = tx.UserByUsername("nobody")
		wantCode(t, "UserByUsername(nobody)", err, hotline.ENOTFOUND)
		_, err = tx.User(hotline.NewID(at(9)))
		wantCode(t, "User(unknown)", err, hotline.ENOTFOUND)
		var names []string
		err = tx.Users(func(u hotline.User) error { names = append(names, u.Username); return nil })
		if want := []string{"ana", "bo"}; err != nil || !slices.Equal(names, want) {
			t.Errorf("Users = %v, %v; want %v (oldest first)", names, err, want)
		}
		return nil
	})
}

func TestUsers_UsernameIsUniqueAndMoves(t *testing.T) {
	s := storetest.MustOpen(t)
	ana, bo := newUser(1, "ana"), newUser(2, "bo")
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutUser(ana) })
	err := s.Update(t.Context(), func(tx hotline.Tx) error {
		bo.Username = "ana"
		return tx.PutUser(bo)
	})
	wantCode(t, "a second user named ana", err, hotline.ECONFLICT)

	ana.Username = "ana.maria"
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutUser(ana) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.UserByUsername("ana")
		wantCode(t, "the old username after a rename", err, hotline.ENOTFOUND)
		if got, err := tx.UserByUsername("ana.maria"); err != nil || got.ID != ana.ID {
			t.Errorf("the new username = %s, %v; want %s", got.ID, err, ana.ID)
		}
		return nil
	})
}

func TestSessions_PutFindDelete(t *testing.T) {
	s := storetest.MustOpen(t)
	ana, bo := newUser(1, "ana"), newUser(2, "bo")
	sess := func(token string, u hotline.User) hotline.Session {
		return hotline.Session{TokenHash: hotline.HashToken(token), UserID: u.ID, CSRFToken: "csrf-" + token,
			CreatedAt: at(10), LastSeenAt: at(20), RemoteAddr: "192.0.2.1", UserAgent: "test"}
	}
	a1, a2, b1 := sess("a1", ana), sess("a2", ana), sess("b1", bo)
	mustUpdate(t, s, func(tx hotline.Tx) error {
		for _, u := range []hotline.User{ana, bo} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		for _, x := range []hotline.Session{a1, a2, b1} {
			if err := tx.PutSession(x); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx hotline.Tx) error {
		return tx.PutSession(hotline.Session{TokenHash: hotline.HashToken("x"), UserID: hotline.NewID(at(5))})
	})
	wantCode(t, "a session of an unknown user", err, hotline.ENOTFOUND)

	mustView(t, s, func(tx hotline.ReadTx) error {
		if got, err := tx.Session(a1.TokenHash); err != nil || got != a1 {
			t.Errorf("Session = %+v, %v\nwant %+v", got, err, a1)
		}
		if n := countUserSessions(t, tx, ana.ID); n != 2 {
			t.Errorf("ana has %d sessions, want 2", n)
		}
		return nil
	})
	// Ending every session of a user, as disabling does, from inside the walk.
	mustUpdate(t, s, func(tx hotline.Tx) error {
		return tx.UserSessions(ana.ID, func(x hotline.Session) error { return tx.DeleteSession(x.TokenHash) })
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.Session(a1.TokenHash)
		wantCode(t, "a deleted session", err, hotline.ENOTFOUND)
		if n := countUserSessions(t, tx, ana.ID); n != 0 {
			t.Errorf("ana has %d sessions after deleting them, want 0", n)
		}
		if n := countUserSessions(t, tx, bo.ID); n != 1 {
			t.Errorf("bo has %d sessions, want 1 (untouched)", n)
		}
		return nil
	})
	err = s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeleteSession(a1.TokenHash) })
	wantCode(t, "deleting a session twice", err, hotline.ENOTFOUND)
}

func countUserSessions(t *testing.T, tx hotline.ReadTx, id hotline.ID) int {
	n := 0
	if err := tx.UserSessions(id, func(hotline.Session) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAudit_AppendOnlyNewestFirst(t *testing.T) {
	s := storetest.MustOpen(t)
	var ids []hotline.ID
	mustUpdate(t, s, func(tx hotline.Tx) error {
		for i := range 5 {
			e := hotline.AuditEntry{ID: hotline.NewID(at(i)), At: at(i), ActorUsername: "cli", Action: hotline.AuditUserCreate,
				TargetType: hotline.TargetUser, TargetID: "u", Detail: map[string]string{"n": string(rune('a' + i))}, RemoteAddr: "192.0.2.1"}
			ids = append(ids, e.ID)
			if err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx hotline.Tx) error {
		return tx.AppendAudit(hotline.AuditEntry{ID: ids[2], Action: hotline.AuditLogin})
	})
	wantCode(t, "appending over an existing entry", err, hotline.ECONFLICT)

	page := func(before hotline.ID, limit int) []hotline.ID {
		var got []hotline.ID
		mustView(t, s, func(tx hotline.ReadTx) error {
			return tx.AuditEntries(before, func(e hotline.AuditEntry) error {
				if e.Detail["n"] == "" || e.At.IsZero() || e.RemoteAddr != "192.0.2.1" {
					t.Errorf("entry %s lost fields: %+v", e.ID, e)
				}
				got = append(got, e.ID)
				if len(got) == limit {
					return hotline.ErrStop
				}
				return nil
			})
		})
		return got
	}
	if got, want := page(hotline.ID{}, 2), []hotline.ID{ids[4], ids[3]}; !slices.Equal(got, want) {
		t.Errorf("first page = %v, want %v", got, want)
	}
	if got, want := page(ids[3], 10), []hotline.ID{ids[2], ids[1], ids[0]}; !slices.Equal(got, want) {
		t.Errorf("page before %s = %v, want %v", ids[3], got, want)
	}
	if got := page(ids[0], 10); len(got) != 0 {
		t.Errorf("page before the oldest = %v, want none", got)
	}
}

func equalUsers(a, b hotline.User) bool {
	return a.ID == b.ID && a.Username == b.Username && a.DisplayName == b.DisplayName && a.Role == b.Role &&
		a.Disabled == b.Disabled && a.PasswordHash == b.PasswordHash && a.TOTPSecret == b.TOTPSecret &&
		a.TOTPPending == b.TOTPPending && a.TOTPLastStep == b.TOTPLastStep && slices.Equal(a.Languages, b.Languages) &&
		a.Capacity == b.Capacity && a.Phone == b.Phone && a.Availability == b.Availability &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}
