package export

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// An evidence bundle (FormatBundle) is a zip archive that a prosecutor's expert
// can check with nothing but the archive and the hotline's public key
// (VerifyBundle, `hotline verify-bundle`; README: evidence bundles):
//
//	README.txt                            how to check it
//	manifest.json                         every other file with its SHA-256 and size, and each
//	                                      conversation's chain head; the hotline's public key
//	manifest.sig                          Ed25519 signature of manifest.json's exact bytes (base64)
//	custody.json                          chain of custody: who exported, when, with which filters
//	                                      and options, and the audit entries of those conversations
//	conversations/ID/transcript.pdf       the printable transcript
//	conversations/ID/transcript.json      the transcript as JSON (the JSON Lines export's line)
//	conversations/ID/chain.jsonl          every entry of the conversation's hash chain, one per line,
//	                                      with the fields its canonical content is made of
//
// Notes left out of the transcript (notes=false) stay in the chain as withheld
// entries: their hash and content hash, not their content. The inbound webhooks
// (every parameter, including the texter's number, and Twilio's signature) are in
// the chain entries only when the export reveals numbers; otherwise their digest
// alone is.

// FormatBundle is a signed evidence bundle (bundle.go).
const FormatBundle Format = "bundle"

// BundleFormat names the layout of a bundle, in its manifest.
const BundleFormat = "hotline-evidence-bundle/1"

// Names of a bundle's files.
const (
	bundleManifest  = "manifest.json"
	bundleSignature = "manifest.sig"
	bundleCustody   = "custody.json"
	bundleReadme    = "README.txt"
)

// Manifest is manifest.json.
type Manifest struct {
	Format      string `json:"format"`
	CreatedAt   string `json:"created_at"`
	ExportID    string `json:"export_id"`
	PublicKey   string `json:"public_key"`  // FormatPublicKey
	Fingerprint string `json:"fingerprint"` // Fingerprint
	// Files are every file of the archive but the manifest and its signature.
	Files         []ManifestFile         `json:"files"`
	Conversations []ManifestConversation `json:"conversations"`
}

// ManifestFile is one file of a bundle.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ManifestConversation is one conversation of a bundle, with its chain head as it
// was when the chain was read.
type ManifestConversation struct {
	ID       string `json:"id"`
	Handle   string `json:"handle"`
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Entries  int    `json:"entries"`
	Withheld int    `json:"withheld,omitempty"`
}

// ChainRecord is one line of chain.jsonl: an entry of a conversation's hash chain
// with every field of its canonical content (hotline/chain.go), so that its hash
// can be computed again. Times are decimal Unix nanoseconds, as hashed.
type ChainRecord struct {
	Seq  uint64 `json:"seq"`
	Kind string `json:"kind"` // "message" or "status"
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash"`
	ID   string `json:"id"`
	// Withheld entries (notes left out of the export) carry only their content hash.
	Withheld    bool   `json:"withheld,omitempty"`
	ContentHash string `json:"content_hash,omitempty"`

	ConversationID string            `json:"conversation_id,omitempty"`
	Nonce          string            `json:"nonce,omitempty"`
	Direction      string            `json:"direction,omitempty"`
	Purpose        string            `json:"purpose,omitempty"`
	AuthorID       string            `json:"author_id,omitempty"`
	TargetID       string            `json:"target_id,omitempty"`
	CreatedNanos   string            `json:"created_ns,omitempty"`
	Segments       int               `json:"segments,omitempty"`
	Body           string            `json:"body,omitempty"`
	Media          []jsonMedia       `json:"media,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
	WebhookDigest  string            `json:"webhook_digest,omitempty"`
	Webhook        *ChainWebhook     `json:"webhook,omitempty"`

	// Delivery: as the message was written (kind message), or as it changed
	// (kind status).
	MessageID    string `json:"message_id,omitempty"`
	AtNanos      string `json:"at_ns,omitempty"`
	Status       string `json:"status,omitempty"`
	SID          string `json:"sid,omitempty"`
	ErrorCode    int    `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	DoneAt       string `json:"done_at,omitempty"`
}

// ChainWebhook is an inbound webhook as Twilio sent it: with the auth token, its
// signature can be checked again (Twilio's algorithm: HMAC-SHA1 of the URL and the
// sorted parameters).
type ChainWebhook struct {
	URL       string              `json:"url"`
	Signature string              `json:"signature"`
	Params    map[string][]string `json:"params"`
}

// Custody is custody.json.
type Custody struct {
	ExportID   string            `json:"export_id"`
	ExportedAt string            `json:"exported_at"`
	ExportedBy CustodyActor      `json:"exported_by"`
	Via        string            `json:"via,omitempty"`
	Request    map[string]string `json:"request"` // filters and options, as audited
	// Audit are the audit log's entries about the exported conversations (views,
	// reveals, legal holds), and this export's own, oldest first.
	Audit []CustodyAudit `json:"audit"`
}

// CustodyActor is who exported.
type CustodyActor struct {
	UserID     string `json:"user_id,omitempty"`
	Username   string `json:"username"`
	RemoteAddr string `json:"remote_addr,omitempty"`
}

// CustodyAudit is one audit entry.
type CustodyAudit struct {
	ID         string            `json:"id"`
	At         string            `json:"at"`
	Actor      string            `json:"actor"`
	ActorID    string            `json:"actor_id,omitempty"`
	Action     string            `json:"action"`
	TargetType string            `json:"target_type,omitempty"`
	TargetID   string            `json:"target_id,omitempty"`
	Detail     map[string]string `json:"detail,omitempty"`
	RemoteAddr string            `json:"remote_addr,omitempty"`
}

// FormatPublicKey writes a public key as `hotline key` shows it: "ed25519:" and
// its base64.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// Fingerprint is a short form of a public key to compare by voice or on paper:
// SHA-256 of the key, its first 16 bytes in groups of four hex digits.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	h := hex.EncodeToString(sum[:16])
	var groups []string
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, " ")
}

// ParsePublicKey reads a public key as FormatPublicKey writes it, or as bare base64
// or hex.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "ed25519:"))
	for _, dec := range []func(string) ([]byte, error){base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, hex.DecodeString} {
		if b, err := dec(s); err == nil && len(b) == ed25519.PublicKeySize {
			return ed25519.PublicKey(b), nil
		}
	}
	return nil, hotline.Errorf(hotline.EINVALID, "not an Ed25519 public key: write it as `hotline key` shows it (ed25519:…, base64 of 32 bytes)")
}

// bundle is the Encoder of FormatBundle. Each conversation's PDF and JSON are made
// in memory (one conversation at a time) and written to the archive when it ends;
// its chain is then read from the store, with its head, in one read transaction.
type bundle struct {
	ctx     context.Context
	store   hotline.Store
	zip     *zip.Writer
	key     ed25519.PrivateKey
	meta    Meta
	custody Custody
	now     time.Time

	manifest Manifest
	convs    map[hotline.ID]bool
	conv     Header
	pdf      *PDF
	pdfBuf   bytes.Buffer
	json     *JSONL
	jsonBuf  bytes.Buffer
}

// newBundle returns the bundle encoder of an export.
func newBundle(ctx context.Context, w io.Writer, store hotline.Store, key ed25519.PrivateKey, custody Custody, now time.Time) *bundle {
	b := &bundle{ctx: ctx, store: store, zip: zip.NewWriter(w), key: key, custody: custody, now: now, convs: map[hotline.ID]bool{}}
	pub := key.Public().(ed25519.PublicKey)
	b.manifest = Manifest{Format: BundleFormat, CreatedAt: now.UTC().Format(time.RFC3339Nano), ExportID: custody.ExportID,
		PublicKey: FormatPublicKey(pub), Fingerprint: Fingerprint(pub), Files: []ManifestFile{}, Conversations: []ManifestConversation{}}
	return b
}

// Begin writes the README.
func (b *bundle) Begin(m Meta) error {
	b.meta = m
	return b.file(bundleReadme, []byte(bundleReadmeText(b.manifest.Fingerprint)))
}

// file adds a file to the archive and to the manifest.
func (b *bundle) file(name string, data []byte) error {
	fw, err := b.zip.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.now})
	if err != nil {
		return err
	}
	if _, err := fw.Write(data); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	b.manifest.Files = append(b.manifest.Files, ManifestFile{Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))})
	return nil
}

// Conversation starts a conversation's PDF and JSON.
func (b *bundle) Conversation(h Header) error {
	b.conv = h
	b.pdfBuf.Reset()
	b.jsonBuf.Reset()
	b.pdf, b.json = NewPDF(&b.pdfBuf), NewJSONL(&b.jsonBuf)
	for _, enc := range []Encoder{b.pdf, b.json} {
		if err := enc.Begin(b.meta); err != nil {
			return err
		}
		if err := enc.Conversation(h); err != nil {
			return err
		}
	}
	return nil
}

// Message adds a message to the PDF and the JSON.
func (b *bundle) Message(m hotline.Message) error {
	if err := b.pdf.Message(m); err != nil {
		return err
	}
	return b.json.Message(m)
}

// EndConversation writes the conversation's transcripts and its chain.
func (b *bundle) EndConversation() error {
	for _, enc := range []Encoder{b.pdf, b.json} {
		if err := enc.EndConversation(); err != nil {
			return err
		}
		if err := enc.End(); err != nil {
			return err
		}
	}
	c := b.conv.Conversation
	dir := "conversations/" + c.ID.String() + "/"
	if err := b.file(dir+"transcript.pdf", b.pdfBuf.Bytes()); err != nil {
		return err
	}
	if err := b.file(dir+"transcript.json", b.jsonBuf.Bytes()); err != nil {
		return err
	}
	mc, chain, err := b.chain(c)
	if err != nil {
		return err
	}
	if err := b.file(dir+"chain.jsonl", chain); err != nil {
		return err
	}
	b.manifest.Conversations = append(b.manifest.Conversations, mc)
	b.convs[c.ID] = true
	return nil
}

// chain reads a conversation's chain and its head in one read transaction.
func (b *bundle) chain(c hotline.Conversation) (ManifestConversation, []byte, error) {
	mc := ManifestConversation{ID: c.ID.String(), Handle: c.Handle}
	var buf bytes.Buffer
	err := b.store.View(b.ctx, func(tx hotline.ReadTx) error {
		buf.Reset()
		mc.Entries, mc.Withheld = 0, 0
		conv, err := tx.Conversation(c.ID)
		if err != nil {
			return err
		}
		mc.HeadSeq, mc.HeadHash = conv.Chain.Seq, conv.Chain.Hash.String()
		var records []ChainRecord
		err = tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
			r := MessageRecord(m, b.meta.Options.RevealNumbers)
			if m.Direction == hotline.DirectionNote && !b.meta.Options.IncludeNotes {
				r = withheld(r, hotline.ContentHash(hotline.MessageContent(m)))
				mc.Withheld++
			}
			records = append(records, r)
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.StatusEvents(c.ID, func(e hotline.StatusEvent) error {
			records = append(records, StatusRecord(e))
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(records, func(x, y ChainRecord) int { return cmp.Compare(x.Seq, y.Seq) })
		for _, r := range records {
			line, err := json.Marshal(r)
			if err != nil {
				return err
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		mc.Entries = len(records)
		return nil
	})
	return mc, buf.Bytes(), err
}

// MessageRecord is a message's chain entry with its content; its webhook evidence
// only when reveal (it holds the texter's number), else just its digest.
func MessageRecord(m hotline.Message, reveal bool) ChainRecord {
	d := hotline.WrittenDelivery(m)
	r := ChainRecord{Seq: m.Chain.Seq, Kind: hotline.ChainMessage, Hash: m.Chain.Hash.String(), ID: m.ID.String(),
		ConversationID: m.ConversationID.String(), Nonce: hex.EncodeToString(m.Chain.Nonce), Direction: string(m.Direction),
		Purpose: string(m.Purpose), AuthorID: idOrEmpty(m.AuthorID), TargetID: idOrEmpty(m.TargetID),
		CreatedNanos: nanosText(m.CreatedAt), Segments: m.Segments, Body: m.Body, Media: mediaOf(m),
		Status: string(d.Status), SID: d.SID, ErrorCode: d.ErrorCode, ErrorMessage: d.ErrorMessage}
	if m.Chain.Seq > 1 {
		r.Prev = m.Chain.Prev.String()
	}
	if len(m.Extra) > 0 {
		r.Extra = map[string]string{}
		for k, v := range m.Extra {
			if k != hotline.ExtraDoneDate {
				r.Extra[k] = v
			}
		}
	}
	if w := m.Webhook; w != nil {
		r.WebhookDigest = hotline.WebhookDigest(*w).String()
		if reveal {
			r.Webhook = &ChainWebhook{URL: w.URL, Signature: w.Signature, Params: w.Params}
		}
	}
	return r
}

// StatusRecord is a status entry.
func StatusRecord(e hotline.StatusEvent) ChainRecord {
	r := ChainRecord{Seq: e.Chain.Seq, Kind: hotline.ChainStatus, Hash: e.Chain.Hash.String(), ID: e.ID.String(),
		ConversationID: e.ConversationID.String(), MessageID: e.MessageID.String(), AtNanos: nanosText(e.At),
		Status: string(e.Status), SID: e.SID, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, DoneAt: e.DoneAt}
	if e.Chain.Seq > 1 {
		r.Prev = e.Chain.Prev.String()
	}
	return r
}

// withheld keeps of an entry only what places it in the chain.
func withheld(r ChainRecord, content hotline.Digest) ChainRecord {
	return ChainRecord{Seq: r.Seq, Kind: r.Kind, Prev: r.Prev, Hash: r.Hash, ID: r.ID, Withheld: true, ContentHash: content.String()}
}

func nanosText(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// End writes the chain of custody, the manifest and its signature.
func (b *bundle) End() error {
	audit, err := custodyAudit(b.ctx, b.store, b.convs, b.custody.ExportID)
	if err != nil {
		return err
	}
	b.custody.Audit = audit
	data, err := json.MarshalIndent(b.custody, "", "  ")
	if err != nil {
		return err
	}
	if err := b.file(bundleCustody, append(data, '\n')); err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(b.manifest, "", "  ")
	if err != nil {
		return err
	}
	manifest = append(manifest, '\n')
	sig := ed25519.Sign(b.key, manifest)
	for _, f := range []struct {
		name string
		data []byte
	}{{bundleManifest, manifest}, {bundleSignature, []byte(base64.StdEncoding.EncodeToString(sig) + "\n")}} {
		fw, err := b.zip.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: b.now})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return b.zip.Close()
}

// custodyAudit returns the audit entries about the conversations (and the export's
// own), oldest first.
func custodyAudit(ctx context.Context, store hotline.Store, convs map[hotline.ID]bool, exportID string) ([]CustodyAudit, error) {
	var out []CustodyAudit
	err := store.View(ctx, func(tx hotline.ReadTx) error {
		out = out[:0]
		return tx.AuditEntries(hotline.ID{}, func(e hotline.AuditEntry) error {
			keep := e.TargetType == TargetExport && e.TargetID == exportID
			if e.TargetType == hotline.TargetConversation {
				if id, err := hotline.ParseID(e.TargetID); err == nil && convs[id] {
					keep = true
				}
			}
			if keep {
				out = append(out, CustodyAudit{ID: e.ID.String(), At: e.At.UTC().Format(time.RFC3339Nano), Actor: e.ActorUsername,
					ActorID: idOrEmpty(e.ActorID), Action: string(e.Action), TargetType: e.TargetType, TargetID: e.TargetID,
					Detail: e.Detail, RemoteAddr: e.RemoteAddr})
			}
			return nil
		})
	})
	slices.Reverse(out)
	if out == nil {
		out = []CustodyAudit{}
	}
	return out, err
}

// bundleReadmeText is README.txt: how to check the bundle by hand or with the tool.
func bundleReadmeText(fingerprint string) string {
	return `HOTLINE EVIDENCE BUNDLE (` + BundleFormat + `)

This archive holds transcripts exported from a crisis hotline, with what is needed
to check that they are complete and unchanged since the hotline stored them.

  manifest.json   every other file with its SHA-256 and size, each conversation's
                  chain head, and the hotline's public signing key
  manifest.sig    the Ed25519 signature of manifest.json (base64)
  custody.json    who exported this, when, with which filters; the audit log
                  entries about these conversations
  conversations/ID/transcript.pdf, transcript.json, chain.jsonl

The manifest was signed by the key with fingerprint
    ` + fingerprint + `
Do not trust that line: obtain the hotline's public key from the hotline itself,
out of band (in person, on paper, or read aloud over the phone), and compare.

To check with the hotline binary:
    hotline verify-bundle THIS.zip --public-key ed25519:...

To check by hand:
 1. Verify manifest.sig over the exact bytes of manifest.json with the Ed25519
    public key you obtained (for example with openssl pkeyutl -verify -rawin).
 2. Compute the SHA-256 of every file listed in manifest.json and compare.
 3. For each conversation, recompute every entry of chain.jsonl: its content
    hash from its fields in the canonical encoding (length-prefixed fields,
    documented in the hotline's README, "Tamper-evident history"), then
    SHA-256("hotline-chain-v1", conversation ID, seq, previous hash, content
    hash); each entry must name the previous entry's hash, and the last one's
    hash must be the head_hash in manifest.json.
`
}
