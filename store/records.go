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
//
// The records an inbound text writes are encoded by hand (recordjson.go), to the very
// bytes json.Marshal writes: a field added here must be added there.

// Records of what texters wrote or where they write from have a sealed form (an
// encrypted store, sealed.go): the fields marked "sealed" move into "sealed", an
// AES-256-GCM ciphertext under the conversation's or the contact's data key. The
// plain form (a store without a master key) keeps them in the record itself.
// Version 2 of these records added the sealed form and the hash chain's fields.
const (
	contactRecordVersion      = 2
	conversationRecordVersion = 2
	messageRecordVersion      = 2
	outboxRecordVersion       = 2
)

type contactRecord struct {
	V               int             `json:"v"`
	ID              hotline.ID      `json:"id"`
	Address         hotline.Address `json:"addr,omitempty"` // sealed
	Handle          string          `json:"handle,omitempty"`
	OptedOut        bool            `json:"opted_out,omitempty"`
	OptedOutAt      int64           `json:"opted_out_at,omitempty"`
	Language        string          `json:"lang,omitempty"`
	FirstSeen       int64           `json:"first_seen,omitempty"`
	LastSeen        int64           `json:"last_seen,omitempty"`
	AutoReplyWindow int64           `json:"auto_reply_window,omitempty"`
	AutoReplies     int             `json:"auto_replies,omitempty"`
	Sealed          []byte          `json:"sealed,omitempty"`
}

type conversationRecord struct {
	V               int              `json:"v"`
	ID              hotline.ID       `json:"id"`
	ContactID       hotline.ID       `json:"contact"`
	Handle          string           `json:"handle,omitempty"`
	State           hotline.State    `json:"state"`
	Priority        hotline.Priority `json:"priority,omitempty"`
	TriageTerms     []string         `json:"triage,omitempty"` // sealed: the risk terms the texter wrote
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
	Sealed          []byte           `json:"sealed,omitempty"`
}

type mediaRecord struct {
	URL         string `json:"url"`
	ContentType string `json:"type,omitempty"`
}

// webhookRecord is the inbound webhook kept as evidence (hotline.Webhook).
type webhookRecord struct {
	URL       string              `json:"url"`
	Signature string              `json:"sig,omitempty"`
	Params    map[string][]string `json:"params,omitempty"`
}

// messageRecord is stored under conversationID ‖ messageID, so holds neither. Seq,
// prev and hash place it in its conversation's chain (hotline/chain.go); the
// nonce is part of its chained content, so it is sealed with the body.
type messageRecord struct {
	V            int               `json:"v"`
	Direction    hotline.Direction `json:"dir"`
	Body         string            `json:"body,omitempty"`  // sealed
	Media        []mediaRecord     `json:"media,omitempty"` // sealed
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
	Extra        map[string]string `json:"extra,omitempty"`   // sealed
	Webhook      *webhookRecord    `json:"webhook,omitempty"` // sealed
	Nonce        []byte            `json:"nonce,omitempty"`   // sealed
	Seq          uint64            `json:"seq,omitempty"`
	Prev         string            `json:"prev,omitempty"` // hex
	Hash         string            `json:"hash,omitempty"` // hex
	// Written holds the delivery fields as the message was written, once a status
	// change made them differ (the chain covers those).
	Written *deliveryRecord `json:"written,omitempty"`
	Sealed  []byte          `json:"sealed,omitempty"`
}

// deliveryRecord is hotline.Delivery.
type deliveryRecord struct {
	Status       hotline.Status `json:"status,omitempty"`
	SID          string         `json:"sid,omitempty"`
	ErrorCode    int            `json:"error_code,omitempty"`
	ErrorMessage string         `json:"error_message,omitempty"`
}

// outboxRecord is stored under its ID.
type outboxRecord struct {
	V              int             `json:"v"`
	ConversationID hotline.ID      `json:"conversation,omitzero"`
	To             hotline.Address `json:"to,omitempty"`   // sealed when the entry has a conversation
	Body           string          `json:"body,omitempty"` // sealed when the entry has a conversation
	Status         hotline.Status  `json:"status,omitempty"`
	Attempts       int             `json:"attempts,omitempty"`
	NextAttemptAt  int64           `json:"next_attempt,omitempty"`
	SendingSince   int64           `json:"sending_since,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      int64           `json:"created,omitempty"`
	Sealed         []byte          `json:"sealed,omitempty"`
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

// errSealed refuses to decode a sealed record without the store's keys.
func errSealed(kind string) error {
	return fmt.Errorf("decode %s record: it is encrypted; read it through a store opened with its master key", kind)
}

func contactToRecord(c hotline.Contact) contactRecord {
	return contactRecord{
		V: contactRecordVersion, ID: c.ID, Address: c.Address, Handle: c.Handle,
		OptedOut: c.OptedOut, OptedOutAt: nanos(c.OptedOutAt), Language: c.Language,
		FirstSeen: nanos(c.FirstSeen), LastSeen: nanos(c.LastSeen),
		AutoReplyWindow: nanos(c.AutoReplyWindow), AutoReplies: c.AutoReplies,
	}
}

func contactFromRecord(r contactRecord) hotline.Contact {
	return hotline.Contact{
		ID: r.ID, Address: r.Address, Handle: r.Handle,
		OptedOut: r.OptedOut, OptedOutAt: fromNanos(r.OptedOutAt), Language: r.Language,
		FirstSeen: fromNanos(r.FirstSeen), LastSeen: fromNanos(r.LastSeen),
		AutoReplyWindow: fromNanos(r.AutoReplyWindow), AutoReplies: r.AutoReplies,
	}
}

func conversationToRecord(c hotline.Conversation) conversationRecord {
	return conversationRecord{
		V: conversationRecordVersion, ID: c.ID, ContactID: c.ContactID, Handle: c.Handle,
		State: c.State, Priority: c.Priority, TriageTerms: c.TriageTerms, Language: c.Language,
		AssigneeID: c.AssigneeID, Responders: c.Responders,
		CreatedAt: nanos(c.CreatedAt), UpdatedAt: nanos(c.UpdatedAt), WaitingSince: nanos(c.WaitingSince),
		LastInboundAt: nanos(c.LastInboundAt), FirstResponseAt: nanos(c.FirstResponseAt),
		ClosedAt: nanos(c.ClosedAt), InactiveAt: nanos(c.InactiveAt),
		OfferExpires: nanos(c.OfferExpiresAt), Passed: c.Passed, EscalateAt: nanos(c.EscalateAt), Escalation: c.Escalation,
		FallbackAt: nanos(c.FallbackAt), AfterHoursSent: c.AfterHoursSent,
		ClosedReason: c.ClosedReason, Disposition: c.Disposition, Tags: c.Tags, LegalHold: c.LegalHold,
	}
}

func conversationFromRecord(r conversationRecord) hotline.Conversation {
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
	}
}

// encodeConversation writes the plain form of a conversation record.
func encodeConversation(c hotline.Conversation) ([]byte, error) {
	r := conversationToRecord(c)
	return marshalRecord(&r), nil
}

// decodeConversation reads the plain form of a conversation record. The sealed
// fields of a sealed record stay empty: the callers that read records without keys
// (migrations) need none of them.
func decodeConversation(b []byte) (hotline.Conversation, error) {
	var r conversationRecord
	if err := unmarshal("conversation", b, &r, conversationRecordVersion); err != nil {
		return hotline.Conversation{}, err
	}
	return conversationFromRecord(r), nil
}

func messageToRecord(m hotline.Message) messageRecord {
	r := messageRecord{
		V: messageRecordVersion, Direction: m.Direction, Body: m.Body, Purpose: m.Purpose,
		AuthorID: m.AuthorID, TargetID: m.TargetID, TwilioSID: m.TwilioSID, Segments: m.Segments, Status: m.Status,
		ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage,
		CreatedAt: nanos(m.CreatedAt), UpdatedAt: nanos(m.UpdatedAt), Extra: m.Extra,
		Nonce: m.Chain.Nonce, Seq: m.Chain.Seq,
	}
	if m.Chain.Seq > 0 {
		r.Prev, r.Hash = m.Chain.Prev.String(), m.Chain.Hash.String()
	}
	if w := m.Chain.Written; w != nil {
		r.Written = &deliveryRecord{Status: w.Status, SID: w.SID, ErrorCode: w.ErrorCode, ErrorMessage: w.ErrorMessage}
	}
	if len(m.Media) > 0 {
		r.Media = make([]mediaRecord, len(m.Media))
		for i, md := range m.Media {
			r.Media[i] = mediaRecord{URL: md.URL, ContentType: md.ContentType}
		}
	}
	if w := m.Webhook; w != nil {
		r.Webhook = &webhookRecord{URL: w.URL, Signature: w.Signature, Params: w.Params}
	}
	return r
}

// messageFromRecord decodes the record stored under key (conversationID ‖ messageID).
func messageFromRecord(key []byte, r messageRecord) (hotline.Message, error) {
	m := hotline.Message{
		ID: idFrom(key, idLen), ConversationID: idFrom(key, 0),
		Direction: r.Direction, Body: r.Body, Purpose: r.Purpose,
		AuthorID: r.AuthorID, TargetID: r.TargetID, TwilioSID: r.TwilioSID, Segments: r.Segments, Status: r.Status,
		ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt), Extra: r.Extra,
		Chain: hotline.ChainLink{Seq: r.Seq, Nonce: r.Nonce},
	}
	if r.Seq > 0 {
		var err error
		if r.Seq > 1 {
			if m.Chain.Prev, err = hotline.ParseDigest(r.Prev); err != nil {
				return m, fmt.Errorf("decode message record: prev: malformed hash")
			}
		}
		if m.Chain.Hash, err = hotline.ParseDigest(r.Hash); err != nil {
			return m, fmt.Errorf("decode message record: hash: malformed hash")
		}
	}
	if w := r.Written; w != nil {
		m.Chain.Written = &hotline.Delivery{Status: w.Status, SID: w.SID, ErrorCode: w.ErrorCode, ErrorMessage: w.ErrorMessage}
	}
	if len(r.Media) > 0 {
		m.Media = make([]hotline.Media, len(r.Media))
		for i, md := range r.Media {
			m.Media[i] = hotline.Media{URL: md.URL, ContentType: md.ContentType}
		}
	}
	if w := r.Webhook; w != nil {
		m.Webhook = &hotline.Webhook{URL: w.URL, Signature: w.Signature, Params: w.Params}
	}
	return m, nil
}

// encodeMessage writes the plain form of a message record.
func encodeMessage(m hotline.Message) ([]byte, error) {
	r := messageToRecord(m)
	return marshalRecord(&r), nil
}

// decodeMessage decodes the plain form of the message stored under key
// (conversationID ‖ messageID).
func decodeMessage(key, b []byte) (hotline.Message, error) {
	var r messageRecord
	if err := unmarshal("message", b, &r, messageRecordVersion); err != nil {
		return hotline.Message{}, err
	} else if r.Sealed != nil {
		return hotline.Message{}, errSealed("message")
	}
	return messageFromRecord(key, r)
}

func outboxToRecord(e hotline.OutboxEntry) outboxRecord {
	return outboxRecord{
		V: outboxRecordVersion, ConversationID: e.ConversationID, To: e.To, Body: e.Body,
		Status: e.Status, Attempts: e.Attempts, NextAttemptAt: nanos(e.NextAttemptAt),
		SendingSince: nanos(e.SendingSince), LastError: e.LastError, CreatedAt: nanos(e.CreatedAt),
	}
}

func outboxFromRecord(key []byte, r outboxRecord) hotline.OutboxEntry {
	return hotline.OutboxEntry{
		ID: idFrom(key, 0), ConversationID: r.ConversationID, To: r.To, Body: r.Body,
		Status: r.Status, Attempts: r.Attempts, NextAttemptAt: fromNanos(r.NextAttemptAt),
		SendingSince: fromNanos(r.SendingSince), LastError: r.LastError, CreatedAt: fromNanos(r.CreatedAt),
	}
}

// encodeOutbox writes the plain form of an outbox entry record.
func encodeOutbox(e hotline.OutboxEntry) ([]byte, error) {
	r := outboxToRecord(e)
	return marshalRecord(&r), nil
}

// decodeOutbox decodes the plain form of the outbox entry stored under key (its ID).
// The sealed fields of a sealed record stay empty.
func decodeOutbox(key, b []byte) (hotline.OutboxEntry, error) {
	var r outboxRecord
	if err := unmarshal("outbox entry", b, &r, outboxRecordVersion); err != nil {
		return hotline.OutboxEntry{}, err
	}
	return outboxFromRecord(key, r), nil
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
