package hotline

import (
	"context"
	"errors"
	"time"
)

// Store persists the domain. A use case runs its whole decision inside one Update, so
// that what it read and what it wrote commit together or not at all.
//
// Errors: ENOTFOUND from lookups; EUNAVAILABLE when the store cannot write (disk
// full, closed); EINTERNAL for corruption.
type Store interface {
	// Update runs fn in one read-write transaction and commits it when fn returns nil.
	// Concurrent calls may be committed together, and fn may then run more than once:
	// it must derive everything from tx and have no other side effects.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction. Values it returns are copies, safe to
	// keep after fn returns.
	View(ctx context.Context, fn func(ReadTx) error) error
}

// ErrStop, returned by an iteration callback, ends the iteration without error.
var ErrStop = errors.New("stop iteration")

// ReadTx reads the store inside one transaction.
type ReadTx interface {
	Contact(id ID) (Contact, error)
	ContactByAddress(a Address) (Contact, error)
	ContactByHandle(handle string) (Contact, error)

	Conversation(id ID) (Conversation, error)
	// LatestConversation returns the contact's newest conversation, open or closed.
	LatestConversation(contactID ID) (Conversation, error)
	// Conversations calls fn for each conversation that matches f, oldest first.
	Conversations(f ConversationFilter, fn func(Conversation) error) error
	// Queue calls fn for each waiting conversation, urgent first, then oldest first.
	Queue(fn func(Conversation) error) error
	// DueConversations returns up to limit conversations whose NextDeadline is at or
	// before now, earliest first.
	DueConversations(now time.Time, limit int) ([]ID, error)
	// NextDeadline returns the earliest NextDeadline of any conversation.
	NextDeadline() (time.Time, bool, error)

	Message(conversationID, id ID) (Message, error)
	MessageBySID(sid string) (Message, error)
	// MessageIDBySID returns the conversation and the ID of the message Twilio
	// knows by the SID, or ENOTFOUND, without reading the message itself: what a
	// duplicate check needs.
	MessageIDBySID(sid string) (conversationID, id ID, err error)
	// Messages calls fn for each message of the conversation after the message with
	// ID after (from the first when after is zero), in order.
	Messages(conversationID, after ID, fn func(Message) error) error
	// StatusEvents calls fn for each delivery status entry of the conversation's
	// chain, oldest first (chain.go).
	StatusEvents(conversationID ID, fn func(StatusEvent) error) error

	OutboxEntry(id ID) (OutboxEntry, error)
	// Outbox calls fn for each pending outbox entry, oldest first.
	Outbox(fn func(OutboxEntry) error) error

	// Checkpoint returns the time stored under name by PutCheckpoint, and false
	// when there is none.
	Checkpoint(name string) (time.Time, bool, error)
	// OrphanStatus returns the status callback kept for a SID that no message had
	// when it arrived, or ENOTFOUND.
	OrphanStatus(sid string) (OrphanStatus, error)
	// OrphanStatuses calls fn for each kept status callback, in SID order.
	OrphanStatuses(fn func(OrphanStatus) error) error

	// User returns the user with the ID, or ENOTFOUND.
	User(id ID) (User, error)
	// UserByUsername returns the user with the (normalized) username, or ENOTFOUND.
	UserByUsername(username string) (User, error)
	// Users calls fn for each user, oldest first.
	Users(fn func(User) error) error

	// Session returns the session stored under the token hash, or ENOTFOUND.
	Session(h TokenHash) (Session, error)
	// Sessions calls fn for each session, in no particular order.
	Sessions(fn func(Session) error) error
	// UserSessions calls fn for each session of the user.
	UserSessions(userID ID, fn func(Session) error) error

	// AuditEntries calls fn for each audit entry older than before, newest first;
	// from the newest when before is zero.
	AuditEntries(before ID, fn func(AuditEntry) error) error

	// CannedResponse returns the canned response with the ID, or ENOTFOUND.
	CannedResponse(id ID) (CannedResponse, error)
	// CannedResponses calls fn for each canned response, oldest first.
	CannedResponses(fn func(CannedResponse) error) error

	// RoutingReadTx reads schedules, pages and assignments (routing_ports.go).
	RoutingReadTx

	// API tokens, edited texts and hourly counters (apitoken.go, texts_settings.go,
	// dashboard.go).
	APITokenReadTx
	TextsReadTx
	StatsReadTx
	// The close dialog's lists edited in the console (close_lists.go).
	CloseListsReadTx
}

// Tx changes the store inside one transaction. Puts replace the whole record and keep
// every index in step with it.
type Tx interface {
	ReadTx
	PutContact(c Contact) error
	PutConversation(c Conversation) error
	PutMessage(m Message) error
	PutOutbox(e OutboxEntry) error
	DeleteOutbox(id ID) error
	// PutCheckpoint stores t under name, replacing what was there.
	PutCheckpoint(name string, t time.Time) error
	// PutOrphanStatus keeps a status callback under its SID, replacing any other.
	PutOrphanStatus(o OrphanStatus) error
	// DeleteOrphanStatus forgets the status callback kept for the SID, or fails with
	// ENOTFOUND.
	DeleteOrphanStatus(sid string) error

	// PutUser writes the user. A username that belongs to another user is ECONFLICT.
	PutUser(u User) error
	// PutSession writes the session; its user must exist (else ENOTFOUND).
	PutSession(s Session) error
	// DeleteSession ends the session, or fails with ENOTFOUND.
	DeleteSession(h TokenHash) error
	// AppendAudit adds an entry to the audit log, which is append-only: an entry
	// whose ID is taken is ECONFLICT, and there is no way to change or delete one.
	AppendAudit(e AuditEntry) error

	// PutCannedResponse writes the canned response, replacing one with its ID.
	PutCannedResponse(r CannedResponse) error
	// DeleteCannedResponse deletes the canned response, or fails with ENOTFOUND.
	DeleteCannedResponse(id ID) error

	// RoutingTx writes schedules and pages (routing_ports.go).
	RoutingTx

	// Retention's deletions, API tokens and edited texts (retention.go,
	// apitoken.go, texts_settings.go).
	RetentionTx
	APITokenTx
	TextsTx
	CloseListsTx
}

// OrphanStatus is a delivery status callback that arrived before the hotline had
// recorded the SID of its message: Twilio may call back within milliseconds of
// accepting a text, before the dispatcher commits the SID it returned. It is kept
// until the SID is recorded, then applied, or pruned once it is old.
type OrphanStatus struct {
	Update     StatusUpdate // Update.SID is the key
	ReceivedAt time.Time
}

// ConversationFilter selects conversations. Zero fields match everything.
type ConversationFilter struct {
	States     []State
	AssigneeID ID
	ContactID  ID
	// Held matches only conversations under a legal hold (the store walks its
	// index of them).
	Held bool
	// After is a cursor: only conversations with a greater ID match.
	After ID
	// Limit stops the iteration after this many matches; zero means no limit.
	Limit int
}

// OutboxEntry is a text waiting to leave the hotline. It is written in the same
// transaction as the message it sends, and deleted once the message reaches a final
// status, so a crash can neither lose nor forget it.
type OutboxEntry struct {
	ID             ID // the message's ID: outbox order is creation order
	ConversationID ID // zero for texts that belong to no conversation (pages to responders)
	To             Address
	Body           string
	Status         Status // StatusQueued or StatusSending
	Attempts       int
	NextAttemptAt  time.Time
	// SendingSince is when the current attempt was committed as sending: after a
	// crash, entries still sending are reconciled with the provider before a retry.
	SendingSince time.Time
	LastError    string
	CreatedAt    time.Time
}

// OutboundText is what a Sender delivers.
type OutboundText struct {
	ID   ID // the outbox entry; senders may use it to make retries idempotent
	To   Address
	Body string
}

// SendReceipt is a provider's answer to an accepted text.
type SendReceipt struct {
	SID    string
	Status Status // StatusSent, or StatusQueued when the provider queued it
}

// Sender delivers outbound texts: the Twilio REST API or the built-in simulator.
// A failure is a *SendError that says whether it is worth retrying.
type Sender interface {
	Send(ctx context.Context, t OutboundText) (SendReceipt, error)
}

// SendError is a failed send.
type SendError struct {
	// Retryable failures (network, timeouts, 429, 5xx) are tried again later;
	// permanent ones (an opted-out or invalid number) end the text as failed.
	Retryable bool
	Code      int // the provider's error code, such as Twilio's 21610
	Message   string
}

// Error implements the error interface.
func (e *SendError) Error() string {
	return "send failed: " + e.Message
}

// Twilio error codes the domain reacts to.
const (
	TwilioErrorOptedOut = 21610 // the recipient replied STOP at the carrier
)

// Clock tells the time; tests inject a fake one.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ChangeKind says what changed.
type ChangeKind string

// Kinds of change.
const (
	ChangeMessage      ChangeKind = "message"      // a message was added to a thread
	ChangeStatus       ChangeKind = "status"       // an outbound message's delivery status moved
	ChangeConversation ChangeKind = "conversation" // a conversation's state, assignee or priority changed
	ChangeContact      ChangeKind = "contact"      // a contact opted out or in
	ChangeOutbox       ChangeKind = "outbox"       // a text was queued for sending
)

// Change is published after a transaction commits, for live consoles and workers.
// It names what changed, never its content.
type Change struct {
	Kind           ChangeKind
	ConversationID ID
	MessageID      ID
	AssigneeID     ID
	// FormerAssigneeID is the assignee before the change, when it changed: the
	// responder whose offer lapsed, or who handed the conversation on.
	FormerAssigneeID ID
	// UserID is the user of a ChangeUser.
	UserID ID
}

// Notifier receives changes after they commit. Publish must not block.
type Notifier interface {
	Publish(changes ...Change)
}

// NotifierFunc adapts a function to a Notifier.
type NotifierFunc func(changes ...Change)

// Publish calls f.
func (f NotifierFunc) Publish(changes ...Change) { f(changes...) }
