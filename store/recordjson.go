package store

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/hotlinehq/hotline/hotline"
)

// Hand-written JSON encoders of the records every inbound text writes (records.go,
// sealed.go). They write exactly the bytes encoding/json's Marshal writes for the
// same record (recordjson_test.go checks it, fuzzed), so the file format does not
// change; they only skip reflection, which cost about a fifth of an inbound text's
// work under the store's write lock. A field added to one of these records must be
// added here too: the test compares every field.

// jsonObject appends the members of one JSON object.
type jsonObject struct {
	b    []byte
	more bool
}

func openObject(b []byte) jsonObject { return jsonObject{b: append(b, '{')} }

func (o *jsonObject) close() []byte { return append(o.b, '}') }

// key starts the member named k (a plain ASCII name that needs no escaping).
func (o *jsonObject) key(k string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(k, v string) { o.key(k); o.b = appendJSONString(o.b, v) }

func (o *jsonObject) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *jsonObject) int(k string, v int64) { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }

func (o *jsonObject) intOmit(k string, v int64) {
	if v != 0 {
		o.int(k, v)
	}
}

func (o *jsonObject) uintOmit(k string, v uint64) {
	if v != 0 {
		o.key(k)
		o.b = strconv.AppendUint(o.b, v, 10)
	}
}

func (o *jsonObject) trueOmit(k string, v bool) {
	if v {
		o.key(k)
		o.b = append(o.b, "true"...)
	}
}

func (o *jsonObject) id(k string, id hotline.ID) { o.key(k); o.b = appendJSONID(o.b, id) }

func (o *jsonObject) idOmitZero(k string, id hotline.ID) {
	if !hotline.IsZeroID(id) {
		o.id(k, id)
	}
}

func (o *jsonObject) bytesOmit(k string, v []byte) {
	if len(v) > 0 {
		o.key(k)
		o.b = append(o.b, '"')
		o.b = base64.StdEncoding.AppendEncode(o.b, v)
		o.b = append(o.b, '"')
	}
}

func (o *jsonObject) strsOmit(k string, v []string) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = appendJSONStrings(o.b, v)
}

func (o *jsonObject) idsOmit(k string, v []hotline.ID) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, id := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONID(o.b, id)
	}
	o.b = append(o.b, ']')
}

func (o *jsonObject) mediaOmit(k string, v []mediaRecord) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, m := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		mo := openObject(o.b)
		mo.str("url", m.URL)
		mo.strOmit("type", m.ContentType)
		o.b = mo.close()
	}
	o.b = append(o.b, ']')
}

// stringMapOmit writes a map[string]string as encoding/json does: keys sorted.
func (o *jsonObject) stringMapOmit(k string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '{')
	var buf [32]string
	for i, name := range sortedKeys(buf[:0], m) {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(appendJSONString(o.b, name), ':')
		o.b = appendJSONString(o.b, m[name])
	}
	o.b = append(o.b, '}')
}

func (o *jsonObject) webhookOmit(k string, w *webhookRecord) {
	if w == nil {
		return
	}
	o.key(k)
	wo := openObject(o.b)
	wo.str("url", w.URL)
	wo.strOmit("sig", w.Signature)
	if len(w.Params) > 0 {
		wo.key("params")
		wo.b = append(wo.b, '{')
		var buf [32]string
		for i, name := range sortedKeys(buf[:0], w.Params) {
			if i > 0 {
				wo.b = append(wo.b, ',')
			}
			wo.b = append(appendJSONString(wo.b, name), ':')
			if vs := w.Params[name]; vs == nil {
				wo.b = append(wo.b, "null"...)
			} else {
				wo.b = appendJSONStrings(wo.b, vs)
			}
		}
		wo.b = append(wo.b, '}')
	}
	o.b = wo.close()
}

// sortedKeys appends m's keys to keys, sorted.
func sortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendJSONStrings(b []byte, v []string) []byte {
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONID writes an ID as its text form, as its MarshalText does.
func appendJSONID(b []byte, id hotline.ID) []byte {
	b = append(b, '"')
	var text [26]byte
	_ = id.MarshalTextTo(text[:])
	b = append(b, text[:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as encoding/json does, HTML-safe: <, > and & escaped,
// control characters escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
// (After encoding/json's appendString.)
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (r *contactRecord) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.int("v", int64(r.V))
	o.id("id", r.ID)
	o.strOmit("addr", string(r.Address))
	o.strOmit("handle", r.Handle)
	o.trueOmit("opted_out", r.OptedOut)
	o.intOmit("opted_out_at", r.OptedOutAt)
	o.strOmit("lang", r.Language)
	o.intOmit("first_seen", r.FirstSeen)
	o.intOmit("last_seen", r.LastSeen)
	o.intOmit("auto_reply_window", r.AutoReplyWindow)
	o.intOmit("auto_replies", int64(r.AutoReplies))
	o.bytesOmit("sealed", r.Sealed)
	return o.close()
}

func (r *conversationRecord) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.int("v", int64(r.V))
	o.id("id", r.ID)
	o.id("contact", r.ContactID)
	o.strOmit("handle", r.Handle)
	o.str("state", string(r.State))
	o.strOmit("priority", string(r.Priority))
	o.strsOmit("triage", r.TriageTerms)
	o.strOmit("lang", r.Language)
	o.idOmitZero("assignee", r.AssigneeID)
	o.idsOmit("responders", r.Responders)
	o.intOmit("created", r.CreatedAt)
	o.intOmit("updated", r.UpdatedAt)
	o.intOmit("waiting_since", r.WaitingSince)
	o.intOmit("last_inbound", r.LastInboundAt)
	o.intOmit("first_response", r.FirstResponseAt)
	o.intOmit("closed", r.ClosedAt)
	o.intOmit("inactive_at", r.InactiveAt)
	o.intOmit("offer_expires", r.OfferExpires)
	o.idsOmit("passed", r.Passed)
	o.intOmit("escalate_at", r.EscalateAt)
	o.intOmit("escalation", int64(r.Escalation))
	o.intOmit("fallback_at", r.FallbackAt)
	o.trueOmit("after_hours_sent", r.AfterHoursSent)
	o.strOmit("closed_reason", r.ClosedReason)
	o.strOmit("disposition", r.Disposition)
	o.strsOmit("tags", r.Tags)
	o.trueOmit("hold", r.LegalHold)
	o.bytesOmit("sealed", r.Sealed)
	return o.close()
}

func (r *messageRecord) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.int("v", int64(r.V))
	o.str("dir", string(r.Direction))
	o.strOmit("body", r.Body)
	o.mediaOmit("media", r.Media)
	o.strOmit("purpose", string(r.Purpose))
	o.idOmitZero("author", r.AuthorID)
	o.idOmitZero("target", r.TargetID)
	o.strOmit("sid", r.TwilioSID)
	o.intOmit("segments", int64(r.Segments))
	o.strOmit("status", string(r.Status))
	o.intOmit("error_code", int64(r.ErrorCode))
	o.strOmit("error_message", r.ErrorMessage)
	o.intOmit("created", r.CreatedAt)
	o.intOmit("updated", r.UpdatedAt)
	o.stringMapOmit("extra", r.Extra)
	o.webhookOmit("webhook", r.Webhook)
	o.bytesOmit("nonce", r.Nonce)
	o.uintOmit("seq", r.Seq)
	o.strOmit("prev", r.Prev)
	o.strOmit("hash", r.Hash)
	if w := r.Written; w != nil {
		o.key("written")
		wo := openObject(o.b)
		wo.strOmit("status", string(w.Status))
		wo.strOmit("sid", w.SID)
		wo.intOmit("error_code", int64(w.ErrorCode))
		wo.strOmit("error_message", w.ErrorMessage)
		o.b = wo.close()
	}
	o.bytesOmit("sealed", r.Sealed)
	return o.close()
}

func (r *outboxRecord) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.int("v", int64(r.V))
	o.idOmitZero("conversation", r.ConversationID)
	o.strOmit("to", string(r.To))
	o.strOmit("body", r.Body)
	o.strOmit("status", string(r.Status))
	o.intOmit("attempts", int64(r.Attempts))
	o.intOmit("next_attempt", r.NextAttemptAt)
	o.intOmit("sending_since", r.SendingSince)
	o.strOmit("last_error", r.LastError)
	o.intOmit("created", r.CreatedAt)
	o.bytesOmit("sealed", r.Sealed)
	return o.close()
}

func (r *sealedContact) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.str("addr", string(r.Address))
	return o.close()
}

func (r *sealedConversation) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.strsOmit("triage", r.TriageTerms)
	return o.close()
}

func (r *sealedMessage) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.strOmit("body", r.Body)
	o.mediaOmit("media", r.Media)
	o.stringMapOmit("extra", r.Extra)
	o.webhookOmit("webhook", r.Webhook)
	o.bytesOmit("nonce", r.Nonce)
	return o.close()
}

func (r *sealedOutbox) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.str("to", string(r.To))
	o.strOmit("body", r.Body)
	return o.close()
}

// jsonAppender is a record with a hand-written encoder.
type jsonAppender interface{ appendJSON([]byte) []byte }

// marshalRecord encodes a record, as json.Marshal would.
func marshalRecord(r jsonAppender) []byte {
	buf := encodeBuffers.Get().(*[]byte)
	b := r.appendJSON((*buf)[:0])
	out := bytes.Clone(b)
	*buf = b
	encodeBuffers.Put(buf)
	return out
}

// withRecordJSON calls fn with a record encoded in a pooled buffer, cleared after:
// for the plaintext of a sealed part, which only lives until it is sealed.
func withRecordJSON[T any](r jsonAppender, fn func([]byte) (T, error)) (T, error) {
	buf := encodeBuffers.Get().(*[]byte)
	b := r.appendJSON((*buf)[:0])
	v, err := fn(b)
	clear(b)
	*buf = b
	encodeBuffers.Put(buf)
	return v, err
}

// encodeBuffers are the buffers records are encoded in.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}
