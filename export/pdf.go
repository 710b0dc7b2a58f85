package export

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"

	"github.com/hotlinehq/hotline/hotline"
)

// PDF writes printable transcripts: a header (conversation, texter handle, dates,
// responders, disposition, tags) and each message with its time in the hotline's
// time zone, its direction and its author.
//
// In zip mode (NewPDFZip), each conversation is a document of its own, written to a
// zip archive as soon as it is complete, so memory holds one conversation at a time
// whatever the size of the export. NewPDF writes one document in which each
// conversation starts on a new page; the whole document is kept in memory until End,
// so it suits one conversation or a few.
type PDF struct {
	w    io.Writer
	zip  *zip.Writer
	meta Meta
	doc  *fpdf.Fpdf
	conv Header
	// droid is set once the fallback font was added to doc.
	droid bool
	n     int
}

// NewPDF returns an encoder that writes one PDF document to w.
func NewPDF(w io.Writer) *PDF { return &PDF{w: w} }

// NewPDFZip returns an encoder that writes a zip archive to w, with one PDF per
// conversation named HANDLE-ID.pdf.
func NewPDFZip(w io.Writer) *PDF { return &PDF{w: w, zip: zip.NewWriter(w)} }

// Page layout, in millimetres and points.
const (
	pdfMargin   = 18.0
	pdfBodySize = 10.5
	pdfMetaSize = 8.5
	pdfLineMM   = 0.42 // line height per point of font size
	fontRegular = "dejavu"
	fontBold    = "dejavub"
	fontCJK     = "droid"
)

// Begin remembers the export's options.
func (e *PDF) Begin(m Meta) error {
	e.meta = m
	fontCoverage() // read the fonts' character maps before the first conversation
	return nil
}

func (e *PDF) newDoc() {
	d := fpdf.New("P", "mm", "A4", "")
	d.SetCompression(true)
	d.SetCatalogSort(true)
	d.SetCreationDate(e.meta.Options.Now)
	d.SetModificationDate(e.meta.Options.Now)
	d.SetCreator("hotline", true)
	d.SetProducer("hotline", true)
	d.AddUTF8FontFromBytes(fontRegular, "", dejaVuSans)
	d.AddUTF8FontFromBytes(fontBold, "", dejaVuSansBold)
	d.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	d.SetAutoPageBreak(true, pdfMargin)
	d.AliasNbPages("{nb}")
	d.SetFooterFunc(func() {
		d.SetY(-pdfMargin + 6)
		d.SetFont(fontRegular, "", 7.5)
		d.SetTextColor(110, 110, 110)
		d.CellFormat(0, 4, fmt.Sprintf("Confidential · %s · page %d of {nb}", e.conv.Conversation.Handle, d.PageNo()), "", 0, "C", false, 0, "")
	})
	e.doc, e.droid = d, false
}

// Conversation starts a conversation on a new page (of a new document in zip mode)
// and writes its header.
func (e *PDF) Conversation(h Header) error {
	if e.doc == nil || e.zip != nil {
		e.newDoc()
		e.doc.SetTitle("Transcript "+h.Conversation.Handle, true)
	}
	d := e.doc
	d.AddPage() // the footer of the page before names the conversation before
	e.conv = h
	c := h.Conversation
	e.text("Transcript "+c.Handle, 16, true, 0, rgb{20, 20, 20})
	d.Ln(2)
	loc := e.meta.Options.Location
	rows := [][2]string{
		{"Conversation", c.ID.String()},
		{"Texter", c.Handle + " (" + h.Texter + ")"},
		{"Started", formatTime(c.CreatedAt, loc)},
		{"Closed", closedText(c, loc)},
		{"State", string(c.State)},
		{"Language", orDash(c.Language)},
		{"Priority", priorityText(c)},
		{"Responders", orDash(strings.Join(h.Responders, ", "))},
		{"Disposition", orDash(c.Disposition)},
		{"Tags", orDash(strings.Join(c.Tags, ", "))},
	}
	if c.LegalHold {
		rows = append(rows, [2]string{"Legal hold", "yes: exempt from retention"})
	}
	rows = append(rows, [2]string{"Exported", exportNote(e.meta, loc)})
	for _, r := range rows {
		e.field(r[0], r[1])
	}
	d.Ln(2)
	y := d.GetY()
	d.SetDrawColor(160, 160, 160)
	d.Line(pdfMargin, y, pageWidth(d)-pdfMargin, y)
	d.Ln(3)
	return d.Error()
}

// Message writes one message: a line with its time, direction, author and status,
// then its body and attachments.
func (e *PDF) Message(m hotline.Message) error {
	d := e.doc
	if d == nil {
		return fmt.Errorf("export: PDF message before its conversation")
	}
	head := []string{formatTime(m.CreatedAt, e.meta.Options.Location), directionText(m), e.meta.Author(m)}
	if m.Direction == hotline.DirectionOutbound {
		s := string(m.Status)
		if m.ErrorCode != 0 {
			s += fmt.Sprintf(" (error %d)", m.ErrorCode)
		}
		head = append(head, s)
	}
	color := rgb{20, 20, 20}
	switch m.Direction {
	case hotline.DirectionNote:
		color = rgb{120, 72, 0}
	case hotline.DirectionSystem:
		color = rgb{90, 90, 90}
	}
	e.keepTogether(2 * pdfLineMM * (pdfMetaSize + pdfBodySize))
	e.text(strings.Join(head, "   ·   "), pdfMetaSize, true, 0, rgb{90, 90, 90})
	if m.Body != "" {
		e.text(m.Body, pdfBodySize, false, 0, color)
	}
	for _, md := range m.Media {
		e.text("Attachment: "+md.ContentType+" "+md.URL, pdfMetaSize, false, 0, rgb{60, 60, 160})
	}
	d.Ln(2.5)
	return d.Error()
}

// EndConversation writes the conversation's document to the zip archive, in zip mode.
func (e *PDF) EndConversation() error {
	e.n++
	if e.zip == nil {
		return e.doc.Error()
	}
	c := e.conv.Conversation
	fw, err := e.zip.CreateHeader(&zip.FileHeader{Name: fileName(c), Method: zip.Store, Modified: e.meta.Options.Now})
	if err != nil {
		return err
	}
	err = e.doc.Output(fw)
	e.doc = nil
	return err
}

// End writes the document (or closes the zip archive). An export that matched no
// conversation is a one-page document (or an archive) that says so.
func (e *PDF) End() error {
	if e.zip != nil {
		if e.n == 0 {
			fw, err := e.zip.CreateHeader(&zip.FileHeader{Name: "NO-CONVERSATIONS.txt", Method: zip.Deflate, Modified: e.meta.Options.Now})
			if err != nil {
				return err
			}
			if _, err := io.WriteString(fw, "No conversation matched the export's filters.\n"); err != nil {
				return err
			}
		}
		return e.zip.Close()
	}
	if e.doc == nil {
		e.newDoc()
		e.doc.SetTitle("Transcripts", true)
		e.doc.AddPage()
		e.text("No conversation matched the export's filters.", pdfBodySize, false, 0, rgb{20, 20, 20})
	}
	return e.doc.Output(e.w)
}

// fileName names a conversation's document in a zip archive.
func fileName(c hotline.Conversation) string {
	handle := strings.Map(func(r rune) rune {
		if r == '-' || r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, c.Handle)
	if handle == "" {
		handle = "conversation"
	}
	return handle + "-" + c.ID.String() + ".pdf"
}

type rgb struct{ r, g, b int }

func pageWidth(d *fpdf.Fpdf) float64 {
	w, _ := d.GetPageSize()
	return w
}

// keepTogether starts a new page unless height fits on this one.
func (e *PDF) keepTogether(height float64) {
	_, h := e.doc.GetPageSize()
	if e.doc.GetY()+height > h-pdfMargin {
		e.doc.AddPage()
	}
}

// field writes a label and its value, the value wrapped beside the label.
func (e *PDF) field(label, value string) {
	d := e.doc
	y := d.GetY()
	e.keepTogether(pdfLineMM * pdfBodySize)
	if d.GetY() != y {
		y = d.GetY()
	}
	d.SetXY(pdfMargin, y)
	d.SetFont(fontBold, "", 9)
	d.SetTextColor(90, 90, 90)
	d.CellFormat(32, pdfLineMM*9.5, label, "", 0, "L", false, 0, "")
	d.SetXY(pdfMargin, y)
	e.text(value, 9.5, false, 32, rgb{20, 20, 20})
}

// text writes a paragraph (or several, one per line break) at the left margin plus
// indent, wrapped to the page, shaped and in visual order, each character in a font
// that has it.
func (e *PDF) text(s string, size float64, bold bool, indent float64, c rgb) {
	d := e.doc
	d.SetTextColor(c.r, c.g, c.b)
	width := pageWidth(d) - 2*pdfMargin - indent
	lineH := pdfLineMM * size
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\t", "    ").Replace(s)
	regular, boldCover, _ := fontCoverage()
	cover := regular
	if bold {
		cover = boldCover
	}
	for para := range strings.SplitSeq(s, "\n") {
		runes := shapeArabic([]rune(para), cover.has)
		rtl := rtlParagraph(runes)
		lines := e.wrap(runes, size, bold, width)
		if len(lines) == 0 {
			lines = [][]rune{nil}
		}
		for _, line := range lines {
			e.keepTogether(lineH)
			segs := e.segments(visualOrder(line, rtl), bold)
			total := 0.0
			for i := range segs {
				total += e.width(&segs[i], size)
			}
			x := pdfMargin + indent
			if rtl {
				x += max(0, width-total)
			}
			d.SetX(x)
			for _, sg := range segs {
				d.SetFont(sg.font, "", size)
				d.CellFormat(sg.w, lineH, sg.text, "", 0, "L", false, 0, "")
			}
			d.Ln(lineH)
		}
	}
}

// segment is a piece of a line drawn in one font.
type segment struct {
	font string
	text string
	w    float64
}

// segments splits a line into pieces by font: DejaVu where it has the character,
// Droid Sans Fallback where only that has it, and "[U+…]" (the code points, grouped)
// for characters no font has. A variation selector after a character the font draws
// is left out: it only chooses between text and emoji presentation.
func (e *PDF) segments(line []rune, bold bool) []segment {
	regular, boldCover, fallback := fontCoverage()
	main, cover := fontRegular, regular
	if bold {
		main, cover = fontBold, boldCover
	}
	var segs []segment
	var missing []string
	add := func(font, s string) {
		if n := len(segs); n > 0 && segs[n-1].font == font {
			segs[n-1].text += s
			return
		}
		segs = append(segs, segment{font: font, text: s})
	}
	flush := func() {
		if len(missing) > 0 {
			add(main, "["+strings.Join(missing, " ")+"]")
			missing = missing[:0]
		}
	}
	prevDrawn := false
	for _, r := range line {
		switch {
		case (r == 0xFE0E || r == 0xFE0F) && prevDrawn:
			continue
		case r == 0x200D && !prevDrawn: // a zero-width joiner inside an emoji sequence
			missing = append(missing, "U+200D")
			continue
		case r == ' ' || r != unicode.ReplacementChar && cover.has(r):
			flush()
			add(main, string(r))
			prevDrawn = true
		case fallback.has(r) && r != unicode.ReplacementChar:
			flush()
			if !e.droid {
				e.doc.AddUTF8FontFromBytes(fontCJK, "", droidSansFallback)
				e.droid = true
			}
			add(fontCJK, string(r))
			prevDrawn = true
		default:
			missing = append(missing, fmt.Sprintf("U+%04X", r))
			prevDrawn = false
		}
	}
	flush()
	return segs
}

func (e *PDF) width(s *segment, size float64) float64 {
	e.doc.SetFont(s.font, "", size)
	s.w = e.doc.GetStringWidth(s.text)
	return s.w
}

// wrap breaks a paragraph (logical order) into lines no wider than width: between
// words, between any two CJK characters, and inside a word too long for a line.
func (e *PDF) wrap(p []rune, size float64, bold bool, width float64) [][]rune {
	measure := func(rs []rune) float64 {
		total := 0.0
		for _, sg := range e.segments(rs, bold) {
			total += e.width(&sg, size)
		}
		return total
	}
	var lines [][]rune
	var line []rune
	lineW := 0.0
	for _, atom := range atoms(p) {
		w := measure(atom)
		if lineW+w <= width || len(line) == 0 && w <= width {
			line = append(line, atom...)
			lineW += w
			continue
		}
		if len(line) > 0 {
			lines = append(lines, trimRightSpace(line))
			line, lineW = nil, 0
		}
		if w <= width {
			line, lineW = append(line, atom...), w
			continue
		}
		for _, r := range atom { // a word longer than a line: break it anywhere
			rw := measure([]rune{r})
			if lineW+rw > width && len(line) > 0 {
				lines = append(lines, line)
				line, lineW = nil, 0
			}
			line = append(line, r)
			lineW += rw
		}
	}
	if len(line) > 0 {
		lines = append(lines, trimRightSpace(line))
	}
	return lines
}

// atoms splits a paragraph into what a line break may not split: a word with the
// spaces after it, or a single character of a script written without spaces.
func atoms(p []rune) [][]rune {
	var out [][]rune
	start := 0
	for i := 0; i < len(p); i++ {
		r := p[i]
		switch {
		case breaksAnywhere(r):
			if i > start {
				out = append(out, p[start:i])
			}
			j := i + 1
			for j < len(p) && p[j] == ' ' {
				j++
			}
			out = append(out, p[i:j])
			start, i = j, j-1
		case r == ' ':
			j := i + 1
			for j < len(p) && p[j] == ' ' {
				j++
			}
			out = append(out, p[start:j])
			start, i = j, j-1
		}
	}
	if start < len(p) {
		out = append(out, p[start:])
	}
	return out
}

// breaksAnywhere reports whether a line may break before and after r: CJK
// ideographs, kana, Hangul and symbols outside the Basic Multilingual Plane (emoji).
func breaksAnywhere(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || r >= 0x1F000
}

func trimRightSpace(rs []rune) []rune {
	for len(rs) > 0 && rs[len(rs)-1] == ' ' {
		rs = rs[:len(rs)-1]
	}
	return rs
}

// formatTime writes a time in the hotline's zone with its offset, to the second.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 -07:00")
}

func closedText(c hotline.Conversation, loc *time.Location) string {
	if c.ClosedAt.IsZero() {
		return "open"
	}
	s := formatTime(c.ClosedAt, loc)
	if c.ClosedReason != "" {
		s += " (" + strings.ReplaceAll(c.ClosedReason, "_", " ") + ")"
	}
	return s
}

func priorityText(c hotline.Conversation) string {
	s := orDash(string(c.Priority))
	if len(c.TriageTerms) > 0 {
		s += " (triage: " + strings.Join(c.TriageTerms, ", ") + ")"
	}
	return s
}

func exportNote(m Meta, loc *time.Location) string {
	parts := []string{formatTime(m.Options.Now, loc)}
	if m.Options.RevealNumbers {
		parts = append(parts, "numbers revealed")
	} else {
		parts = append(parts, "numbers masked")
	}
	if m.Options.MaskBodies {
		parts = append(parts, "numbers and e-mail addresses in messages masked")
	}
	if m.Options.IncludeNotes {
		parts = append(parts, "internal notes included")
	} else {
		parts = append(parts, "internal notes left out")
	}
	return strings.Join(parts, "; ")
}

func directionText(m hotline.Message) string {
	switch m.Direction {
	case hotline.DirectionInbound:
		return "Inbound"
	case hotline.DirectionOutbound:
		if m.Purpose != "" && m.Purpose != hotline.PurposeReply {
			return "Outbound (" + strings.ReplaceAll(string(m.Purpose), "_", " ") + ")"
		}
		return "Outbound"
	case hotline.DirectionNote:
		return "Internal note"
	case hotline.DirectionSystem:
		return "Event"
	}
	return string(m.Direction)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
