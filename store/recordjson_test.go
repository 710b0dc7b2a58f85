package store

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// The hand-written record encoders (recordjson.go) must write what json.Marshal
// writes, byte for byte, for every record: random ones here, each field at its zero
// value about a third of the time, strings drawn from those that JSON escapes.

var jsonTestStrings = []string{"", "a", "hello world", `quote " and \ backslash`, "<script>&amp;</script>",
	"line\nbreak\ttab\rcr\bbs\ffeed", "\x00\x01\x1f\x7f", "é 漢字 😢", "\u2028\u2029", "\xff\xfe invalid", "\xed\xa0\x80",
	"ok\xc3", "+14155550100", "SM0123456789abcdef0123456789abcdef"}

type recordGen struct{ r *rand.Rand }

func (g recordGen) zero() bool { return g.r.IntN(3) == 0 }

func (g recordGen) str() string {
	if g.zero() {
		return ""
	}
	if g.r.IntN(4) == 0 { // random bytes, often invalid UTF-8
		b := make([]byte, g.r.IntN(12))
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		return string(b)
	}
	return jsonTestStrings[g.r.IntN(len(jsonTestStrings))]
}

func (g recordGen) i64() int64 {
	switch {
	case g.zero():
		return 0
	case g.r.IntN(5) == 0:
		return []int64{math.MinInt64, math.MaxInt64, -1, 1}[g.r.IntN(4)]
	}
	return g.r.Int64() - math.MaxInt64/2
}

func (g recordGen) num() int { return int(g.i64() % 100000) }

func (g recordGen) yes() bool { return g.r.IntN(2) == 0 }

func (g recordGen) id() hotline.ID {
	if g.zero() {
		return hotline.ID{}
	}
	return hotline.NewID(time.UnixMilli(g.r.Int64N(1 << 40)))
}

func (g recordGen) bytes() []byte {
	switch {
	case g.zero():
		return nil
	case g.r.IntN(5) == 0:
		return []byte{} // empty, not nil: omitted too
	}
	b := make([]byte, 1+g.r.IntN(40))
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

func (g recordGen) strs() []string {
	switch {
	case g.zero():
		return nil
	case g.r.IntN(5) == 0:
		return []string{}
	}
	s := make([]string, 1+g.r.IntN(4))
	for i := range s {
		s[i] = g.str()
	}
	return s
}

func (g recordGen) ids() []hotline.ID {
	switch {
	case g.zero():
		return nil
	case g.r.IntN(5) == 0:
		return []hotline.ID{}
	}
	s := make([]hotline.ID, 1+g.r.IntN(3))
	for i := range s {
		s[i] = g.id()
	}
	return s
}

func (g recordGen) media() []mediaRecord {
	if g.zero() {
		return nil
	}
	m := make([]mediaRecord, g.r.IntN(3))
	for i := range m {
		m[i] = mediaRecord{URL: g.str(), ContentType: g.str()}
	}
	return m
}

func (g recordGen) stringMap() map[string]string {
	switch {
	case g.zero():
		return nil
	case g.r.IntN(5) == 0:
		return map[string]string{}
	}
	m := map[string]string{}
	for range 1 + g.r.IntN(5) {
		m[g.str()] = g.str()
	}
	return m
}

func (g recordGen) webhook() *webhookRecord {
	if g.zero() {
		return nil
	}
	w := &webhookRecord{URL: g.str(), Signature: g.str()}
	if !g.zero() {
		w.Params = map[string][]string{}
		for range g.r.IntN(6) {
			w.Params[g.str()] = g.strs()
		}
	}
	return w
}

func (g recordGen) contact() contactRecord {
	return contactRecord{V: g.num(), ID: g.id(), Address: hotline.Address(g.str()), Handle: g.str(), OptedOut: g.yes(),
		OptedOutAt: g.i64(), Language: g.str(), FirstSeen: g.i64(), LastSeen: g.i64(), AutoReplyWindow: g.i64(),
		AutoReplies: g.num(), Sealed: g.bytes()}
}

func (g recordGen) conversation() conversationRecord {
	return conversationRecord{V: g.num(), ID: g.id(), ContactID: g.id(), Handle: g.str(), State: hotline.State(g.str()),
		Priority: hotline.Priority(g.str()), TriageTerms: g.strs(), Language: g.str(), AssigneeID: g.id(), Responders: g.ids(),
		CreatedAt: g.i64(), UpdatedAt: g.i64(), WaitingSince: g.i64(), LastInboundAt: g.i64(), FirstResponseAt: g.i64(),
		ClosedAt: g.i64(), InactiveAt: g.i64(), OfferExpires: g.i64(), Passed: g.ids(), EscalateAt: g.i64(),
		Escalation: g.num(), FallbackAt: g.i64(), AfterHoursSent: g.yes(), ClosedReason: g.str(), Disposition: g.str(),
		Tags: g.strs(), LegalHold: g.yes(), Sealed: g.bytes()}
}

func (g recordGen) message() messageRecord {
	r := messageRecord{V: g.num(), Direction: hotline.Direction(g.str()), Body: g.str(), Media: g.media(),
		Purpose: hotline.Purpose(g.str()), AuthorID: g.id(), TargetID: g.id(), TwilioSID: g.str(), Segments: g.num(),
		Status: hotline.Status(g.str()), ErrorCode: g.num(), ErrorMessage: g.str(), CreatedAt: g.i64(), UpdatedAt: g.i64(),
		Extra: g.stringMap(), Webhook: g.webhook(), Nonce: g.bytes(), Seq: uint64(g.i64()), Prev: g.str(), Hash: g.str(),
		Sealed: g.bytes()}
	if !g.zero() {
		r.Written = &deliveryRecord{Status: hotline.Status(g.str()), SID: g.str(), ErrorCode: g.num(), ErrorMessage: g.str()}
	}
	return r
}

func (g recordGen) outbox() outboxRecord {
	return outboxRecord{V: g.num(), ConversationID: g.id(), To: hotline.Address(g.str()), Body: g.str(),
		Status: hotline.Status(g.str()), Attempts: g.num(), NextAttemptAt: g.i64(), SendingSince: g.i64(),
		LastError: g.str(), CreatedAt: g.i64(), Sealed: g.bytes()}
}

// records returns one random record of every kind with a hand-written encoder.
func (g recordGen) records() []jsonAppender {
	m := g.message()
	return []jsonAppender{ptr(g.contact()), ptr(g.conversation()), &m, ptr(g.outbox()),
		&sealedContact{Address: hotline.Address(g.str())}, &sealedConversation{TriageTerms: g.strs()},
		&sealedMessage{Body: m.Body, Media: m.Media, Extra: m.Extra, Webhook: m.Webhook, Nonce: m.Nonce},
		&sealedOutbox{To: hotline.Address(g.str()), Body: g.str()}}
}

func ptr[T any](v T) *T { return &v }

func TestRecordJSON_SameAsEncodingJSON(t *testing.T) {
	g := recordGen{rand.New(rand.NewPCG(1, 2))}
	for range 20000 {
		for _, r := range g.records() {
			checkRecordJSON(t, r)
		}
	}
	// Every field set, so that none is left out of an encoder.
	for _, r := range []jsonAppender{ptr(fullRecord[contactRecord]()), ptr(fullRecord[conversationRecord]()),
		ptr(fullRecord[messageRecord]()), ptr(fullRecord[outboxRecord]()), ptr(fullRecord[sealedContact]()),
		ptr(fullRecord[sealedConversation]()), ptr(fullRecord[sealedMessage]()), ptr(fullRecord[sealedOutbox]())} {
		checkRecordJSON(t, r)
	}
}

func checkRecordJSON(t *testing.T, r jsonAppender) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := marshalRecord(r); !bytes.Equal(got, want) {
		t.Fatalf("%T:\n got %s\nwant %s", r, got, want)
	}
	// And after other bytes, as appendJSON is used.
	if got := r.appendJSON([]byte("x")); !bytes.Equal(got[1:], want) {
		t.Fatalf("%T appended: %s", r, got)
	}
}

// fullRecord returns a T with every field, recursively, set to a non-zero value.
func fullRecord[T any]() T {
	var v T
	fill(reflect.ValueOf(&v).Elem())
	return v
}

func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s<&>\"")
	case reflect.Int, reflect.Int64:
		v.SetInt(-7)
	case reflect.Uint64:
		v.SetUint(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array: // IDs
		for i := range v.Len() {
			v.Index(i).Set(reflect.ValueOf(uint8(i + 1)))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{1, 2, 3})
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"b", "a"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	default:
		panic("fill: " + v.Kind().String())
	}
}

func FuzzRecordJSONString(f *testing.F) {
	for _, s := range jsonTestStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		m := messageRecord{V: 2, Direction: hotline.Direction(s), Body: s, Extra: map[string]string{s: s, "k": s},
			Webhook: &webhookRecord{URL: s, Params: map[string][]string{s: {s, s}, "n": nil}}}
		checkRecordJSON(t, &m)
	})
}
