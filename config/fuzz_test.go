package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hotlinehq/hotline/config"
)

// FuzzLoad checks that no configuration file or environment value makes Load,
// Validate or the helpers panic: an operator's typo must end in an error message.
func FuzzLoad(f *testing.F) {
	if example, err := os.ReadFile(exampleFile); err == nil {
		f.Add(string(example), "HOTLINE_TWILIO__MPS", "3")
	}
	for _, seed := range []struct{ doc, name, value string }{
		{"", "HOTLINE_LISTEN", ":8080"},
		{"listen: [\n", "HOTLINE_TWILIO__AUTH_TOKEN", "x"},
		{"twilio:\n  auth_tokn: x\n", "HOTLINE_CONVERSATION__KEYWORDS", "[{word: BEFREE}, AYUDA]"},
		{"conversation:\n  keywords: [{word: STOP}]\n  risk_terms: {en: ~}\n", "HOTLINE_TEXTS__FR__WELCOME", "Bonjour"},
		{"texts: &t\n  en: *t\n", "HOTLINE_CONVERSATION__INACTIVITY_TIMEOUT", "soon"},
		{"a: &a [*a]\n", "HOTLINE_TWILIO", "{mps: 0, from: '+1'}"},
		{"- 1\n- 2\n", "HOTLINE___", "~"},
		{"outbox: {workers: 99999999999999999999, max_age: -1h}\n", "HOTLINE_TEXTS", "{es: null}"},
	} {
		f.Add(seed.doc, seed.name, seed.value)
	}
	path := filepath.Join(f.TempDir(), "hotline.yaml") // one file per process: inputs run one at a time
	f.Fuzz(func(t *testing.T, doc, name, value string) {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path, []string{name + "=" + value})
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Load() returned an error with no message")
			}
			return
		}
		if err := c.Validate(); err != nil {
			return
		}
		_ = c.Policy()
		_ = c.PublicURL()
		_ = c.Location()
		_ = c.Redacted()
		_ = c.Warnings()
	})
}
