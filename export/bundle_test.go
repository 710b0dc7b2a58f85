package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
)

// storeAuditor appends audit entries to the store.
type storeAuditor struct{ st hotline.Store }

func (a storeAuditor) Audit(ctx context.Context, e hotline.AuditEntry) error {
	if e.At.IsZero() {
		e.At = t0
	}
	e.ID = hotline.NewID(e.At)
	return a.st.Update(ctx, func(tx hotline.Tx) error { return tx.AppendAudit(e) })
}

// makeBundle seeds n conversations (with a delivery status change and a held
// conversation's audit entry) and exports them as an evidence bundle.
func makeBundle(t *testing.T, n int, opts export.Options) ([]byte, ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	svc, _ := seed(t, n)
	st := svc.Store()
	ctx := context.Background()
	// A reply's delivery moves on: a status entry of the chain.
	err := st.Update(ctx, func(tx hotline.Tx) error {
		return tx.Outbox(func(e hotline.OutboxEntry) error {
			m, err := tx.Message(e.ConversationID, e.ID)
			if err != nil {
				return err
			}
			m.Status, m.TwilioSID, m.UpdatedAt = hotline.StatusSent, "SMsent"+m.ID.String(), m.CreatedAt.Add(1e9)
			return tx.PutMessage(m)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	opts.Now = t0
	var buf bytes.Buffer
	req := export.Request{Format: export.FormatBundle, Options: opts, Via: "cli", SigningKey: priv}
	stats, err := export.Run(ctx, st, storeAuditor{st}, hotline.OperatorCaller(hotline.OperatorCLI), req, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Conversations != n {
		t.Fatalf("exported %d conversations, want %d", stats.Conversations, n)
	}
	return buf.Bytes(), pub, priv
}

func verify(t *testing.T, b []byte, pub ed25519.PublicKey) export.BundleReport {
	t.Helper()
	rep, err := export.VerifyBundle(bytes.NewReader(b), int64(len(b)), pub)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestBundleVerifies: a fresh bundle verifies with the hotline's key; it holds
// the transcripts, the chain of every conversation and the chain of custody.
func TestBundleVerifies(t *testing.T) {
	b, pub, _ := makeBundle(t, 3, export.Options{IncludeNotes: true})
	rep := verify(t, b, pub)
	if !rep.OK() {
		t.Fatalf("a fresh bundle does not verify: %q", rep.Failures)
	}
	// 3 conversations × (inbound, welcome, system events…, reply, note, status).
	if rep.Conversations != 3 || rep.Entries < 15 || rep.Files != 3*3+2 || rep.Withheld != 0 {
		t.Errorf("report = %+v, want 3 conversations, their entries, 11 files, nothing withheld", rep)
	}
	files := unzip(t, b)
	var custody export.Custody
	if err := json.Unmarshal(files["custody.json"], &custody); err != nil {
		t.Fatal(err)
	}
	if custody.ExportedBy.Username != hotline.OperatorCLI || custody.Request["format"] != "bundle" || len(custody.Audit) == 0 {
		t.Errorf("custody = %+v, want who exported, the request and the export's audit entry", custody)
	}
	for name := range files {
		if strings.HasSuffix(name, "transcript.pdf") && !bytes.HasPrefix(files[name], []byte("%PDF")) {
			t.Errorf("%s is not a PDF", name)
		}
	}
}

// TestBundleWithheldNotes: notes left out of the export stay in the chain as
// hashes only, and the chain still verifies.
func TestBundleWithheldNotes(t *testing.T) {
	b, pub, _ := makeBundle(t, 2, export.Options{})
	rep := verify(t, b, pub)
	if !rep.OK() || rep.Withheld != 2 {
		t.Fatalf("report = %+v, want it to verify with the 2 notes withheld", rep)
	}
	for name, data := range unzip(t, b) {
		if bytes.Contains(data, []byte("private note")) {
			t.Errorf("%s holds a note the export left out", name)
		}
	}
}

// TestBundleDetectsTampering: a changed file, an added file, a changed chain
// re-signed by someone else, and a wrong key all fail, each saying what.
func TestBundleDetectsTampering(t *testing.T) {
	b, pub, priv := makeBundle(t, 2, export.Options{IncludeNotes: true})
	files := unzip(t, b)
	var convDir string
	for name := range files {
		if strings.HasSuffix(name, "/transcript.json") {
			convDir = strings.TrimSuffix(name, "transcript.json")
		}
	}
	otherPub, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name   string
		bundle []byte
		key    ed25519.PublicKey
		want   string
	}{
		{"changed PDF", rezip(t, files, func(f map[string][]byte) {
			pdf := f[convDir+"transcript.pdf"]
			pdf[len(pdf)/2] ^= 0xff
		}), pub, convDir + "transcript.pdf: CHANGED"},
		{"changed transcript text", rezip(t, files, func(f map[string][]byte) {
			f[convDir+"transcript.json"] = bytes.Replace(f[convDir+"transcript.json"], []byte("We are here."), []byte("We are gone."), 1)
		}), pub, convDir + "transcript.json: CHANGED"},
		{"added file", rezip(t, files, func(f map[string][]byte) { f["conversations/extra.txt"] = []byte("planted") }), pub, "conversations/extra.txt: ADDED"},
		{"deleted file", rezip(t, files, func(f map[string][]byte) { delete(f, "custody.json") }), pub, "custody.json: MISSING"},
		{"wrong public key", b, otherPub, "SIGNATURE"},
		{"forged signature", rezip(t, files, func(f map[string][]byte) {
			f["manifest.sig"] = []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(otherPriv, f["manifest.json"])))
		}), pub, "SIGNATURE"},
		{"chain entry changed, manifest updated and re-signed by another key", rezip(t, files, func(f map[string][]byte) {
			name := convDir + "chain.jsonl"
			f[name] = bytes.Replace(f[name], []byte("We are here."), []byte("We were never here."), 1)
			resign(t, f, name, otherPriv)
		}), pub, "SIGNATURE"},
		{"chain entry changed, re-signed by the hotline's key", rezip(t, files, func(f map[string][]byte) {
			name := convDir + "chain.jsonl"
			f[name] = bytes.Replace(f[name], []byte("We are here."), []byte("We were never here."), 1)
			resign(t, f, name, priv)
		}), pub, "CHAIN: conversation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := verify(t, tt.bundle, tt.key)
			if rep.OK() {
				t.Fatal("a tampered bundle verifies")
			}
			if !strings.Contains(strings.Join(rep.Failures, "\n"), tt.want) {
				t.Errorf("failures = %q, want one containing %q", rep.Failures, tt.want)
			}
		})
	}
}

// resign updates a file's hash in the manifest and signs it again with priv: with
// the hotline's own key (an insider with the key), only the chain can tell.
func resign(t *testing.T, f map[string][]byte, name string, priv ed25519.PrivateKey) {
	t.Helper()
	var m export.Manifest
	if err := json.Unmarshal(f["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Files {
		if m.Files[i].Path == name {
			sum := sha256.Sum256(f[name])
			m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(f[name]))
		}
	}
	data, _ := json.MarshalIndent(m, "", "  ")
	f["manifest.json"] = append(data, '\n')
	f["manifest.sig"] = []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, f["manifest.json"])))
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func rezip(t *testing.T, files map[string][]byte, change func(map[string][]byte)) []byte {
	t.Helper()
	f := map[string][]byte{}
	for k, v := range files {
		f[k] = bytes.Clone(v)
	}
	change(f)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for k, v := range f {
		w, err := zw.Create(k)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(v)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBundleRefusesMaskedBodies: masked bodies would not match their chain.
func TestBundleRefusesMaskedBodies(t *testing.T) {
	svc, _ := seed(t, 1)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	req := export.Request{Format: export.FormatBundle, Options: export.Options{MaskBodies: true}, SigningKey: priv}
	_, err := export.Run(context.Background(), svc.Store(), storeAuditor{svc.Store()}, hotline.OperatorCaller(hotline.OperatorCLI), req, io.Discard)
	if hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("a bundle with masked bodies: %v, want EINVALID", err)
	}
}
