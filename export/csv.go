package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// csvHeader names the columns of a CSV export: one row per message.
// Columns after created_at were added later, at the end, so that scripts reading
// columns by position keep working.
var csvHeader = []string{"conversation_id", "handle", "texter", "conversation_state", "message_id", "direction",
	"purpose", "author_id", "body", "status", "error_code", "twilio_sid", "created_at",
	"author", "disposition", "tags"}

// CSV writes one row per message.
type CSV struct {
	w      *csv.Writer
	meta   Meta
	conv   hotline.Conversation
	texter string
	// The columns that are the same for every row of a conversation, as written.
	convID, disposition, tags string
	row                       []string
}

// NewCSV returns a CSV encoder writing to w.
func NewCSV(w io.Writer) *CSV {
	return &CSV{w: csv.NewWriter(w), row: make([]string, len(csvHeader))}
}

// Begin writes the header row.
func (e *CSV) Begin(m Meta) error {
	e.meta = m
	return e.w.Write(csvHeader)
}

// Conversation remembers the conversation its messages' rows belong to.
func (e *CSV) Conversation(h Header) error {
	e.conv, e.texter = h.Conversation, h.Texter
	e.convID = h.Conversation.ID.String()
	e.disposition = neutralizeFormula(h.Conversation.Disposition)
	e.tags = neutralizeFormula(strings.Join(h.Conversation.Tags, ";"))
	return nil
}

// Message writes one row.
func (e *CSV) Message(m hotline.Message) error {
	r := e.row
	r[0], r[1], r[2], r[3] = e.convID, e.conv.Handle, e.texter, string(e.conv.State)
	r[4], r[5], r[6], r[7] = m.ID.String(), string(m.Direction), string(m.Purpose), idOrEmpty(m.AuthorID)
	r[8], r[9], r[10], r[11], r[12] = neutralizeFormula(m.Body), string(m.Status), codeOrEmpty(m.ErrorCode), m.TwilioSID, timestamp(m.CreatedAt)
	r[13], r[14], r[15] = neutralizeFormula(e.meta.Author(m)), e.disposition, e.tags
	return e.w.Write(r)
}

// EndConversation does nothing: CSV rows stand alone.
func (e *CSV) EndConversation() error { return nil }

// End flushes the writer.
func (e *CSV) End() error {
	e.w.Flush()
	return e.w.Error()
}

// neutralizeFormula keeps spreadsheet programs from running a texter's "=HYPERLINK(…)"
// as a formula when a caseworker opens the export (CSV injection): such cells get a
// leading apostrophe, which spreadsheets show as text.
func neutralizeFormula(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func idOrEmpty(id hotline.ID) string {
	if hotline.IsZeroID(id) {
		return ""
	}
	return id.String()
}

func codeOrEmpty(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
