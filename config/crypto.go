package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Crypto configures encryption at rest (README: encryption at rest).
type Crypto struct {
	// MasterKeyFile names a file that holds the master key: 32 random bytes, or
	// their base64. It must not be inside data_dir, nor in its backups.
	MasterKeyFile string `yaml:"master_key_file"`
	// MasterKey is the master key in base64, for the environment
	// (HOTLINE_CRYPTO__MASTER_KEY); the file is preferred.
	MasterKey string `yaml:"master_key"`
	// KeysFile is the keystore, which holds the data keys wrapped by the master
	// key; empty means data_dir/hotline.keys.db. Keep it out of the snapshots that
	// hold the database: see KeysPath.
	KeysFile string `yaml:"keys_file"`
	// AllowPlaintext lets the Twilio provider run without a master key, storing
	// texters' words and numbers unencrypted.
	AllowPlaintext bool `yaml:"allow_plaintext"`
}

// MasterKeySize is the size of a master key: 32 bytes (AES-256).
const MasterKeySize = 32

// maxKeyFile bounds a master key file: 32 bytes, or their base64.
const maxKeyFile = 1 << 10

// ParseMasterKey reads a master key: exactly 32 random bytes, or their base64
// (standard or URL alphabet, padded or not) with white space around it. 32 bytes of
// printable text are refused: that is a password, not a random key.
func ParseMasterKey(b []byte) ([]byte, error) {
	if len(b) == MasterKeySize && !printable(b) {
		return bytes.Clone(b), nil
	}
	s := strings.TrimSpace(string(b))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && s != "" {
			if len(k) != MasterKeySize {
				return nil, fmt.Errorf("the key decodes to %d bytes, not %d; generate one with: openssl rand -base64 32", len(k), MasterKeySize)
			}
			return k, nil
		}
	}
	if len(b) == MasterKeySize {
		return nil, errors.New("the key is 32 characters of text, not 32 random bytes; generate one with: openssl rand -base64 32")
	}
	return nil, fmt.Errorf("the key is neither %d random bytes nor their base64 (%d bytes found); generate one with: openssl rand -base64 32", MasterKeySize, len(b))
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// MasterKey returns the master key: nil when none is configured. Load has read
// crypto.master_key_file into crypto.master_key; Validate reports a malformed key.
func (c Config) MasterKey() ([]byte, error) {
	if c.Crypto.MasterKey == "" {
		return nil, nil
	}
	return ParseMasterKey([]byte(c.Crypto.MasterKey))
}

// KeysPath returns the keystore's path: crypto.keys_file, or hotline.keys.db beside
// the database. Store backups never contain it, which is what lets a purge reach
// old backups; so if you snapshot data_dir wholesale, set keys_file elsewhere.
func (c Config) KeysPath() string {
	if c.Crypto.KeysFile != "" {
		return c.Crypto.KeysFile
	}
	return strings.TrimSuffix(c.DBPath(), ".db") + ".keys.db"
}

// readMasterKeyFile returns a key file's bytes as they are: a raw key may end in
// a byte that looks like a newline.
func readMasterKeyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the master key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read the master key from %s: %w", path, err)
	case len(data) > maxKeyFile:
		return "", fmt.Errorf("%s is larger than %d bytes; it must hold only the key", path, maxKeyFile)
	case len(data) == 0:
		return "", fmt.Errorf("%s is empty; generate a key with: openssl rand -base64 32 > %s", path, filepath.Base(path))
	}
	return string(data), nil
}

func (c Config) validateCrypto(p *problems) {
	key := "crypto.master_key"
	if c.Crypto.MasterKeyFile != "" {
		key = "crypto.master_key_file"
	}
	if _, err := c.MasterKey(); err != nil {
		p.add(key, "%v", err)
	}
	if c.SMS.Provider == ProviderTwilio && c.Crypto.MasterKey == "" && !c.Crypto.AllowPlaintext {
		p.add("crypto.master_key_file", "is required with sms.provider twilio: what texters write and their numbers must not be stored unencrypted. "+
			"Generate a key outside data_dir (openssl rand -base64 32 > /etc/hotline/master.key; chmod 600) and name it here, "+
			"or set HOTLINE_CRYPTO__MASTER_KEY; to run without encryption anyway, set crypto.allow_plaintext: true")
	}
	if c.Crypto.MasterKeyFile != "" && c.DataDir != "" {
		if rel, err := filepath.Rel(c.DataDir, c.Crypto.MasterKeyFile); err == nil && !strings.HasPrefix(rel, "..") {
			p.add("crypto.master_key_file", "%q is inside data_dir: the key would sit beside the data it protects (and in its copies); keep it elsewhere", c.Crypto.MasterKeyFile)
		}
	}
}

// Encrypted reports whether a master key is configured: the store is then encrypted
// at rest.
func (c Config) Encrypted() bool { return c.Crypto.MasterKey != "" }

// PlaintextWarning is what the server says, loudly (in its log, on the terminal and
// in the console), when it stores texters' words unencrypted.
const PlaintextWarning = "DATA IS NOT ENCRYPTED: messages and phone numbers are stored in plaintext in data_dir; set crypto.master_key_file (see README: encryption at rest)"
