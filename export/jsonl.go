package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/hotlinehq/hotline/hotline"
)

// JSONL writes one conversation per line with its messages. It streams the messages
// array, so a long conversation is never held in memory.
type JSONL struct {
	w     *bufio.Writer
	meta  Meta
	first bool
}

// NewJSONL returns a JSON Lines encoder writing to w.
func NewJSONL(w io.Writer) *JSONL { return &JSONL{w: bufio.NewWriter(w)} }

// jsonConversation is the conversation part of a line.
type jsonConversation struct {
	ID          string   `json:"id"`
	State       string   `json:"state"`
	Handle      string   `json:"handle"`
	Texter      string   `json:"texter"`
	Language    string   `json:"language"`
	Priority    string   `json:"priority"`
	CreatedAt   string   `json:"created_at"`
	ClosedAt    *string  `json:"closed_at"`
	Disposition string   `json:"disposition,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Responders  []string `json:"responders,omitempty"` // display names, in the order they were assigned
	LegalHold   bool     `json:"legal_hold,omitempty"`
}

// jsonMessage is one element of a line's messages.
type jsonMessage struct {
	ID        string      `json:"id"`
	Direction string      `json:"direction"`
	Purpose   string      `json:"purpose,omitempty"`
	AuthorID  string      `json:"author_id,omitempty"`
	Author    string      `json:"author"` // "Texter", "Hotline" or the responder's display name
	Body      string      `json:"body"`
	Media     []jsonMedia `json:"media,omitempty"`
	TwilioSID string      `json:"twilio_sid"`
	Status    string      `json:"status"`
	ErrorCode int         `json:"error_code,omitempty"`
	CreatedAt string      `json:"created_at"`
}

// jsonMedia is one attachment of a message.
type jsonMedia struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

// Begin writes nothing: JSON Lines has no header.
func (e *JSONL) Begin(m Meta) error {
	e.meta = m
	return nil
}

// Conversation opens a line with the conversation's fields.
func (e *JSONL) Conversation(h Header) error {
	c := h.Conversation
	jc := jsonConversation{ID: c.ID.String(), State: string(c.State), Handle: c.Handle, Texter: h.Texter, Language: c.Language,
		Priority: string(c.Priority), CreatedAt: timestamp(c.CreatedAt), Disposition: c.Disposition, Tags: c.Tags,
		Responders: h.Responders, LegalHold: c.LegalHold}
	if !c.ClosedAt.IsZero() {
		s := timestamp(c.ClosedAt)
		jc.ClosedAt = &s
	}
	b, err := json.Marshal(jc)
	if err != nil {
		return err
	}
	// Reopen the object to append the messages array to it.
	e.w.Write(b[:len(b)-1])
	_, err = e.w.WriteString(`,"messages":[`)
	e.first = true
	return err
}

// Message appends a message to the line's array.
func (e *JSONL) Message(m hotline.Message) error {
	b, err := json.Marshal(jsonMessage{ID: m.ID.String(), Direction: string(m.Direction), Purpose: string(m.Purpose),
		AuthorID: idOrEmpty(m.AuthorID), Author: e.meta.Author(m), Body: m.Body, Media: mediaOf(m), TwilioSID: m.TwilioSID, Status: string(m.Status),
		ErrorCode: m.ErrorCode, CreatedAt: timestamp(m.CreatedAt)})
	if err != nil {
		return err
	}
	if !e.first {
		e.w.WriteByte(',')
	}
	e.first = false
	_, err = e.w.Write(b)
	return err
}

// EndConversation closes the line.
func (e *JSONL) EndConversation() error {
	_, err := e.w.WriteString("]}\n")
	return err
}

// End flushes the writer.
func (e *JSONL) End() error { return e.w.Flush() }

func mediaOf(m hotline.Message) []jsonMedia {
	if len(m.Media) == 0 {
		return nil
	}
	out := make([]jsonMedia, len(m.Media))
	for i, md := range m.Media {
		out[i] = jsonMedia{URL: md.URL, ContentType: md.ContentType}
	}
	return out
}
