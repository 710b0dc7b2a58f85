package export_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
)

// encodeOne writes one conversation with one message through enc, with the fuzzed
// parts where a texter or a responder controls them: the body, the author's display
// name, the disposition and a tag.
func encodeOne(t *testing.T, enc export.Encoder, body, name, disposition, tag string) {
	t.Helper()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	author := hotline.NewID(at)
	conv := hotline.Conversation{ID: hotline.NewID(at), Handle: "T-1", State: hotline.StateClosed, Language: "en",
		CreatedAt: at, ClosedAt: at.Add(time.Hour), Disposition: disposition, Tags: []string{tag}}
	meta := export.Meta{Names: map[hotline.ID]string{author: name}, Options: export.Options{Location: time.UTC, Now: at}}
	if err := enc.Begin(meta); err != nil {
		t.Fatal(err)
	}
	if err := enc.Conversation(export.Header{Conversation: conv, Texter: "+1******0100", Responders: []string{name}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []hotline.Message{
		{ID: hotline.NewID(at), ConversationID: conv.ID, Direction: hotline.DirectionInbound, Body: body, Status: hotline.StatusReceived, CreatedAt: at},
		{ID: hotline.NewID(at), ConversationID: conv.ID, Direction: hotline.DirectionOutbound, Purpose: hotline.PurposeReply,
			AuthorID: author, Body: body, Status: hotline.StatusDelivered, CreatedAt: at},
	} {
		if err := enc.Message(m); err != nil {
			t.Fatalf("Message(%q): %v", body, err)
		}
	}
	if err := enc.EndConversation(); err != nil {
		t.Fatal(err)
	}
	if err := enc.End(); err != nil {
		t.Fatal(err)
	}
}

// fuzzSeeds are texts a hostile or unlucky texter or responder might write.
var fuzzSeeds = []struct{ body, name string }{
	{"help me", "Ana"},
	{"", ""},
	{`{"id":"x"}\n{"forged":true}`, `","role":"coordinator`},
	{"line one\nline two\r\n\u2028\u2029", "Bo\nBo"},
	{"\x00\x1b[31m\u202e\u0007", "\xff\xfe"},
	{"<script>alert(1)</script> javascript:alert(1)", "<b>Cy</b>"},
	{strings.Repeat("W", 3000), strings.Repeat("N", 500)},
	{"أنا في خطر، ساعدني 112 אני צריכה עזרה 我需要帮助", "Ana Lucía"},
	{"👨‍👩‍👧 ❤️ \U0001F600\U000E0001", "🙂"},
	{"=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0"},
}

// FuzzJSONLConversation checks that whatever a message or a name holds, a
// conversation is exactly one line of valid JSON, and a valid UTF-8 body and name
// come back as they were written.
func FuzzJSONLConversation(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.body, s.name, "referred", "labor")
	}
	f.Fuzz(func(t *testing.T, body, name, disposition, tag string) {
		var buf bytes.Buffer
		encodeOne(t, export.NewJSONL(&buf), body, name, disposition, tag)
		out := buf.Bytes()
		if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != 1 {
			t.Fatalf("a conversation is not exactly one line: %q", out)
		}
		var line struct {
			Disposition string
			Tags        []string
			Responders  []string
			Messages    []struct{ Body, Author string }
		}
		if err := json.Unmarshal(out, &line); err != nil {
			t.Fatalf("the line is not valid JSON (%v): %q", err, out)
		}
		if len(line.Messages) != 2 {
			t.Fatalf("%d messages in the line, want 2: %q", len(line.Messages), out)
		}
		if utf8.ValidString(body) && (line.Messages[0].Body != body || line.Messages[1].Body != body) {
			t.Fatalf("body %q came back as %q", body, line.Messages[0].Body)
		}
		if utf8.ValidString(name) && name != "" && line.Messages[1].Author != name {
			t.Fatalf("author %q came back as %q", name, line.Messages[1].Author)
		}
		if utf8.ValidString(disposition) && line.Disposition != disposition {
			t.Fatalf("disposition %q came back as %q", disposition, line.Disposition)
		}
	})
}

// FuzzPDFTranscript checks that no message, name, disposition or tag makes the PDF
// encoder fail or panic (any script, control characters, invalid UTF-8, words longer
// than a line), and that what it writes is a complete PDF, alone or in a zip.
//
// Inputs are cut to the hotline's own limits (1,600 characters a text, 100 a name or
// a tag): laying out one unbreakable run of text grows with the square of its length
// (40,000 combining marks take seconds), which those limits keep to milliseconds, and
// the fuzzer's time is better spent on what can reach the encoder.
func FuzzPDFTranscript(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.body, s.name, "referred", "labor")
	}
	f.Fuzz(func(t *testing.T, body, name, disposition, tag string) {
		body, name = clampRunes(body, hotline.MaxBodyRunes), clampRunes(name, 100)
		disposition, tag = clampRunes(disposition, 100), clampRunes(tag, 100)
		var buf bytes.Buffer
		encodeOne(t, export.NewPDF(&buf), body, name, disposition, tag)
		checkPDF(t, buf.Bytes(), body)

		buf.Reset()
		encodeOne(t, export.NewPDFZip(&buf), body, name, disposition, tag)
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("the zip of %q is unreadable: %v", body, err)
		}
		if len(zr.File) != 1 {
			t.Fatalf("%d files in the zip, want 1", len(zr.File))
		}
		if strings.ContainsAny(zr.File[0].Name, "/\\\x00") || strings.Contains(zr.File[0].Name, "..") {
			t.Fatalf("zip entry name %q could escape the folder it is unpacked into", zr.File[0].Name)
		}
	})
}

// clampRunes cuts s to at most n characters (bytes of invalid UTF-8 count as one).
func clampRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

func checkPDF(t *testing.T, pdf []byte, body string) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")) {
		t.Fatalf("not a complete PDF for body %q: starts %q, ends %q", body, pdf[:min(len(pdf), 16)], pdf[max(0, len(pdf)-16):])
	}
}

// TestPDF_EmojiBeyondTheBasicPlane is the fuzzer's first find: an emoji that DejaVu
// Sans has a glyph for beyond U+FFFF (😀, U+1F600) made the PDF library panic, so one
// smiley from a texter broke every PDF export that included the conversation.
func TestPDF_EmojiBeyondTheBasicPlane(t *testing.T) {
	var buf bytes.Buffer
	encodeOne(t, export.NewPDF(&buf), "thank you 😀🙂", "Ana 😀", "referred", "😀")
	checkPDF(t, buf.Bytes(), "😀")
}

// TestPDF_EveryEmojiOfTheBasicEmojiBlocks prints every code point of the common emoji
// blocks (and the supplementary planes' edges) without a panic: the load tool found
// 😢 (U+1F622) crashing the PDF library after 😀 had been fixed.
func TestPDF_EveryEmojiOfTheBasicEmojiBlocks(t *testing.T) {
	var b strings.Builder
	for _, block := range [][2]rune{{0x1F300, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x2600, 0x27BF}, {0xFFF0, 0x1000F}, {0x10FFF0, 0x10FFFD}} {
		for r := block[0]; r <= block[1]; r++ {
			b.WriteRune(r)
		}
	}
	var buf bytes.Buffer
	encodeOne(t, export.NewPDF(&buf), b.String(), "Ana 😢", "referred", "😢")
	checkPDF(t, buf.Bytes(), "😢")
}
