package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/config"
)

// keyBytes is what testMasterKey decodes to.
var keyBytes = []byte{0x9c, 0x01, 0xff, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28}

func TestParseMasterKey(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"32 raw bytes", string(keyBytes), true},
		{"32 raw bytes ending in a newline byte", string(append(bytes.Clone(keyBytes[:31]), '\n')), true},
		{"base64 with a newline", testMasterKey + "\n", true},
		{"URL base64 without padding", "nAH_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw", true},
		{"32 characters of text", "correct horse battery staple!!!!", false},
		{"too short", "c2hvcnQ=", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := config.ParseMasterKey([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("ParseMasterKey = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && len(k) != config.MasterKeySize {
				t.Errorf("ParseMasterKey = %d bytes, want 32", len(k))
			}
			if err != nil && !strings.Contains(err.Error(), "openssl rand") {
				t.Errorf("error %q does not say how to make a key", err)
			}
		})
	}
}

// TestMasterKeyFromFileOrEnvironment: the key comes from crypto.master_key_file (raw
// bytes kept as they are) or HOTLINE_CRYPTO__MASTER_KEY, never shown by Redacted.
func TestMasterKeyFromFileOrEnvironment(t *testing.T) {
	dir := t.TempDir()
	rawFile := filepath.Join(dir, "raw.key")
	if err := os.WriteFile(rawFile, keyBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, environ := range [][]string{
		{"HOTLINE_CRYPTO__MASTER_KEY_FILE=" + rawFile},
		{"HOTLINE_CRYPTO__MASTER_KEY=" + testMasterKey},
	} {
		c, err := config.Load("", environ)
		if err != nil {
			t.Fatal(err)
		}
		k, err := c.MasterKey()
		if err != nil || !bytes.Equal(k, keyBytes) {
			t.Errorf("%v: MasterKey = %x, %v; want %x", environ, k, err, keyBytes)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%v: Validate = %v", environ, err)
		}
		if r := c.Redacted().Crypto.MasterKey; r != "***" {
			t.Errorf("Redacted master key = %q, want ***", r)
		}
	}
	_, err := config.Load("", []string{"HOTLINE_CRYPTO__MASTER_KEY_FILE=" + rawFile, "HOTLINE_CRYPTO__MASTER_KEY=" + testMasterKey})
	if err == nil || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("both the key and its file: %v, want an error", err)
	}
}

// TestCryptoValidate: the Twilio provider needs a key unless plaintext is allowed;
// a bad key, or a key file inside data_dir, is named with its key and its fix.
func TestCryptoValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*config.Config)
		key  string // the key Validate must name; "" for valid
		want string
	}{
		{"twilio without a key", func(c *config.Config) { c.Crypto.MasterKey = "" }, "crypto.master_key_file", "allow_plaintext"},
		{"twilio in plaintext on purpose", func(c *config.Config) { c.Crypto.MasterKey, c.Crypto.AllowPlaintext = "", true }, "", ""},
		{"simulator without a key", func(c *config.Config) { c.SMS.Provider, c.Crypto.MasterKey = config.ProviderSimulator, "" }, "", ""},
		{"a malformed key", func(c *config.Config) { c.Crypto.MasterKey = "not a key" }, "crypto.master_key", "openssl rand"},
		{"a key file in data_dir", func(c *config.Config) {
			c.DataDir = "/var/lib/hotline"
			c.Crypto.MasterKeyFile = "/var/lib/hotline/master.key"
		}, "crypto.master_key_file", "inside data_dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := twilioConfig()
			tc.mod(&c)
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %s: …%s…", err, tc.key, tc.want)
			}
		})
	}
	if config.Default().Encrypted() || !twilioConfig().Encrypted() {
		t.Error("Encrypted() of the zero configuration is true, or of one with a key false")
	}
}

func TestKeysPath(t *testing.T) {
	c := config.Default()
	c.DataDir = "/var/lib/hotline"
	if got, want := c.KeysPath(), filepath.Join("/var/lib/hotline", "hotline.keys.db"); got != want {
		t.Errorf("KeysPath = %q, want %q", got, want)
	}
	c.Crypto.KeysFile = "/srv/keys/hotline.keys.db"
	if got := c.KeysPath(); got != c.Crypto.KeysFile {
		t.Errorf("KeysPath = %q, want crypto.keys_file", got)
	}
}
