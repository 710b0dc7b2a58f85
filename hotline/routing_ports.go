package hotline

import "time"

// RoutingReadTx is what routing reads from the store: the schedule, the open
// conversations per responder (an index, so that capacity is cheap to check) and
// the pages sent.
type RoutingReadTx interface {
	// Rotations calls fn for each weekly rotation, oldest first.
	Rotations(fn func(Rotation) error) error
	// Overrides calls fn for each override, oldest first.
	Overrides(fn func(Override) error) error
	// Closures calls fn for each closure, oldest first.
	Closures(fn func(Closure) error) error
	// Rotation, Override and Closure return one by ID, or ENOTFOUND.
	Rotation(id ID) (Rotation, error)
	Override(id ID) (Override, error)
	Closure(id ID) (Closure, error)

	// AssignedTo calls fn with the ID of each open conversation assigned to the user
	// (offered, taken or active), oldest first.
	AssignedTo(userID ID, fn func(conversationID ID) error) error
	// OpenCounts returns how many open conversations each user is assigned; users
	// with none are absent.
	OpenCounts() (map[ID]int, error)

	// LastPage returns the newest page sent to the user, and false when none was.
	LastPage(userID ID) (PageRecord, bool, error)
	// Pages calls fn for each page older than before (from the newest when before
	// is zero), newest first.
	Pages(before ID, fn func(PageRecord) error) error
}

// RoutingTx writes schedules and pages.
type RoutingTx interface {
	// PutRotation, PutOverride and PutClosure write one, replacing one with its ID.
	PutRotation(r Rotation) error
	PutOverride(o Override) error
	PutClosure(c Closure) error
	// DeleteRotation, DeleteOverride and DeleteClosure delete one, or fail with
	// ENOTFOUND.
	DeleteRotation(id ID) error
	DeleteOverride(id ID) error
	DeleteClosure(id ID) error
	// PutPage records a page; its ID is that of its outbox entry.
	PutPage(p PageRecord) error
}

// PageRecord is a page the hotline sent to a responder's or coordinator's own phone:
// kept for the audit of who was paged when, and to rate-limit pages per person. It
// holds no texter content and no phone number.
type PageRecord struct {
	ID             ID // the outbox entry's ID
	UserID         ID
	ConversationID ID // the conversation whose wait caused it
	Audience       PageAudience
	AfterHours     bool
	Waiting        int // texters waiting when it was sent
	Urgent         int // of which urgent
	Body           string
	CreatedAt      time.Time
}

// Kinds of change published by routing.
const (
	ChangeUser     ChangeKind = "user"     // a user's availability or capacity changed (Change.UserID)
	ChangeSchedule ChangeKind = "schedule" // a rotation, override or closure changed
)
