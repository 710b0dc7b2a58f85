package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a small hotline with everything an export shows: two responders, a
// closed conversation in five scripts with a note, masked-worthy numbers and e-mail
// addresses, an emoji family, and a second, waiting conversation.
type fixture struct {
	svc        *hotline.Service
	ana, bo    hotline.User
	closed     hotline.ID // Ana's, closed by Bo after a transfer
	waiting    hotline.ID
	loc        *time.Location
	exportedAt time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &clock{now: t0}
	st := storetest.MustOpen(t)
	svc := hotline.NewService(st, c, nil, hotline.DefaultPolicy())
	ctx := context.Background()
	f := &fixture{svc: svc, exportedAt: t0.Add(48 * time.Hour)}
	var err error
	if f.loc, err = time.LoadLocation("America/New_York"); err != nil {
		t.Fatal(err)
	}
	f.ana = hotline.User{ID: hotline.NewID(t0), Username: "ana", DisplayName: "Ana Lucía", Role: hotline.RoleResponder}
	f.bo = hotline.User{ID: hotline.NewID(t0), Username: "bo", DisplayName: "Bo", Role: hotline.RoleCoordinator}
	err = st.Update(ctx, func(tx hotline.Tx) error {
		if err := tx.PutUser(f.ana); err != nil {
			return err
		}
		return tx.PutUser(f.bo)
	})
	if err != nil {
		t.Fatal(err)
	}
	step := func() { c.now = c.now.Add(90 * time.Second) }
	text := func(sid, from, body string) hotline.ID {
		t.Helper()
		res, err := svc.ReceiveInbound(ctx, hotline.InboundMessage{SID: sid, From: hotline.Address(from), Body: body, Segments: 1})
		if err != nil {
			t.Fatal(err)
		}
		step()
		return res.ConversationID
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		step()
	}
	ana, bo := f.ana.Actor(), f.bo.Actor()
	f.closed = text("SM0001", "+14155550100", "Hola, necesito ayuda 🙂 — llámame al +1 (415) 555-0199 o escribe a ana.maria@example.com")
	must(svc.Accept(ctx, ana, f.closed))
	_, err = svc.Reply(ctx, ana, f.closed, "Estoy aquí. ¿Estás a salvo? Call 415.555.0123 if you can.")
	must(err)
	_, err = svc.AddNote(ctx, ana, f.closed, "Texter mentioned case 2026-05-01; door code 4471.")
	must(err)
	text("SM0002", "+14155550100", "أنا في خطر، ساعدني (الآن)\nאני צריכה עזרה 112\n我需要帮助，请快点。\n👨‍👩‍👧 ❤️ Ünïcödé çà")
	must(svc.Transfer(ctx, ana, f.closed, f.bo.ID, ""))
	must(svc.Accept(ctx, bo, f.closed))
	_, err = svc.Reply(ctx, bo, f.closed, "We are calling the partner shelter now.")
	must(err)
	must(svc.Close(ctx, bo, f.closed, "referred", []string{"trafficking", "es"}))
	f.waiting = text("SM0003", "+442079460958", "is anyone there?")
	return f
}

var (
	ulidPattern   = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)
	handlePattern = regexp.MustCompile(`T-\d{4,6}`)
)

// normalize replaces IDs and handles, which are random, by their order of first
// appearance, so that a golden file is stable.
func normalize(s string) string {
	for _, p := range []struct {
		re     *regexp.Regexp
		prefix string
	}{{ulidPattern, "ID"}, {handlePattern, "T-"}} {
		seen := map[string]string{}
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			if r, ok := seen[m]; ok {
				return r
			}
			seen[m] = fmt.Sprintf("%s%d", p.prefix, len(seen)+1)
			if p.prefix == "ID" {
				seen[m] = fmt.Sprintf("<id-%d>", len(seen))
			}
			return seen[m]
		})
	}
	return s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./export -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./export -run Golden -update rewrites it after a deliberate change):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func (f *fixture) export(t *testing.T, opts export.Options, enc export.Encoder) export.Stats {
	t.Helper()
	opts.Location, opts.Now = f.loc, f.exportedAt
	stats, err := export.Stream(context.Background(), f.svc.Store(), export.Filter{}, opts, enc)
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

func TestGoldenCSV(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	f.export(t, export.Options{IncludeNotes: true}, export.NewCSV(&buf))
	golden(t, "export.csv.golden", normalize(buf.String()))
}

func TestGoldenJSONL(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	f.export(t, export.Options{IncludeNotes: true, MaskBodies: true}, export.NewJSONL(&buf))
	golden(t, "export.jsonl.golden", normalize(buf.String()))
}

// pdfText extracts the text of a PDF with poppler's pdftotext. CI installs it
// (.ci/run); elsewhere the test is skipped without it unless
// HOTLINE_REQUIRE_PDFTOTEXT is set.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("HOTLINE_REQUIRE_PDFTOTEXT") != "" {
			t.Fatal("pdftotext is not installed (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext is not installed (apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "export.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func TestGoldenPDFText(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	stats := f.export(t, export.Options{IncludeNotes: true}, export.NewPDF(&buf))
	if stats.Conversations != 2 {
		t.Fatalf("stats = %+v", stats)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
	}
	text := pdfText(t, buf.Bytes())
	golden(t, "export.pdf.txt.golden", normalize(text))
	for _, want := range []string{
		"Transcript", "Ana Lucía, Bo", "referred", "trafficking, es",
		"2026-05-01 08:00:00 -04:00", // t0 (12:00 UTC) in New York, with the offset
		"Inbound", "Outbound (welcome)", "Internal note", "+1******0100",
		"[U+1F468 U+200D U+1F469 U+200D U+1F467]", // no font has the emoji: shown, not dropped
		"我需要帮助", "Ünïcödé çà",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
}

func TestPDFZipHasOneDocumentPerConversation(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	f.export(t, export.Options{}, export.NewPDFZip(&buf))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(zr.File), 2; got != want {
		t.Fatalf("zip entries = %d, want %d", got, want)
	}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".pdf") || !strings.HasPrefix(zf.Name, "T-") {
			t.Errorf("entry name %q, want HANDLE-ID.pdf", zf.Name)
		}
		rc, _ := zf.Open()
		var doc bytes.Buffer
		_, _ = doc.ReadFrom(rc)
		rc.Close()
		if !bytes.HasPrefix(doc.Bytes(), []byte("%PDF-")) {
			t.Errorf("%s is not a PDF", zf.Name)
		}
	}
	if !strings.Contains(pdfTextOfFirst(t, zr), "Transcript") {
		t.Error("the first document has no transcript text")
	}
}

func pdfTextOfFirst(t *testing.T, zr *zip.Reader) string {
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var doc bytes.Buffer
	_, _ = doc.ReadFrom(rc)
	return pdfText(t, doc.Bytes())
}

func TestPDFOfNothingSaysSo(t *testing.T) {
	var buf bytes.Buffer
	_, err := export.Stream(context.Background(), storetest.MustOpen(t), export.Filter{}, export.Options{}, export.NewPDF(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, buf.Bytes()); !strings.Contains(text, "No conversation matched") {
		t.Errorf("empty export text = %q", text)
	}
}
