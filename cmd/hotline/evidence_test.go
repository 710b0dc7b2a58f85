package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/webhooks"
)

// writeKeyFile writes a new master key (32 random bytes) to a file outside any
// data directory and returns its path and bytes.
func writeKeyFile(t *testing.T) (string, []byte) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// Distinctive words and a number that must never be found in plaintext on disk.
const (
	secretNumber = "+14155559876"
	secretBody   = "zanzibar lighthouse 7731"
	secretReply  = "quixotic reply 5521"
	secretNote   = "marmalade note 4410"
)

// TestEncryptedHotlineEndToEnd runs the real server with a master key, texts it
// through the signed webhook, replies and writes a note through the console API,
// takes a backup and an evidence bundle over the API; then, with the server
// stopped: the database, its backup and the keystore hold none of those words or
// the number; every chain verifies; the bundle verifies with the public key that
// `hotline key` prints and carries Twilio's signature, which verifies again; the
// store refuses to open without the key; and after `hotline rotate-key` only the
// new key opens it.
func TestEncryptedHotlineEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	keyFile, key := writeKeyFile(t)
	environ := []string{"HOTLINE_DATA_DIR=" + dataDir, "HOTLINE_CRYPTO__MASTER_KEY_FILE=" + keyFile}
	base, _, stop := startServe(t, dataDir, environ...)

	if status, _ := postInbound(t, base, inboundParams("SM"+strings.Repeat("7", 32), secretNumber, secretBody)); status != http.StatusOK {
		t.Fatalf("inbound = %d", status)
	}
	c := coordinatorSignIn(t, base)
	var list struct {
		Conversations []struct {
			ID string `json:"id"`
		} `json:"conversations"`
	}
	if status := c.call(t, "GET", "/api/v1/conversations", nil, &list); status != 200 || len(list.Conversations) != 1 {
		t.Fatalf("conversations = %d %+v", status, list)
	}
	id := list.Conversations[0].ID
	for _, step := range []struct{ path, body string }{
		{"/api/v1/conversations/" + id + "/accept", ""},
		{"/api/v1/conversations/" + id + "/messages", secretReply},
		{"/api/v1/conversations/" + id + "/notes", secretNote},
	} {
		var body any
		if step.body != "" {
			body = map[string]string{"body": step.body}
		}
		if status := c.call(t, "POST", step.path, body, nil); status >= 300 {
			t.Fatalf("POST %s = %d", step.path, status)
		}
	}
	var settings struct {
		Encrypted bool   `json:"encrypted"`
		Warning   string `json:"encryption_warning"`
	}
	if c.call(t, "GET", "/api/v1/settings", nil, &settings); !settings.Encrypted || settings.Warning != "" {
		t.Errorf("settings = %+v, want encrypted and no warning", settings)
	}
	var key1 struct {
		PublicKey   string `json:"public_key"`
		Fingerprint string `json:"fingerprint"`
	}
	resp, err := http.Get(base + "/api/v1/key") // public: no session
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&key1)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(key1.PublicKey, "ed25519:") {
		t.Fatalf("GET /api/v1/key = %d %+v", resp.StatusCode, key1)
	}
	if code, out, errOut := runCmd(t, nil, "key", "--server", base); code != 0 || !strings.Contains(out, key1.PublicKey) {
		t.Errorf("hotline key --server = %d %q %q, want %s", code, out, errOut, key1.PublicKey)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(backup, get(t, c, "/api/v1/admin/backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	bundle := get(t, c, "/api/v1/export?format=bundle&notes=true&reveal=true")
	stop()

	// Nothing in plaintext: not in the database, its backup or the keystore.
	files := []string{filepath.Join(dataDir, "hotline.db"), backup, filepath.Join(dataDir, "hotline.keys.db")}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{secretBody, secretReply, secretNote, secretNumber, strings.TrimPrefix(secretNumber, "+1"), url.QueryEscape(secretNumber), string(key)} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q in plaintext", filepath.Base(f), secret)
			}
		}
	}

	// The bundle from the API verifies with the key, and Twilio's signature is in it.
	pub, err := export.ParsePublicKey(key1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := export.VerifyBundle(bytes.NewReader(bundle), int64(len(bundle)), pub)
	if err != nil || !rep.OK() {
		t.Fatalf("the API's bundle: %+v, %v", rep, err)
	}
	hook := inboundWebhook(t, bundle)
	if hook == nil || !webhooks.ValidSignature([]string{testAuthToken}, hook.URL, url.Values(hook.Params), hook.Signature) {
		t.Errorf("the bundle's inbound webhook %+v: want Twilio's signature to verify again", hook)
	}

	// The command line: verify, key, export --bundle, verify-bundle.
	if code, out, errOut := runCmd(t, environ, "verify"); code != 0 || !strings.Contains(out, "every chain verifies") {
		t.Errorf("hotline verify = %d %q %q", code, out, errOut)
	}
	code, out, errOut := runCmd(t, environ, "key")
	if code != 0 || !strings.Contains(out, key1.PublicKey) || !strings.Contains(out, key1.Fingerprint) {
		t.Errorf("hotline key = %d %q %q, want %s", code, out, errOut, key1.PublicKey)
	}
	zipFile := filepath.Join(t.TempDir(), "evidence.zip")
	if code, _, errOut := runCmd(t, environ, "export", "--bundle", "--notes", "--no-progress", "--out", zipFile); code != 0 {
		t.Fatalf("hotline export --bundle = %d %q", code, errOut)
	}
	if code, out, errOut := runCmd(t, nil, "verify-bundle", zipFile, "--public-key", key1.PublicKey); code != 0 || !strings.Contains(out, "OK:") {
		t.Errorf("hotline verify-bundle = %d %q %q", code, out, errOut)
	}
	otherKey := "ed25519:" + strings.Repeat("A", 43) + "="
	if code, out, _ := runCmd(t, nil, "verify-bundle", "--public-key", otherKey, zipFile); code != 1 || !strings.Contains(out, "SIGNATURE") {
		t.Errorf("hotline verify-bundle with another key = %d %q, want 1 and the signature named", code, out)
	}
	if code, _, errOut := runCmd(t, nil, "verify-bundle", zipFile); code != 2 || !strings.Contains(errOut, "out of band") {
		t.Errorf("hotline verify-bundle without a key = %d %q, want 2 and how to get the key", code, errOut)
	}

	// Without the key, the store does not open.
	if code, _, errOut := runCmd(t, []string{"HOTLINE_DATA_DIR=" + dataDir}, "verify"); code != 1 || !strings.Contains(errOut, "the store is encrypted") {
		t.Errorf("hotline verify without the key = %d %q, want a refusal naming the key to set", code, errOut)
	}

	// Rotation: the new key opens everything, the old one nothing.
	newKeyFile, _ := writeKeyFile(t)
	if code, out, errOut := runCmd(t, environ, "rotate-key", "--new-key-file", newKeyFile); code != 0 || !strings.Contains(out, "re-wrapped") {
		t.Fatalf("hotline rotate-key = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, environ, "verify"); code != 1 || !strings.Contains(errOut, "does not open the keystore") {
		t.Errorf("verify with the old key after rotation = %d %q, want a refusal", code, errOut)
	}
	rotated := []string{"HOTLINE_DATA_DIR=" + dataDir, "HOTLINE_CRYPTO__MASTER_KEY_FILE=" + newKeyFile}
	if code, out, errOut := runCmd(t, rotated, "verify"); code != 0 || !strings.Contains(out, "every chain verifies") {
		t.Errorf("verify with the new key = %d %q %q", code, out, errOut)
	}

	// A message deleted behind the store's back: verify names where the chain breaks.
	db, err := bolt.Open(filepath.Join(dataDir, "hotline.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("messages")).Cursor()
		k, _ := c.First()
		return tx.Bucket([]byte("messages")).Delete(bytes.Clone(k))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCmd(t, rotated, "verify", "--conversation", id); code != 1 || !strings.Contains(out, "BROKEN conversation "+id) || !strings.Contains(out, "missing") {
		t.Errorf("verify after a deletion = %d %q, want 1 naming the break", code, out)
	}
}

// get downloads path as the signed-in coordinator.
func get(t *testing.T, c *consoleClient, path string) []byte {
	t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %v %.200s", path, resp.StatusCode, err, b)
	}
	return b
}

// inboundWebhook returns the first inbound message's webhook of a bundle's chains.
func inboundWebhook(t *testing.T, bundle []byte) *export.ChainWebhook {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "chain.jsonl") {
			continue
		}
		rc, _ := f.Open()
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			var r export.ChainRecord
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.Direction == "inbound" {
				rc.Close()
				return r.Webhook
			}
		}
		rc.Close()
	}
	return nil
}

// TestPlaintextHotlineWarns: without a master key the simulator hotline starts,
// and says loudly that data is not encrypted: in its log, on the terminal, and to
// coordinators in the console's settings.
func TestPlaintextHotlineWarns(t *testing.T) {
	dataDir := t.TempDir()
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	e := env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, environ: []string{
		"HOTLINE_LISTEN=127.0.0.1:0", "HOTLINE_DATA_DIR=" + dataDir, "HOTLINE_ADMIN__PASSWORD=correct horse battery staple", "HOTLINE_LOG__FORMAT=json"}}
	go func() { done <- run(ctx, e, []string{"serve"}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "hotline is running") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	log := stderr.String()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve = %d\n%s", code, stderr.String())
	}
	warned := false
	for _, line := range strings.Split(log, "\n") {
		warned = warned || strings.Contains(line, `"level":"warn"`) && strings.Contains(line, `"message":"DATA IS NOT ENCRYPTED`)
	}
	if !strings.Contains(log, "\nWARNING: DATA IS NOT ENCRYPTED") || !warned {
		t.Errorf("the server's output does not warn on the terminal and in the log:\n%s", log)
	}

	base, _, _ := startServe(t, t.TempDir())
	c := coordinatorSignIn(t, base)
	var settings struct {
		Encrypted bool   `json:"encrypted"`
		Warning   string `json:"encryption_warning"`
	}
	if c.call(t, "GET", "/api/v1/settings", nil, &settings); settings.Encrypted || !strings.Contains(settings.Warning, "NOT ENCRYPTED") {
		t.Errorf("settings = %+v, want the warning for coordinators", settings)
	}
}

// TestTwilioRefusesToRunInPlaintext: with the Twilio provider and no key, serve
// does not start, and says which key to set and how to opt out.
func TestTwilioRefusesToRunInPlaintext(t *testing.T) {
	environ := []string{"HOTLINE_DATA_DIR=" + t.TempDir(), "HOTLINE_SMS__PROVIDER=twilio", "HOTLINE_PUBLIC_URL=https://hotline.example.org",
		"HOTLINE_TWILIO__ACCOUNT_SID=AC" + strings.Repeat("0", 32), "HOTLINE_TWILIO__AUTH_TOKEN=" + testAuthToken, "HOTLINE_TWILIO__FROM=+15005550006"}
	code, _, errOut := runCmd(t, environ, "serve")
	if code == 0 || !strings.Contains(errOut, "crypto.master_key_file: is required with sms.provider twilio") || !strings.Contains(errOut, "crypto.allow_plaintext") {
		t.Errorf("serve with twilio and no key = %d %q", code, errOut)
	}
}

// TestEncryptCommand: a plaintext data directory is encrypted by `hotline encrypt`
// (or at the next start with a key), and its file no longer holds the plaintext.
func TestEncryptCommand(t *testing.T) {
	dir := seedDataDir(t)
	db := filepath.Join(dir, "hotline.db")
	before, _ := os.ReadFile(db)
	if !bytes.Contains(before, []byte("14155550101")) {
		t.Fatal("the seeded plaintext store does not hold the number: the test would prove nothing")
	}
	keyFile, _ := writeKeyFile(t)
	environ := []string{"HOTLINE_DATA_DIR=" + dir, "HOTLINE_CRYPTO__MASTER_KEY_FILE=" + keyFile}
	code, out, errOut := runCmd(t, environ, "encrypt")
	if code != 0 || !strings.Contains(out, "is encrypted") {
		t.Fatalf("hotline encrypt = %d %q %q", code, out, errOut)
	}
	after, _ := os.ReadFile(db)
	for _, s := range []string{"14155550101", "calc"} {
		if bytes.Contains(after, []byte(s)) {
			t.Errorf("after encrypting, the file still holds %q", s)
		}
	}
	if code, out, _ := runCmd(t, environ, "encrypt"); code != 0 || !strings.Contains(out, "already encrypted") {
		t.Errorf("encrypting again = %d %q", code, out)
	}
	if code, out, errOut := runCmd(t, environ, "check"); code != 0 {
		t.Errorf("hotline check after encrypting = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, []string{"HOTLINE_DATA_DIR=" + dir}, "encrypt"); code != 2 || !strings.Contains(errOut, "no master key") {
		t.Errorf("encrypt without a key = %d %q", code, errOut)
	}
}
