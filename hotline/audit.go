package hotline

import (
	"context"
	"time"
)

// AuditEntry records who did what to what, when and from where. The audit log is
// append-only: the store offers no way to change or delete an entry.
//
// Detail never holds a message body, a password or a full phone number; the audit of
// a reveal names the conversation, not the number revealed.
type AuditEntry struct {
	ID ID // time-ordered: the log's order
	At time.Time
	// ActorID is the user who acted (at a failed sign-in, the user whose name was
	// typed, if any); zero for the operator (the command line) and the hotline itself.
	ActorID ID
	// ActorUsername is the user's name, the username typed at a failed sign-in
	// (truncated), or "cli" for a command run on the server.
	ActorUsername string
	Action        AuditAction
	TargetType    string // "user", "conversation", "session", "export", …
	TargetID      string
	Detail        map[string]string
	RemoteAddr    string
}

// AuditAction names what an audit entry records.
type AuditAction string

// Audited actions. Export and retention are written by the issues that build them,
// through Accounts.Audit.
const (
	AuditLogin          AuditAction = "login"
	AuditLoginFailed    AuditAction = "login_failed"
	AuditLogout         AuditAction = "logout"
	AuditUserCreate     AuditAction = "user_create"
	AuditUserUpdate     AuditAction = "user_update"
	AuditUserDisable    AuditAction = "user_disable"
	AuditUserEnable     AuditAction = "user_enable"
	AuditPasswordReset  AuditAction = "password_reset"  // by a coordinator or the operator
	AuditPasswordChange AuditAction = "password_change" // by the user, with the current password
	AuditTOTPSetup      AuditAction = "totp_setup"
	AuditTOTPEnable     AuditAction = "totp_enable"
	AuditTOTPDisable    AuditAction = "totp_disable"
	AuditTranscriptView AuditAction = "transcript_view"
	AuditReveal         AuditAction = "reveal"
	AuditExport         AuditAction = "export"
	AuditRetention      AuditAction = "retention"
)

// Audit target types.
const (
	TargetUser         = "user"
	TargetConversation = "conversation"
	TargetSession      = "session"
)

// Operator names for audit entries of actions not taken by a signed-in user.
const (
	OperatorCLI       = "cli"       // a `hotline user …` command on a stopped server
	OperatorBootstrap = "bootstrap" // the first coordinator, created at start
)

// MaxAuditPage is the most entries one page of the audit log holds.
const MaxAuditPage = 500

// Caller is who asks for a use case: a signed-in user (with the session the request
// came with), or the operator running a command on the server itself.
type Caller struct {
	User User
	// Session is the hash of the session the request came with; zero for the operator.
	Session TokenHash
	// Operator names who acts when no user does, such as OperatorCLI; "" for users.
	Operator   string
	RemoteAddr string
}

// OperatorCaller returns the caller for an operator action, such as a CLI command.
func OperatorCaller(name string) Caller { return Caller{Operator: name} }

// isOperator reports whether the caller is the operator, who may do anything.
func (c Caller) isOperator() bool { return c.Operator != "" && IsZeroID(c.User.ID) }

// administers reports whether the caller may manage users and read everything.
func (c Caller) administers() bool { return c.isOperator() || c.User.IsCoordinator() }

// requireCoordinator fails with EFORBIDDEN unless the caller is a coordinator or
// the operator.
func (c Caller) requireCoordinator(what string) error {
	if c.administers() {
		return nil
	}
	return Errorf(EFORBIDDEN, "Only coordinators can %s.", what)
}

// entry starts an audit entry for an action of the caller.
func (c Caller) entry(action AuditAction, targetType, targetID string) AuditEntry {
	e := AuditEntry{Action: action, TargetType: targetType, TargetID: targetID, RemoteAddr: c.RemoteAddr}
	if c.isOperator() {
		e.ActorUsername = c.Operator
	} else {
		e.ActorID, e.ActorUsername = c.User.ID, c.User.Username
	}
	return e
}

// Audit appends an entry to the audit log, giving it an ID and a time when it has
// none: for use cases outside Accounts, such as exports and retention runs.
func (a *Accounts) Audit(ctx context.Context, e AuditEntry) error {
	return a.store.Update(ctx, func(tx Tx) error { return appendAudit(tx, e, a.clock.Now()) })
}

// appendAudit appends e in tx, stamped with now when it has no time.
func appendAudit(tx Tx, e AuditEntry, now time.Time) error {
	if e.At.IsZero() {
		e.At = now
	}
	if IsZeroID(e.ID) {
		e.ID = NewID(e.At)
	}
	return tx.AppendAudit(e)
}

// AuditLog returns up to limit entries older than before (the newest when before is
// zero), newest first. Only coordinators and the operator may read it. A limit out of
// 1..MaxAuditPage becomes 100 or MaxAuditPage.
func (a *Accounts) AuditLog(ctx context.Context, c Caller, before ID, limit int) ([]AuditEntry, error) {
	if err := c.requireCoordinator("read the audit log"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxAuditPage)
	var out []AuditEntry
	err := a.store.View(ctx, func(tx ReadTx) error {
		out = nil
		return tx.AuditEntries(before, func(e AuditEntry) error {
			out = append(out, e)
			if len(out) >= limit {
				return ErrStop
			}
			return nil
		})
	})
	return out, err
}
