package hotline_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/auth"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

// plainHasher is a fast stand-in for argon2id that counts its checks.
type plainHasher struct{ verifies atomic.Int64 }

func (h *plainHasher) Hash(p string) (string, error) { return "plain$" + p, nil }
func (h *plainHasher) Verify(hash, p string) (bool, error) {
	h.verifies.Add(1)
	if !strings.HasPrefix(hash, "plain$") {
		return false, errors.New("not a plain hash")
	}
	return hash == "plain$"+p, nil
}

type accountsFixture struct {
	accounts *hotline.Accounts
	svc      *hotline.Service
	clock    *testClock
	hasher   *plainHasher
	codes    auth.TOTP
}

var operator = hotline.OperatorCaller(hotline.OperatorCLI)

const password = "correct horse battery staple"

func newAccounts(t *testing.T, opts hotline.AccountsOptions, limiter hotline.LoginLimiter) *accountsFixture {
	t.Helper()
	st := storetest.MustOpen(t)
	f := &accountsFixture{clock: &testClock{now: t0}, hasher: &plainHasher{}}
	f.svc = hotline.NewService(st, f.clock, nil, hotline.DefaultPolicy())
	f.accounts = hotline.NewAccounts(hotline.AccountsDeps{Store: st, Clock: f.clock, Passwords: f.hasher,
		Codes: f.codes, Tokens: auth.Tokens{}, Limiter: limiter}, opts)
	return f
}

func (f *accountsFixture) addUser(t *testing.T, username string, role hotline.Role) hotline.User {
	t.Helper()
	u, err := f.accounts.CreateUser(context.Background(), operator, hotline.NewUser{Username: username, Password: password, Role: role})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", username, err)
	}
	return u
}

func (f *accountsFixture) login(t *testing.T, username string) hotline.LoginResult {
	t.Helper()
	res, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: username, Password: password, RemoteAddr: "192.0.2.1"})
	if err != nil {
		t.Fatalf("Login(%s): %v", username, err)
	}
	return res
}

func (f *accountsFixture) wantSession(t *testing.T, what, token string, code string) {
	t.Helper()
	_, err := f.accounts.Authenticate(context.Background(), token)
	if got := hotline.ErrorCode(err); got != code {
		t.Errorf("%s: Authenticate = %q (%v), want %q", what, got, err, code)
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := hotline.ErrorCode(err); got != code {
		t.Errorf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

func TestLogin_StartsASessionStoredOnlyAsAHash(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	ana := f.addUser(t, "Ana", hotline.RoleResponder)
	if ana.Username != "ana" {
		t.Errorf("username stored as %q, want lower case", ana.Username)
	}
	res := f.login(t, "ANA")
	if res.Token == "" || res.Session.CSRFToken == "" || res.Token == res.Session.CSRFToken {
		t.Fatalf("Login = token %q, CSRF %q; want two different tokens", res.Token, res.Session.CSRFToken)
	}
	if res.Session.TokenHash != hotline.HashToken(res.Token) {
		t.Error("the session is not stored under the SHA-256 of its token")
	}
	p, err := f.accounts.Authenticate(context.Background(), res.Token)
	if err != nil || p.User.ID != ana.ID || p.Session.CSRFToken != res.Session.CSRFToken {
		t.Errorf("Authenticate = %+v, %v; want ana's session", p, err)
	}
	// A new sign-in is a new token.
	if again := f.login(t, "ana"); again.Token == res.Token {
		t.Error("a second sign-in got the same token")
	}
}

func TestLogin_FailuresAreGeneric(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	f.addUser(t, "ana", hotline.RoleResponder)
	bo := f.addUser(t, "bo", hotline.RoleResponder)
	if _, err := f.accounts.DisableUser(context.Background(), operator, bo.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, username, password string }{
		{"unknown user", "nobody", password},
		{"wrong password", "ana", "not the password at all"},
		{"disabled user", "bo", password},
		{"empty", "", ""},
	} {
		before := f.hasher.verifies.Load()
		_, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: tt.username, Password: tt.password})
		if hotline.ErrorCode(err) != hotline.EUNAUTHORIZED || hotline.ErrorMessage(err) != "Wrong username, password or code." {
			t.Errorf("%s: Login = %v, want EUNAUTHORIZED \"Wrong username, password or code.\"", tt.name, err)
		}
		if f.hasher.verifies.Load() == before {
			t.Errorf("%s: no password hash was checked; timing would tell who exists", tt.name)
		}
	}
}

func TestSession_IdleTimeout(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{Sessions: hotline.SessionTimeouts{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}}, nil)
	f.addUser(t, "ana", hotline.RoleResponder)
	res := f.login(t, "ana")
	lastSeen := func() time.Time {
		p, err := f.accounts.Authenticate(context.Background(), res.Token)
		if err != nil {
			t.Fatal(err)
		}
		return p.Session.LastSeenAt
	}
	f.clock.Advance(30 * time.Second)
	if got := lastSeen(); !got.Equal(t0) {
		t.Errorf("a request 30s after sign-in wrote LastSeenAt = %s; it should write at most once a minute", got)
	}
	f.clock.Advance(29 * time.Minute)
	if got := lastSeen(); !got.Equal(f.clock.Now()) {
		t.Errorf("LastSeenAt = %s after 29m30s, want it touched at %s", got, f.clock.Now())
	}
	f.clock.Advance(29 * time.Minute) // active: 58m30s after sign-in, 29m after the last request
	f.wantSession(t, "29 minutes idle", res.Token, "")
	f.clock.Advance(30 * time.Minute)
	f.wantSession(t, "30 minutes idle", res.Token, hotline.EUNAUTHORIZED)
	f.clock.Advance(-30 * time.Minute)
	f.wantSession(t, "the expired session, even with the clock turned back", res.Token, hotline.EUNAUTHORIZED)
}

func TestSession_AbsoluteTimeout(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{Sessions: hotline.SessionTimeouts{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}}, nil)
	f.addUser(t, "ana", hotline.RoleResponder)
	res := f.login(t, "ana")
	for elapsed := 10 * time.Minute; elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
		f.clock.Advance(10 * time.Minute)
		f.wantSession(t, "active after "+elapsed.String(), res.Token, "")
	}
	f.clock.Advance(10 * time.Minute)
	f.wantSession(t, "12 hours after sign-in, though active", res.Token, hotline.EUNAUTHORIZED)
}

func TestSession_ForgedAndLoggedOut(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	ana := f.addUser(t, "ana", hotline.RoleResponder)
	f.wantSession(t, "a forged token", "forged-token-forged-token-forged-token-1234", hotline.EUNAUTHORIZED)
	f.wantSession(t, "no token", "", hotline.EUNAUTHORIZED)

	one, two := f.login(t, "ana"), f.login(t, "ana")
	if _, err := f.accounts.SetAvailability(context.Background(), hotline.Caller{User: ana}, hotline.AvailabilityAvailable); err != nil {
		t.Fatal(err)
	}
	if err := f.accounts.Logout(context.Background(), hotline.Principal{User: ana, Session: one.Session}.Caller("192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	f.wantSession(t, "a logged-out session", one.Token, hotline.EUNAUTHORIZED)
	f.wantSession(t, "the user's other session", two.Token, "")
	if err := f.accounts.Logout(context.Background(), hotline.Principal{User: ana, Session: two.Session}.Caller("192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	u, _ := f.accounts.User(context.Background(), operator, ana.ID)
	if u.Availability != hotline.AvailabilityOffline {
		t.Errorf("availability after the last logout = %s, want offline", u.Availability)
	}
}

func TestDisableUser_EndsSessionsAtOnce(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	f.addUser(t, "admin", hotline.RoleCoordinator)
	ana := f.addUser(t, "ana", hotline.RoleResponder)
	a, b := f.login(t, "ana"), f.login(t, "ana")
	if _, err := f.accounts.DisableUser(context.Background(), operator, ana.ID); err != nil {
		t.Fatal(err)
	}
	f.wantSession(t, "session 1 of a disabled user", a.Token, hotline.EUNAUTHORIZED)
	f.wantSession(t, "session 2 of a disabled user", b.Token, hotline.EUNAUTHORIZED)
	if _, err := f.accounts.EnableUser(context.Background(), operator, ana.ID); err != nil {
		t.Fatal(err)
	}
	f.wantSession(t, "an old session after re-enabling", a.Token, hotline.EUNAUTHORIZED)
	f.login(t, "ana")
}

func TestUpdateUser_KeepsACoordinator(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	admin := f.addUser(t, "admin", hotline.RoleCoordinator)
	_, err := f.accounts.DisableUser(context.Background(), operator, admin.ID)
	wantCode(t, "disabling the last coordinator", err, hotline.ECONFLICT)
	responder := hotline.RoleResponder
	_, err = f.accounts.UpdateUser(context.Background(), operator, admin.ID, hotline.UserPatch{Role: &responder})
	wantCode(t, "demoting the last coordinator", err, hotline.ECONFLICT)

	f.addUser(t, "second", hotline.RoleCoordinator)
	name, langs, capacity, phone := "Admin One", []string{"es", "en", "es"}, 5, "(415) 555-0123"
	u, err := f.accounts.UpdateUser(context.Background(), operator, admin.ID, hotline.UserPatch{
		DisplayName: &name, Role: &responder, Languages: &langs, Capacity: &capacity, Phone: &phone})
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != name || u.Role != responder || strings.Join(u.Languages, ",") != "es,en" || u.Capacity != 5 || u.Phone != "+14155550123" {
		t.Errorf("UpdateUser = %+v", u)
	}
	bad := 99
	_, err = f.accounts.UpdateUser(context.Background(), operator, admin.ID, hotline.UserPatch{Capacity: &bad})
	if hotline.ErrorCode(err) != hotline.EINVALID || !strings.HasPrefix(hotline.ErrorMessage(err), "capacity:") {
		t.Errorf("capacity 99 = %v, want EINVALID naming capacity", err)
	}
}

func TestCreateUser_Validates(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	f.addUser(t, "ana", hotline.RoleResponder)
	for _, tt := range []struct {
		n     hotline.NewUser
		code  string
		field string
	}{
		{hotline.NewUser{Username: "bo", Password: "short", Role: hotline.RoleResponder}, hotline.EINVALID, "password: at least 12 characters"},
		{hotline.NewUser{Username: "bo", Password: strings.Repeat("x", 257), Role: hotline.RoleResponder}, hotline.EINVALID, "password: at most 256"},
		{hotline.NewUser{Username: "bo b", Password: password, Role: hotline.RoleResponder}, hotline.EINVALID, "username:"},
		{hotline.NewUser{Username: "bo", Password: password, Role: "boss"}, hotline.EINVALID, "role:"},
		{hotline.NewUser{Username: "bo", Password: password, Role: hotline.RoleResponder, Phone: "call me"}, hotline.EINVALID, "phone:"},
		{hotline.NewUser{Username: "bo", Password: password, Role: hotline.RoleResponder, Languages: []string{"English"}}, hotline.EINVALID, "languages:"},
		{hotline.NewUser{Username: "ANA", Password: password, Role: hotline.RoleResponder}, hotline.ECONFLICT, "The username ana is taken."},
	} {
		_, err := f.accounts.CreateUser(context.Background(), operator, tt.n)
		if hotline.ErrorCode(err) != tt.code || !strings.HasPrefix(hotline.ErrorMessage(err), tt.field) {
			t.Errorf("CreateUser(%q, role %q) = %v, want %s starting %q", tt.n.Username, tt.n.Role, err, tt.code, tt.field)
		}
	}
}

func TestResetPassword(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	admin := f.addUser(t, "admin", hotline.RoleCoordinator)
	ana := f.addUser(t, "ana", hotline.RoleResponder)
	old := f.login(t, "ana")
	const next = "a brand new passphrase"
	// A coordinator resets it: every session ends.
	if err := f.accounts.ResetPassword(context.Background(), hotline.Caller{User: admin}, ana.ID, next, ""); err != nil {
		t.Fatal(err)
	}
	f.wantSession(t, "a session after a reset", old.Token, hotline.EUNAUTHORIZED)
	res, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "ana", Password: next})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "ana", Password: next})
	// The user changes it: only with the current one, keeping the session they are in.
	me := hotline.Principal{User: ana, Session: res.Session}.Caller("192.0.2.1")
	err = f.accounts.ResetPassword(context.Background(), me, ana.ID, password, "wrong current password")
	wantCode(t, "a change with the wrong current password", err, hotline.EUNAUTHORIZED)
	if err := f.accounts.ResetPassword(context.Background(), me, ana.ID, password, next); err != nil {
		t.Fatal(err)
	}
	f.wantSession(t, "the session the change came from", res.Token, "")
	f.wantSession(t, "the user's other session", other.Token, hotline.EUNAUTHORIZED)
	// A responder cannot reset someone else's.
	err = f.accounts.ResetPassword(context.Background(), me, admin.ID, "mine now mine now", "")
	wantCode(t, "a responder resetting a coordinator", err, hotline.EFORBIDDEN)
}

func TestTOTP_RequiredForCoordinators(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{RequireTOTPForCoordinators: true}, nil)
	admin := f.addUser(t, "admin", hotline.RoleCoordinator)
	f.addUser(t, "ana", hotline.RoleResponder)
	_, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "admin", Password: password})
	if hotline.ErrorCode(err) != hotline.EFORBIDDEN || !strings.Contains(hotline.ErrorMessage(err), "hotline user totp admin") {
		t.Errorf("a coordinator without a code = %v, want EFORBIDDEN telling them to run `hotline user totp admin`", err)
	}
	f.login(t, "ana") // responders need none

	setup, err := f.accounts.SetupTOTP(context.Background(), operator, admin.ID)
	if err != nil || !strings.HasPrefix(setup.URL, "otpauth://totp/") {
		t.Fatalf("SetupTOTP = %+v, %v", setup, err)
	}
	login := func(code string) error {
		_, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "admin", Password: password, TOTP: code})
		return err
	}
	wantCode(t, "no code", login(""), hotline.EUNAUTHORIZED)
	wantCode(t, "a wrong code", login("000000"), hotline.EUNAUTHORIZED)
	code, _ := f.codes.Code(setup.Secret, f.clock.Now())
	if err := login(code); err != nil {
		t.Fatalf("the right code: %v", err)
	}
	wantCode(t, "the same code again", login(code), hotline.EUNAUTHORIZED)
	f.clock.Advance(30 * time.Second)
	next, _ := f.codes.Code(setup.Secret, f.clock.Now())
	if err := login(next); err != nil {
		t.Errorf("the next code: %v", err)
	}
}

func TestTOTP_SelfSetupNeedsConfirmation(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	ana := f.addUser(t, "ana", hotline.RoleResponder)
	me := hotline.Caller{User: ana}
	setup, err := f.accounts.SetupTOTP(context.Background(), me, ana.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.login(t, "ana") // not on until confirmed
	wantCode(t, "a wrong confirmation code", f.accounts.ConfirmTOTP(context.Background(), me, "123456"), hotline.EINVALID)
	code, _ := f.codes.Code(setup.Secret, f.clock.Now())
	if err := f.accounts.ConfirmTOTP(context.Background(), me, code); err != nil {
		t.Fatal(err)
	}
	_, err = f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "ana", Password: password})
	wantCode(t, "sign-in without the code once confirmed", err, hotline.EUNAUTHORIZED)
	other := f.addUser(t, "bo", hotline.RoleResponder)
	_, err = f.accounts.SetupTOTP(context.Background(), me, other.ID)
	wantCode(t, "setting up someone else's code", err, hotline.EFORBIDDEN)
}

// A burst of 1,000 wrong passwords from one address is throttled, and the real user
// signs in from another address all the same.
func TestLogin_ThrottledBurst(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, auth.NewThrottle(auth.ThrottleOptions{}))
	f.addUser(t, "ana", hotline.RoleResponder)
	limited, checked := 0, f.hasher.verifies.Load()
	var retry time.Duration
	for range 1000 {
		_, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "ana", Password: "guess guess guess", RemoteAddr: "203.0.113.9"})
		var rl *hotline.RateLimitError
		if errors.As(err, &rl) {
			limited++
			retry = rl.RetryAfter
			wantCode(t, "a throttled attempt", err, hotline.ERATELIMIT)
		} else {
			wantCode(t, "a wrong password", err, hotline.EUNAUTHORIZED)
		}
	}
	if limited < 990 || retry < time.Second {
		t.Errorf("%d of 1000 guesses throttled (last Retry-After %s); want nearly all, with a wait", limited, retry)
	}
	if n := f.hasher.verifies.Load() - checked; n > 10 {
		t.Errorf("%d passwords were checked; throttled attempts must not reach the hash", n)
	}
	if _, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "ana", Password: password, RemoteAddr: "198.51.100.7"}); err != nil {
		t.Errorf("the real user from another address: %v; the account must not be locked", err)
	}
	// Waiting out the delay lets the address try again.
	f.clock.Advance(retry)
	_, err := f.accounts.Login(context.Background(), hotline.LoginRequest{Username: "ana", Password: password, RemoteAddr: "203.0.113.9"})
	if err != nil {
		t.Errorf("after waiting %s: %v", retry, err)
	}
}

func TestBootstrap_OnlyOnAnEmptyStore(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	created, err := f.accounts.Bootstrap(context.Background(), "admin", password)
	if err != nil || !created {
		t.Fatalf("Bootstrap on an empty store = %v, %v; want created", created, err)
	}
	created, err = f.accounts.Bootstrap(context.Background(), "admin", "another password entirely")
	if err != nil || created {
		t.Errorf("Bootstrap again = %v, %v; want nothing done", created, err)
	}
	f.login(t, "admin") // the first password still works
	u, _ := f.accounts.UserByUsername(context.Background(), operator, "admin")
	if u.Role != hotline.RoleCoordinator {
		t.Errorf("the first user is a %s, want a coordinator", u.Role)
	}
	if _, err := newAccounts(t, hotline.AccountsOptions{}, nil).accounts.Bootstrap(context.Background(), "admin", "short"); err == nil {
		t.Error("Bootstrap with a short password succeeded")
	}
}

func TestAccounts_CoordinatorOnly(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	admin := f.addUser(t, "admin", hotline.RoleCoordinator)
	ana := hotline.Caller{User: f.addUser(t, "ana", hotline.RoleResponder)}
	ctx := context.Background()
	_, err := f.accounts.CreateUser(ctx, ana, hotline.NewUser{Username: "x", Password: password, Role: hotline.RoleCoordinator})
	wantCode(t, "CreateUser", err, hotline.EFORBIDDEN)
	_, err = f.accounts.ListUsers(ctx, ana)
	wantCode(t, "ListUsers", err, hotline.EFORBIDDEN)
	_, err = f.accounts.User(ctx, ana, admin.ID)
	wantCode(t, "User(someone else)", err, hotline.EFORBIDDEN)
	_, err = f.accounts.UpdateUser(ctx, ana, ana.User.ID, hotline.UserPatch{Role: new(hotline.RoleCoordinator)})
	wantCode(t, "UpdateUser(self to coordinator)", err, hotline.EFORBIDDEN)
	_, err = f.accounts.AuditLog(ctx, ana, hotline.ID{}, 10)
	wantCode(t, "AuditLog", err, hotline.EFORBIDDEN)
	if _, err := f.accounts.User(ctx, ana, ana.User.ID); err != nil {
		t.Errorf("User(self): %v", err)
	}
}

func TestPruneSessions(t *testing.T) {
	f := newAccounts(t, hotline.AccountsOptions{}, nil)
	f.addUser(t, "ana", hotline.RoleResponder)
	old := f.login(t, "ana")
	f.clock.Advance(20 * time.Minute)
	fresh := f.login(t, "ana")
	f.clock.Advance(15 * time.Minute)
	if n, err := f.accounts.PruneSessions(context.Background()); err != nil || n != 1 {
		t.Errorf("PruneSessions = %d, %v; want 1 (the idle one)", n, err)
	}
	f.wantSession(t, "the pruned session", old.Token, hotline.EUNAUTHORIZED)
	f.wantSession(t, "the fresh session", fresh.Token, "")
}
