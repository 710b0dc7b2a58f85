package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// The commands of evidence and encryption at rest: verify, verify-bundle, key,
// rotate-key and encrypt (README: tamper-evident history, evidence bundles,
// encryption at rest).

// storeOptions are how the configuration opens the store: with the master key
// and the keystore when a key is configured.
func storeOptions(cfg config.Config) (store.Options, error) {
	key, err := cfg.MasterKey()
	if err != nil {
		return store.Options{}, fmt.Errorf("crypto.master_key: %w", err)
	}
	return store.Options{LockTimeout: cfg.Store.LockTimeout, MasterKey: key, KeysPath: cfg.KeysPath()}, nil
}

// runVerify is `hotline verify [--conversation ID]`: recompute every hash chain of
// a stopped data directory's store (or one conversation's) and name the first
// record of each that does not match.
func runVerify(ctx context.Context, e env, args []string) error {
	fs := newFlags("verify", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	conversation := fs.String("conversation", "", "check only this conversation (its ID)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var id hotline.ID
	if *conversation != "" {
		var err error
		if id, err = hotline.ParseID(*conversation); err != nil {
			return usageError{"--conversation: " + hotline.ErrorMessage(err)}
		}
	}
	cfg, st, err := openStopped(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.Verify(ctx, id)
	if err != nil {
		return err
	}
	for _, b := range rep.Breaks {
		fmt.Fprintf(e.stdout, "BROKEN %v\n", b)
	}
	if len(rep.Breaks) > 0 {
		return fmt.Errorf("%d of %d conversations have a hash chain that does not verify (the first bad record of each is named above)", len(rep.Breaks), rep.Conversations+countUnread(rep))
	}
	fmt.Fprintf(e.stdout, "%s: ok: %d conversations, %d chained records, every chain verifies\n", cfg.DBPath(), rep.Conversations, rep.Entries)
	return nil
}

// countUnread counts the chains Verify could not read (they are breaks, not
// counted as checked).
func countUnread(rep store.VerifyReport) int {
	n := 0
	for _, b := range rep.Breaks {
		if b.Entry.Kind == "" && strings.HasPrefix(b.Reason, "a record does not decode") {
			n++
		}
	}
	return n
}

// runVerifyBundle is `hotline verify-bundle FILE --public-key KEY`: check an
// evidence bundle with nothing but the bundle and the hotline's public key.
func runVerifyBundle(_ context.Context, e env, args []string) error {
	fs := newFlags("verify-bundle", e)
	pubFlag := fs.String("public-key", "", "the hotline's public key (ed25519:… as `hotline key` prints it, or a file holding it), obtained out of band")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: hotline verify-bundle FILE --public-key KEY")
		fs.PrintDefaults()
	}
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return usageError{err.Error()}
		}
	}
	if file == "" || fs.NArg() > 0 {
		return usageError{"name one bundle: hotline verify-bundle FILE --public-key KEY"}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if *pubFlag == "" {
		return usageError{"--public-key is required: get the hotline's public key from the hotline itself, out of band (its coordinators run `hotline key`, or read it on the console's Exports page), and compare its fingerprint"}
	}
	keyText := *pubFlag
	if data, err := os.ReadFile(keyText); err == nil {
		keyText = strings.TrimSpace(string(data))
		if i := strings.Index(keyText, "ed25519:"); i >= 0 {
			keyText = strings.Fields(keyText[i:])[0]
		}
	}
	pub, err := export.ParsePublicKey(keyText)
	if err != nil {
		return usageError{"--public-key: " + hotline.ErrorMessage(err)}
	}
	rep, err := export.VerifyBundle(f, info.Size(), pub)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(e.stdout, "bundle:      %s\nexport:      %s, made %s\npublic key:  %s (fingerprint %s)\n", file, rep.ExportID, rep.CreatedAt, export.FormatPublicKey(pub), export.Fingerprint(pub))
	fmt.Fprintf(e.stdout, "checked:     %d files, %d conversations, %d chained records\n", rep.Files, rep.Conversations, rep.Entries)
	if rep.Withheld > 0 {
		fmt.Fprintf(e.stdout, "withheld:    %d records are in the chains as hashes only (notes left out of the export)\n", rep.Withheld)
	}
	if rep.WebhooksWithheld > 0 {
		fmt.Fprintf(e.stdout, "webhooks:    %d inbound webhooks are present as digests only (the export did not reveal numbers)\n", rep.WebhooksWithheld)
	}
	if !rep.OK() {
		fmt.Fprintln(e.stdout, "\nFAILED:")
		for _, f := range rep.Failures {
			fmt.Fprintln(e.stdout, "  - "+f)
		}
		return fmt.Errorf("the bundle does NOT verify: %d problems (above)", len(rep.Failures))
	}
	fmt.Fprintln(e.stdout, "\nOK: the signature, every file's SHA-256 and every conversation's hash chain verify")
	return nil
}

// runKey is `hotline key`: print the hotline's public signing key and its
// fingerprint, making the key pair if the hotline has none yet.
func runKey(ctx context.Context, e env, args []string) error {
	fs := newFlags("key", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	server := fs.String("server", "", "ask a running hotline at this URL instead (GET /api/v1/key)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var pub ed25519.PublicKey
	if *server != "" {
		var err error
		if pub, err = fetchPublicKey(ctx, *server); err != nil {
			return err
		}
	} else {
		_, st, err := openStopped(e, *configPath, *dataDir)
		if err != nil {
			return err
		}
		defer st.Close()
		priv, err := st.SigningKey(ctx)
		if err != nil {
			return err
		}
		pub = priv.Public().(ed25519.PublicKey)
	}
	fmt.Fprintf(e.stdout, "%s\nfingerprint: %s\n", export.FormatPublicKey(pub), export.Fingerprint(pub))
	return nil
}

// fetchPublicKey asks a running hotline for its public key.
func fetchPublicKey(ctx context.Context, server string) (ed25519.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/v1/key", nil)
	if err != nil {
		return nil, usageError{"--server: " + err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", server, resp.Status)
	}
	var k struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal(body, &k); err != nil {
		return nil, err
	}
	return export.ParsePublicKey(k.PublicKey)
}

// runRotateKey is `hotline rotate-key --new-key-file FILE`: re-wrap every data key
// of a stopped hotline's keystore from the configured master key to a new one.
func runRotateKey(_ context.Context, e env, args []string) error {
	fs := newFlags("rotate-key", e)
	configPath := fs.String("config", "", "the configuration file (its crypto.master_key_file is the current key)")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	newKeyFile := fs.String("new-key-file", "", "the file holding the new master key (32 random bytes, or their base64)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *newKeyFile == "" {
		return usageError{"--new-key-file FILE is required; make a key with: openssl rand -base64 32 > FILE"}
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	old, err := cfg.MasterKey()
	if err != nil {
		return err
	}
	if old == nil {
		return usageError{"no master key is configured: the store is not encrypted, there is nothing to rotate (set crypto.master_key_file to encrypt it)"}
	}
	data, err := os.ReadFile(*newKeyFile)
	if err != nil {
		return err
	}
	newKey, err := config.ParseMasterKey(data)
	if err != nil {
		return fmt.Errorf("--new-key-file %s: %w", *newKeyFile, err)
	}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return fmt.Errorf("no hotline database at %s (set --data-dir or data_dir): %w", cfg.DBPath(), err)
	}
	n, err := store.RotateMasterKey(cfg.KeysPath(), old, newKey, store.Options{LockTimeout: cfg.Store.LockTimeout})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "re-wrapped %d keys in %s from master key %s to %s\n", n, cfg.KeysPath(), store.MasterKeyID(old), store.MasterKeyID(newKey))
	fmt.Fprintf(e.stdout, "now point crypto.master_key_file at %s and start the hotline; keep the old key for as long as you keep copies of the keystore made before today\n", *newKeyFile)
	return nil
}

// runEncrypt is `hotline encrypt`: encrypt a stopped hotline's plaintext store with
// the configured master key now (the server would do it at start).
func runEncrypt(ctx context.Context, e env, args []string) error {
	fs := newFlags("encrypt", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	if !cfg.Encrypted() {
		return usageError{"no master key is configured: set crypto.master_key_file (or HOTLINE_CRYPTO__MASTER_KEY) to the key to encrypt with"}
	}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return fmt.Errorf("no hotline database at %s (set --data-dir or data_dir): %w", cfg.DBPath(), err)
	}
	opts, err := storeOptions(cfg)
	if err != nil {
		return err
	}
	sealed := false
	opts.OnEncrypt = func(p store.EncryptProgress) {
		sealed = true
		if p.Done {
			fmt.Fprintln(e.stderr, "encrypted every record; the file was rewritten without the plaintext")
			return
		}
		fmt.Fprintf(e.stderr, "encrypting %s: %d records\n", p.Bucket, p.Records)
	}
	st, err := store.Open(cfg.DBPath(), opts)
	if err != nil {
		return err
	}
	defer st.Close()
	if !sealed {
		fmt.Fprintf(e.stdout, "%s is already encrypted (keystore %s)\n", cfg.DBPath(), st.KeysPath())
		return nil
	}
	fmt.Fprintf(e.stdout, "%s is encrypted; its data keys are in %s. Back the keystore up (hotline backup --keys-out FILE), and destroy the plaintext backups made before.\n", cfg.DBPath(), st.KeysPath())
	return nil
}
