package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// Records are how the domain types are written to disk: JSON objects with short field
// names, a version "v", and times as Unix nanoseconds (0 for the zero time). They are
// private to this package so that the domain can change without rewriting the file;
// a change of shape bumps the record's version and teaches decode the old ones.
// Record keys (IDs) are not repeated inside values when the key holds them.
//
// JSON was measured against the export target of 200,000 messages a second on two
// cores: decoding a message record costs about 2.6µs of CPU (BenchmarkDecodeMessage),
// and walking threads with Messages reaches about 310,000–330,000 messages per CPU
// second (BenchmarkExportScan), so about three times the target on two cores. A
// binary encoding would be faster still but opaque to an operator with bbolt's CLI;
// the version field leaves room to switch should the target grow.

const (
	contactRecordVersion      = 1
	conversationRecordVersion = 1
	messageRecordVersion      = 1
	outboxRecordVersion       = 1
)

type contactRecord struct {
	V               int             `json:"v"`
	ID              hotline.ID      `json:"id"`
	Address         hotline.Address `json:"addr"`
	Handle          string          `json:"handle,omitempty"`
	OptedOut        bool            `json:"opted_out,omitempty"`
	OptedOutAt      int64           `json:"opted_out_at,omitempty"`
	Language        string          `json:"lang,omitempty"`
	FirstSeen       int64           `json:"first_seen,omitempty"`
	LastSeen        int64           `json:"last_seen,omitempty"`
	AutoReplyWindow int64           `json:"auto_reply_window,omitempty"`
	AutoReplies     int             `json:"auto_replies,omitempty"`
}

type conversationRecord struct {
	V               int              `json:"v"`
	ID              hotline.ID       `json:"id"`
	ContactID       hotline.ID       `json:"contact"`
	Handle          string           `json:"handle,omitempty"`
	State           hotline.State    `json:"state"`
	Priority        hotline.Priority `json:"priority,omitempty"`
	TriageTerms     []string         `json:"triage,omitempty"`
	Language        string           `json:"lang,omitempty"`
	AssigneeID      hotline.ID       `json:"assignee,omitzero"`
	Responders      []hotline.ID     `json:"responders,omitempty"`
	CreatedAt       int64            `json:"created,omitempty"`
	UpdatedAt       int64            `json:"updated,omitempty"`
	WaitingSince    int64            `json:"waiting_since,omitempty"`
	LastInboundAt   int64            `json:"last_inbound,omitempty"`
	FirstResponseAt int64            `json:"first_response,omitempty"`
	ClosedAt        int64            `json:"closed,omitempty"`
	InactiveAt      int64            `json:"inactive_at,omitempty"`
	OfferExpires    int64            `json:"offer_expires,omitempty"`
	Passed          []hotline.ID     `json:"passed,omitempty"`
	EscalateAt      int64            `json:"escalate_at,omitempty"`
	Escalation      int              `json:"escalation,omitempty"`
	FallbackAt      int64            `json:"fallback_at,omitempty"`
	AfterHoursSent  bool             `json:"after_hours_sent,omitempty"`
	ClosedReason    string           `json:"closed_reason,omitempty"`
	Disposition     string           `json:"disposition,omitempty"`
	Tags            []string         `json:"tags,omitempty"`
	LegalHold       bool             `json:"hold,omitempty"`
}

type mediaRecord struct {
	URL         string `json:"url"`
	ContentType string `json:"type,omitempty"`
}

// messageRecord is stored under conversationID ‖ messageID, so holds neither.
type messageRecord struct {
	V            int               `json:"v"`
	Direction    hotline.Direction `json:"dir"`
	Body         string            `json:"body,omitempty"`
	Media        []mediaRecord     `json:"media,omitempty"`
	Purpose      hotline.Purpose   `json:"purpose,omitempty"`
	AuthorID     hotline.ID        `json:"author,omitzero"`
	TargetID     hotline.ID        `json:"target,omitzero"`
	TwilioSID    string            `json:"sid,omitempty"`
	Segments     int               `json:"segments,omitempty"`
	Status       hotline.Status    `json:"status,omitempty"`
	ErrorCode    int               `json:"error_code,omitempty"`
	ErrorMessage string            `json:"error_message,omitempty"`
	CreatedAt    int64             `json:"created,omitempty"`
	UpdatedAt    int64             `json:"updated,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// outboxRecord is stored under its ID.
type outboxRecord struct {
	V              int             `json:"v"`
	ConversationID hotline.ID      `json:"conversation,omitzero"`
	To             hotline.Address `json:"to"`
	Body           string          `json:"body,omitempty"`
	Status         hotline.Status  `json:"status,omitempty"`
	Attempts       int             `json:"attempts,omitempty"`
	NextAttemptAt  int64           `json:"next_attempt,omitempty"`
	SendingSince   int64           `json:"sending_since,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      int64           `json:"created,omitempty"`
}

// nanos encodes a time for a record: 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes a record time, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func encodeContact(c hotline.Contact) ([]byte, error) {
	return json.Marshal(contactRecord{
		V: contactRecordVersion, ID: c.ID, Address: c.Address, Handle: c.Handle,
		OptedOut: c.OptedOut, OptedOutAt: nanos(c.OptedOutAt), Language: c.Language,
		FirstSeen: nanos(c.FirstSeen), LastSeen: nanos(c.LastSeen),
		AutoReplyWindow: nanos(c.AutoReplyWindow), AutoReplies: c.AutoReplies,
	})
}

func decodeContact(b []byte) (hotline.Contact, error) {
	var r contactRecord
	if err := unmarshal("contact", b, &r, contactRecordVersion); err != nil {
		return hotline.Contact{}, err
	}
	return hotline.Contact{
		ID: r.ID, Address: r.Address, Handle: r.Handle,
		OptedOut: r.OptedOut, OptedOutAt: fromNanos(r.OptedOutAt), Language: r.Language,
		FirstSeen: fromNanos(r.FirstSeen), LastSeen: fromNanos(r.LastSeen),
		AutoReplyWindow: fromNanos(r.AutoReplyWindow), AutoReplies: r.AutoReplies,
	}, nil
}

func encodeConversation(c hotline.Conversation) ([]byte, error) {
	return json.Marshal(conversationRecord{
		V: conversationRecordVersion, ID: c.ID, ContactID: c.ContactID, Handle: c.Handle,
		State: c.State, Priority: c.Priority, TriageTerms: c.TriageTerms, Language: c.Language,
		AssigneeID: c.AssigneeID, Responders: c.Responders,
		CreatedAt: nanos(c.CreatedAt), UpdatedAt: nanos(c.UpdatedAt), WaitingSince: nanos(c.WaitingSince),
		LastInboundAt: nanos(c.LastInboundAt), FirstResponseAt: nanos(c.FirstResponseAt),
		ClosedAt: nanos(c.ClosedAt), InactiveAt: nanos(c.InactiveAt),
		OfferExpires: nanos(c.OfferExpiresAt), Passed: c.Passed, EscalateAt: nanos(c.EscalateAt), Escalation: c.Escalation,
		FallbackAt: nanos(c.FallbackAt), AfterHoursSent: c.AfterHoursSent,
		ClosedReason: c.ClosedReason, Disposition: c.Disposition, Tags: c.Tags, LegalHold: c.LegalHold,
	})
}

func decodeConversation(b []byte) (hotline.Conversation, error) {
	var r conversationRecord
	if err := unmarshal("conversation", b, &r, conversationRecordVersion); err != nil {
		return hotline.Conversation{}, err
	}
	return hotline.Conversation{
		ID: r.ID, ContactID: r.ContactID, Handle: r.Handle,
		State: r.State, Priority: r.Priority, TriageTerms: r.TriageTerms, Language: r.Language,
		AssigneeID: r.AssigneeID, Responders: r.Responders,
		CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt), WaitingSince: fromNanos(r.WaitingSince),
		LastInboundAt: fromNanos(r.LastInboundAt), FirstResponseAt: fromNanos(r.FirstResponseAt),
		ClosedAt: fromNanos(r.ClosedAt), InactiveAt: fromNanos(r.InactiveAt),
		OfferExpiresAt: fromNanos(r.OfferExpires), Passed: r.Passed, EscalateAt: fromNanos(r.EscalateAt), Escalation: r.Escalation,
		FallbackAt: fromNanos(r.FallbackAt), AfterHoursSent: r.AfterHoursSent,
		ClosedReason: r.ClosedReason, Disposition: r.Disposition, Tags: r.Tags, LegalHold: r.LegalHold,
	}, nil
}

func encodeMessage(m hotline.Message) ([]byte, error) {
	r := messageRecord{
		V: messageRecordVersion, Direction: m.Direction, Body: m.Body, Purpose: m.Purpose,
		AuthorID: m.AuthorID, TargetID: m.TargetID, TwilioSID: m.TwilioSID, Segments: m.Segments, Status: m.Status,
		ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage,
		CreatedAt: nanos(m.CreatedAt), UpdatedAt: nanos(m.UpdatedAt), Extra: m.Extra,
	}
	if len(m.Media) > 0 {
		r.Media = make([]mediaRecord, len(m.Media))
		for i, md := range m.Media {
			r.Media[i] = mediaRecord{URL: md.URL, ContentType: md.ContentType}
		}
	}
	return json.Marshal(r)
}

// decodeMessage decodes the message stored under key (conversationID ‖ messageID).
func decodeMessage(key, b []byte) (hotline.Message, error) {
	var r messageRecord
	if err := unmarshal("message", b, &r, messageRecordVersion); err != nil {
		return hotline.Message{}, err
	}
	m := hotline.Message{
		ID: idFrom(key, idLen), ConversationID: idFrom(key, 0),
		Direction: r.Direction, Body: r.Body, Purpose: r.Purpose,
		AuthorID: r.AuthorID, TargetID: r.TargetID, TwilioSID: r.TwilioSID, Segments: r.Segments, Status: r.Status,
		ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt), Extra: r.Extra,
	}
	if len(r.Media) > 0 {
		m.Media = make([]hotline.Media, len(r.Media))
		for i, md := range r.Media {
			m.Media[i] = hotline.Media{URL: md.URL, ContentType: md.ContentType}
		}
	}
	return m, nil
}

func encodeOutbox(e hotline.OutboxEntry) ([]byte, error) {
	return json.Marshal(outboxRecord{
		V: outboxRecordVersion, ConversationID: e.ConversationID, To: e.To, Body: e.Body,
		Status: e.Status, Attempts: e.Attempts, NextAttemptAt: nanos(e.NextAttemptAt),
		SendingSince: nanos(e.SendingSince), LastError: e.LastError, CreatedAt: nanos(e.CreatedAt),
	})
}

// decodeOutbox decodes the outbox entry stored under key (its ID).
func decodeOutbox(key, b []byte) (hotline.OutboxEntry, error) {
	var r outboxRecord
	if err := unmarshal("outbox entry", b, &r, outboxRecordVersion); err != nil {
		return hotline.OutboxEntry{}, err
	}
	return hotline.OutboxEntry{
		ID: idFrom(key, 0), ConversationID: r.ConversationID, To: r.To, Body: r.Body,
		Status: r.Status, Attempts: r.Attempts, NextAttemptAt: fromNanos(r.NextAttemptAt),
		SendingSince: fromNanos(r.SendingSince), LastError: r.LastError, CreatedAt: fromNanos(r.CreatedAt),
	}, nil
}

// unmarshal decodes a record and checks its version. The error never quotes the
// record, which may hold a message body.
func unmarshal(kind string, b []byte, r interface{ version() int }, known int) error {
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("decode %s record (%d bytes): %w", kind, len(b), jsonErrorWithoutContent(err))
	}
	if v := r.version(); v < 1 || v > known {
		return fmt.Errorf("decode %s record: version %d, this binary knows 1 to %d", kind, v, known)
	}
	return nil
}

func (r *contactRecord) version() int      { return r.V }
func (r *conversationRecord) version() int { return r.V }
func (r *messageRecord) version() int      { return r.V }
func (r *outboxRecord) version() int       { return r.V }

// jsonErrorWithoutContent keeps a JSON error's kind and offset but drops any quoted
// value, which could be part of a message body.
func jsonErrorWithoutContent(err error) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Errorf("syntax error at offset %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Errorf("field %q: cannot decode a JSON %s at offset %d", e.Field, e.Value, e.Offset)
	}
	return fmt.Errorf("malformed record")
}
