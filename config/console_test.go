package config_test

import (
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/config"
)

func TestValidateCloseLists(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*config.Config)
		want string // "" for valid
	}{
		{"defaults", func(*config.Config) {}, ""},
		{"no tags", func(c *config.Config) { c.Conversation.Tags = nil }, ""},
		{"no dispositions", func(c *config.Config) { c.Conversation.Dispositions = nil }, "conversation.dispositions: is empty"},
		{"blank disposition", func(c *config.Config) { c.Conversation.Dispositions = []string{"ok", " "} }, "conversation.dispositions[1]: is empty"},
		{"padded tag", func(c *config.Config) { c.Conversation.Tags = []string{" minor"} }, "conversation.tags[0]: \" minor\" starts or ends with spaces"},
		{"repeated disposition", func(c *config.Config) { c.Conversation.Dispositions = []string{"Referred", "referred"} }, "conversation.dispositions[1]: \"referred\" repeats conversation.dispositions[0]"},
		{"long tag", func(c *config.Config) { c.Conversation.Tags = []string{strings.Repeat("t", 51)} }, "conversation.tags[0]: is 51 characters; at most 50"},
	} {
		c := config.Default()
		tt.mod(&c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCloseListsFromTheEnvironment(t *testing.T) {
	c, err := config.Load("", []string{"HOTLINE_CONVERSATION__DISPOSITIONS=[Resolved, Referred]", "HOTLINE_CONVERSATION__TAGS=[]"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Conversation.Dispositions, ","); got != "Resolved,Referred" || len(c.Conversation.Tags) != 0 {
		t.Errorf("dispositions %q, tags %q; want Resolved,Referred and none", got, c.Conversation.Tags)
	}
}
