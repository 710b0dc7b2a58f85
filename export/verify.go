package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// BundleReport is what VerifyBundle found: each check with its outcome. The bundle
// verifies only when Failures is empty.
type BundleReport struct {
	Fingerprint   string // of the key the bundle says signed it
	ExportID      string
	CreatedAt     string
	Conversations int
	Entries       int
	Files         int
	// Withheld counts chain entries that carry only their content hash (notes
	// left out of the export); WebhooksWithheld inbound webhooks present only as a
	// digest (numbers not revealed).
	Withheld         int
	WebhooksWithheld int
	// Failures say, one each, what did not verify.
	Failures []string
}

// OK reports whether everything verified.
func (r BundleReport) OK() bool { return len(r.Failures) == 0 }

func (r *BundleReport) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// maxBundleFile bounds one file read from a bundle while verifying.
const maxBundleFile = 1 << 30

// VerifyBundle checks an evidence bundle (bundle.go) against the hotline's public
// key, obtained out of band: that manifest.json is signed by that key; that every
// file it lists is in the archive with its SHA-256 and size, and that no other
// file is; that every conversation's chain.jsonl recomputes, entry by entry, to the
// chain head the manifest names; and that every message of the transcript JSON is
// in the chain as it was written. The error is for an archive that cannot be read
// at all; everything else is a failure in the report.
func VerifyBundle(r io.ReaderAt, size int64, pub ed25519.PublicKey) (BundleReport, error) {
	var rep BundleReport
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return rep, fmt.Errorf("not a zip archive: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			rep.fail("%s: the archive holds it twice", f.Name)
		}
		files[f.Name] = f
	}
	manifestBytes, err := readZip(files, bundleManifest)
	if err != nil {
		rep.fail("manifest.json: %v", err)
		return rep, nil
	}
	sigText, err := readZip(files, bundleSignature)
	if err != nil {
		rep.fail("manifest.sig: %v", err)
		return rep, nil
	}
	var m Manifest
	if err := json.Unmarshal(manifestBytes, &m); err != nil {
		rep.fail("manifest.json: not JSON: %v", err)
		return rep, nil
	}
	rep.Fingerprint, rep.ExportID, rep.CreatedAt = m.Fingerprint, m.ExportID, m.CreatedAt
	if m.Format != BundleFormat {
		rep.fail("manifest.json: format %q, this verifier knows %q", m.Format, BundleFormat)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	switch {
	case err != nil || len(sig) != ed25519.SignatureSize:
		rep.fail("manifest.sig: not a base64 Ed25519 signature")
	case !ed25519.Verify(pub, manifestBytes, sig):
		rep.fail("SIGNATURE: manifest.json is not signed by the public key given (fingerprint %s): the manifest was changed, or it was signed by another key (the bundle says %s)",
			Fingerprint(pub), m.Fingerprint)
	}
	if embedded, err := ParsePublicKey(m.PublicKey); err == nil && !embedded.Equal(pub) {
		rep.fail("manifest.json names another public key (fingerprint %s) than the one given (%s)", Fingerprint(embedded), Fingerprint(pub))
	}

	// Every listed file, and nothing else.
	listed := map[string]ManifestFile{}
	for _, f := range m.Files {
		listed[f.Path] = f
		data, err := readZip(files, f.Path)
		if err != nil {
			rep.fail("%s: %v", f.Path, err)
			continue
		}
		rep.Files++
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 || int64(len(data)) != f.Size {
			rep.fail("%s: CHANGED: its SHA-256 is %s (%d bytes), the manifest says %s (%d bytes)", f.Path, got, len(data), f.SHA256, f.Size)
		}
	}
	for name := range files {
		if _, ok := listed[name]; !ok && name != bundleManifest && name != bundleSignature {
			rep.fail("%s: ADDED: the archive holds it but the manifest does not list it", name)
		}
	}

	for _, mc := range m.Conversations {
		rep.Conversations++
		verifyConversation(&rep, files, mc)
	}
	return rep, nil
}

// verifyConversation recomputes one conversation's chain from chain.jsonl and
// checks it against its head, and the transcript JSON against the chain.
func verifyConversation(rep *BundleReport, files map[string]*zip.File, mc ManifestConversation) {
	dir := "conversations/" + mc.ID + "/"
	id, err := hotline.ParseID(mc.ID)
	if err != nil {
		rep.fail("manifest.json: conversation %q: not an ID", mc.ID)
		return
	}
	headHash, err := hotline.ParseDigest(mc.HeadHash)
	if err != nil && mc.HeadSeq > 0 {
		rep.fail("manifest.json: conversation %s: malformed head hash", mc.ID)
		return
	}
	data, err := readZip(files, dir+"chain.jsonl")
	if err != nil {
		rep.fail("%schain.jsonl: %v", dir, err)
		return
	}
	var entries []hotline.ChainEntry
	byID := map[string]ChainRecord{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		var r ChainRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			rep.fail("%schain.jsonl line %d: not JSON", dir, line)
			return
		}
		e, err := chainEntry(id, r)
		if err != nil {
			rep.fail("%schain.jsonl line %d (seq %d): %v", dir, line, r.Seq, err)
			return
		}
		if r.Withheld {
			rep.Withheld++
		}
		if r.Kind == hotline.ChainMessage && r.WebhookDigest != "" && r.Webhook == nil {
			rep.WebhooksWithheld++
		}
		entries = append(entries, e)
		byID[r.ID] = r
	}
	rep.Entries += len(entries)
	if brk := hotline.VerifyChain(id, entries, hotline.ChainHead{Seq: mc.HeadSeq, Hash: headHash}); brk != nil {
		rep.fail("CHAIN: %v", brk)
	}
	if len(entries) != mc.Entries {
		rep.fail("%schain.jsonl: %d entries, the manifest says %d", dir, len(entries), mc.Entries)
	}
	// The transcript JSON says what the chain says.
	tj, err := readZip(files, dir+"transcript.json")
	if err != nil {
		rep.fail("%stranscript.json: %v", dir, err)
		return
	}
	var t struct {
		ID       string        `json:"id"`
		Messages []jsonMessage `json:"messages"`
	}
	if err := json.Unmarshal(tj, &t); err != nil {
		rep.fail("%stranscript.json: not JSON", dir)
		return
	}
	for _, msg := range t.Messages {
		r, ok := byID[msg.ID]
		switch {
		case !ok:
			rep.fail("%stranscript.json: message %s is not in the chain", dir, msg.ID)
		case r.Withheld:
			rep.fail("%stranscript.json: message %s is withheld from the chain but shown", dir, msg.ID)
		case r.Body != msg.Body || r.Direction != msg.Direction:
			rep.fail("%stranscript.json: message %s differs from its chain entry", dir, msg.ID)
		case !sameTime(r.CreatedNanos, msg.CreatedAt):
			rep.fail("%stranscript.json: message %s has another time than its chain entry", dir, msg.ID)
		}
	}
}

// sameTime reports whether a transcript's RFC 3339 time is the chain's time.
func sameTime(nanos, rfc string) bool {
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, rfc)
	return err == nil && t.Equal(time.Unix(0, n))
}

// chainEntry rebuilds a chain entry from its record: its content hash recomputed
// from the fields (or taken as given for a withheld entry).
func chainEntry(conv hotline.ID, r ChainRecord) (hotline.ChainEntry, error) {
	e := hotline.ChainEntry{Kind: r.Kind, Link: hotline.ChainLink{Seq: r.Seq}}
	var err error
	if e.ID, err = hotline.ParseID(r.ID); err != nil {
		return e, fmt.Errorf("id: not an ID")
	}
	if e.Link.Hash, err = hotline.ParseDigest(r.Hash); err != nil {
		return e, fmt.Errorf("hash: malformed")
	}
	if r.Seq > 1 {
		if e.Link.Prev, err = hotline.ParseDigest(r.Prev); err != nil {
			return e, fmt.Errorf("prev: malformed")
		}
	}
	if r.Withheld {
		e.Content, err = hotline.ParseDigest(r.ContentHash)
		if err != nil {
			return e, fmt.Errorf("content_hash: malformed")
		}
		return e, nil
	}
	if r.ConversationID != conv.String() {
		return e, fmt.Errorf("it belongs to conversation %s", r.ConversationID)
	}
	switch r.Kind {
	case hotline.ChainMessage:
		m, err := messageOf(conv, e.ID, r)
		if err != nil {
			return e, err
		}
		e.Content = hotline.ContentHash(hotline.MessageContent(m))
	case hotline.ChainStatus:
		ev, err := statusOf(conv, e.ID, r)
		if err != nil {
			return e, err
		}
		e.MessageID = ev.MessageID
		e.Content = hotline.ContentHash(hotline.StatusContent(ev))
	default:
		return e, fmt.Errorf("kind %q is neither message nor status", r.Kind)
	}
	return e, nil
}

// messageOf rebuilds the message a record describes, as it was written.
func messageOf(conv, id hotline.ID, r ChainRecord) (hotline.Message, error) {
	nonce, err := hex.DecodeString(r.Nonce)
	if err != nil {
		return hotline.Message{}, fmt.Errorf("nonce: not hex")
	}
	created, err := fromNanosText(r.CreatedNanos)
	if err != nil {
		return hotline.Message{}, fmt.Errorf("created_ns: %v", err)
	}
	m := hotline.Message{ID: id, ConversationID: conv, Direction: hotline.Direction(r.Direction), Body: r.Body,
		Purpose: hotline.Purpose(r.Purpose), TwilioSID: r.SID, Segments: r.Segments, Status: hotline.Status(r.Status),
		ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, CreatedAt: created, Extra: r.Extra,
		Chain: hotline.ChainLink{Nonce: nonce}}
	if m.AuthorID, err = optionalID(r.AuthorID); err != nil {
		return m, fmt.Errorf("author_id: not an ID")
	}
	if m.TargetID, err = optionalID(r.TargetID); err != nil {
		return m, fmt.Errorf("target_id: not an ID")
	}
	for _, md := range r.Media {
		m.Media = append(m.Media, hotline.Media{URL: md.URL, ContentType: md.ContentType})
	}
	if r.Webhook != nil {
		w := hotline.Webhook{URL: r.Webhook.URL, Signature: r.Webhook.Signature, Params: r.Webhook.Params}
		if got := hotline.WebhookDigest(w).String(); got != r.WebhookDigest {
			return m, fmt.Errorf("its webhook does not match its webhook digest (changed)")
		}
	}
	if r.WebhookDigest != "" {
		d, err := hotline.ParseDigest(r.WebhookDigest)
		if err != nil {
			return m, fmt.Errorf("webhook_digest: malformed")
		}
		m.Webhook = &hotline.Webhook{Withheld: d}
	}
	return m, nil
}

func statusOf(conv, id hotline.ID, r ChainRecord) (hotline.StatusEvent, error) {
	at, err := fromNanosText(r.AtNanos)
	if err != nil {
		return hotline.StatusEvent{}, fmt.Errorf("at_ns: %v", err)
	}
	msg, err := hotline.ParseID(r.MessageID)
	if err != nil {
		return hotline.StatusEvent{}, fmt.Errorf("message_id: not an ID")
	}
	return hotline.StatusEvent{ID: id, ConversationID: conv, MessageID: msg, At: at, Status: hotline.Status(r.Status),
		SID: r.SID, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, DoneAt: r.DoneAt}, nil
}

func fromNanosText(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not decimal nanoseconds")
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, n), nil
}

func optionalID(s string) (hotline.ID, error) {
	if s == "" {
		return hotline.ID{}, nil
	}
	return hotline.ParseID(s)
}

// readZip reads a file of the archive whole.
func readZip(files map[string]*zip.File, name string) ([]byte, error) {
	f, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("MISSING from the archive")
	}
	if f.UncompressedSize64 > maxBundleFile {
		return nil, fmt.Errorf("larger than %d bytes", maxBundleFile)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxBundleFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot be read (damaged archive?): %v", err)
	}
	return data, nil
}
