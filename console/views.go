package console

import (
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// The JSON shapes of the API. Times are RFC 3339 in UTC; a time or ID that is not
// set is null; lists are never null.

type userView struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Role         string    `json:"role"`
	Disabled     bool      `json:"disabled"`
	Languages    []string  `json:"languages"`
	Capacity     int       `json:"capacity"`
	Phone        *string   `json:"phone,omitempty"` // only to coordinators and the user themself
	Availability string    `json:"availability"`
	TOTPEnabled  bool      `json:"totp_enabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// viewUser shows u to viewer: the phone only to coordinators and to u themself.
func viewUser(u hotline.User, viewer hotline.User) userView {
	v := userView{ID: u.ID.String(), Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role),
		Disabled: u.Disabled, Languages: nonNil(u.Languages), Capacity: u.Capacity,
		Availability: string(u.Availability), TOTPEnabled: u.HasTOTP(),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
	if v.Availability == "" {
		v.Availability = string(hotline.AvailabilityOffline)
	}
	if viewer.IsCoordinator() || viewer.ID == u.ID {
		p := string(u.Phone)
		v.Phone = &p
	}
	return v
}

type conversationView struct {
	ID            string     `json:"id"`
	State         string     `json:"state"`
	Handle        string     `json:"handle"`
	Priority      string     `json:"priority"`
	Language      string     `json:"language"`
	AssigneeID    *string    `json:"assignee_id"`
	WaitingSince  *time.Time `json:"waiting_since"`
	TriageTerms   []string   `json:"triage_terms"`
	OptedOut      bool       `json:"opted_out"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastInboundAt *time.Time `json:"last_inbound_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	ClosedReason  string     `json:"closed_reason,omitempty"`
	Disposition   string     `json:"disposition,omitempty"`
	Tags          []string   `json:"tags"`
	// LegalHold exempts the conversation from retention (coordinators set it).
	LegalHold bool `json:"legal_hold"`

	// OfferExpiresAt is set while the conversation is offered to its assignee and
	// not yet accepted: when the offer lapses.
	OfferExpiresAt *time.Time `json:"offer_expires_at"`

	// View is "thread" when the caller may read the messages, "queue" when they see
	// only what the queue shows.
	View string `json:"view"`
}

func viewConversation(s hotline.ConversationSummary) conversationView {
	c := s.Conversation
	view := "queue"
	if s.Visibility == hotline.ThreadView {
		view = "thread"
	}
	return conversationView{ID: c.ID.String(), State: string(c.State), Handle: c.Handle, Priority: string(c.Priority),
		Language: c.Language, AssigneeID: optionalID(c.AssigneeID), WaitingSince: optionalTime(c.WaitingSince),
		TriageTerms: nonNil(c.TriageTerms), OptedOut: s.OptedOut, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		LastInboundAt: optionalTime(c.LastInboundAt), ClosedAt: optionalTime(c.ClosedAt), ClosedReason: c.ClosedReason,
		Disposition: c.Disposition, Tags: nonNil(c.Tags), View: view, OfferExpiresAt: optionalTime(c.OfferExpiresAt),
		LegalHold: c.LegalHold}
}

type mediaView struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

type messageView struct {
	ID           string      `json:"id"`
	Direction    string      `json:"direction"`
	Body         string      `json:"body"`
	Media        []mediaView `json:"media"`
	Status       string      `json:"status"`
	ErrorCode    int         `json:"error_code"`
	ErrorMessage string      `json:"error_message"`
	AuthorID     *string     `json:"author_id"`
	TargetID     *string     `json:"target_id"`
	Purpose      string      `json:"purpose"`
	Segments     int         `json:"segments"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

func viewMessage(m hotline.Message) messageView {
	v := messageView{ID: m.ID.String(), Direction: string(m.Direction), Body: m.Body, Media: []mediaView{},
		Status: string(m.Status), ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage, AuthorID: optionalID(m.AuthorID),
		TargetID: optionalID(m.TargetID), Purpose: string(m.Purpose), Segments: m.Segments, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
	for _, md := range m.Media {
		v.Media = append(v.Media, mediaView{URL: md.URL, ContentType: md.ContentType})
	}
	return v
}

type auditView struct {
	ID            string            `json:"id"`
	At            time.Time         `json:"at"`
	ActorID       *string           `json:"actor_id"`
	ActorUsername string            `json:"actor_username"`
	Action        string            `json:"action"`
	TargetType    string            `json:"target_type"`
	TargetID      string            `json:"target_id"`
	Detail        map[string]string `json:"detail"`
	RemoteAddr    string            `json:"remote_addr"`
}

func viewAudit(e hotline.AuditEntry) auditView {
	d := e.Detail
	if d == nil {
		d = map[string]string{}
	}
	return auditView{ID: e.ID.String(), At: e.At.UTC(), ActorID: optionalID(e.ActorID), ActorUsername: e.ActorUsername,
		Action: string(e.Action), TargetType: e.TargetType, TargetID: e.TargetID, Detail: d, RemoteAddr: e.RemoteAddr}
}

func optionalID(id hotline.ID) *string {
	if hotline.IsZeroID(id) {
		return nil
	}
	s := id.String()
	return &s
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
