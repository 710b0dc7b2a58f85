package config_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hotlinehq/hotline/config"
)

const exampleFile = "../config.example.yaml"

// The example file documents the defaults: loading it changes nothing.
func TestExampleFileIsDefault(t *testing.T) {
	c, err := config.Load(exampleFile, nil)
	if err != nil {
		t.Fatalf("Load(%s) error: %v", exampleFile, err)
	}
	if got, want := c, config.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Load(%s) differs from Default(); update one to match the other:\n%s", exampleFile, diffYAML(t, got, want))
	}
}

// diffYAML returns the lines of got and want, as YAML, that differ.
func diffYAML(t *testing.T, got, want config.Config) string {
	g, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	var b strings.Builder
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var gi, wi string
		if i < len(gl) {
			gi = gl[i]
		}
		if i < len(wl) {
			wi = wl[i]
		}
		if gi != wi {
			fmt.Fprintf(&b, " got: %s\nwant: %s\n", gi, wi)
		}
	}
	return b.String()
}

// The example file shows every key, with its default.
func TestExampleFileHasEveryKey(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var example yaml.Node
	if err := yaml.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	var def yaml.Node
	if err := def.Encode(config.Default()); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range keyPaths(&example, "") {
		have[k] = true
	}
	var missing []string
	for _, k := range keyPaths(&def, "") {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s lacks the keys %s; document each with its default", exampleFile, strings.Join(missing, ", "))
	}
}

// Every key in the example file has a comment above it that says what it does.
// The texts of languages other than en and the risk terms of each language are
// explained once, above texts and risk_terms.
func TestExampleFileCommentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var example yaml.Node
	if err := yaml.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	var uncommented []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := strings.TrimPrefix(path+"."+k.Value, ".")
			switch {
			case path == "texts" && k.Value != "en":
			case v.Kind == yaml.MappingNode && p != "conversation.risk_terms":
				walk(v, p)
			case k.HeadComment == "" && !(i == 0 && n.HeadComment != ""):
				uncommented = append(uncommented, p)
			}
		}
	}
	walk(example.Content[0], "")
	if len(uncommented) > 0 {
		t.Errorf("%s has no comment for %s; say what each key does and when to change it", exampleFile, strings.Join(uncommented, ", "))
	}
}

// keyPaths returns the dotted path of every key of a YAML mapping, nested ones
// included; a list counts as one key.
func keyPaths(n *yaml.Node, prefix string) []string {
	if n.Kind == yaml.DocumentNode {
		return keyPaths(n.Content[0], prefix)
	}
	var paths []string
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		p := strings.TrimPrefix(prefix+"."+n.Content[i].Value, ".")
		paths = append(paths, p)
		paths = append(paths, keyPaths(n.Content[i+1], p)...)
	}
	sort.Strings(paths)
	return paths
}

func ExampleLoad() {
	environ := []string{
		"HOTLINE_SMS__PROVIDER=twilio",
		"HOTLINE_TWILIO__ACCOUNT_SID=AC0123456789abcdef0123456789abcdef",
		"HOTLINE_TWILIO__AUTH_TOKEN=0123456789abcdef0123456789abcdef",
		"HOTLINE_TWILIO__FROM=+14155550100",
		"HOTLINE_PUBLIC_URL=https://hotline.example.org/",
		"HOTLINE_CONVERSATION__KEYWORDS=[BEFREE, {word: AYUDA, language: es}]",
		"HOTLINE_CRYPTO__MASTER_KEY=nAH/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=",
	}
	c, err := config.Load("", environ)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.SMS.Provider, c.Twilio.From)
	fmt.Println(c.PublicURL())
	fmt.Println(c.Policy().Keywords)
	fmt.Println(c.Redacted().Twilio.AuthToken)
	// Output:
	// twilio +14155550100
	// https://hotline.example.org
	// [{BEFREE } {AYUDA es}]
	// ***
}

func ExampleConfig_Validate() {
	c := config.Default()
	c.SMS.Provider = config.ProviderTwilio
	c.Twilio.MPS = 0
	err := c.Validate()
	fmt.Println(err)
	var first *config.Error
	if errors.As(err, &first) {
		fmt.Println("first key:", first.Key)
	}
	// Output:
	// twilio.account_sid: is required with sms.provider twilio; copy it from the Twilio console (it starts with AC)
	// twilio.auth_token: is required with sms.provider twilio; copy it from the Twilio console, or name a file that holds it with twilio.auth_token_file
	// twilio.from: is required with sms.provider twilio, unless twilio.messaging_service_sid is set; write the number texts are sent from, like +14155550100
	// twilio.mps: 0 is not more than 0; 1 suits a long code, 100 a short code
	// crypto.master_key_file: is required with sms.provider twilio: what texters write and their numbers must not be stored unencrypted. Generate a key outside data_dir (openssl rand -base64 32 > /etc/hotline/master.key; chmod 600) and name it here, or set HOTLINE_CRYPTO__MASTER_KEY; to run without encryption anyway, set crypto.allow_plaintext: true
	// first key: twilio.account_sid
}
