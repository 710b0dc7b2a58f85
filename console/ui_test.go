package console_test

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/hotline"
)

// TestScriptsNeverWriteHTML guards the rule that text from the server only ever
// becomes text: the console's scripts never write HTML or run code from strings.
func TestScriptsNeverWriteHTML(t *testing.T) {
	bad := regexp.MustCompile(`\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setTimeout\(\s*['"]`)
	n := 0
	err := filepath.WalkDir("web/assets/js", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		for i, line := range strings.Split(string(b), "\n") {
			if bad.MatchString(line) {
				t.Errorf("%s:%d writes HTML or runs code from a string: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d scripts: %v", n, err)
	}
}

// TestTemplatesHaveNoInlineScriptOrStyle: the server's policy forbids them, so
// they would silently not work.
func TestTemplatesHaveNoInlineScriptOrStyle(t *testing.T) {
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=`)
	err := filepath.WalkDir("web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s holds inline script or style: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPages_SignedOutGoToSignInAndAssetsAreCached(t *testing.T) {
	s := newLiveServer(t, 0, console.Settings{})
	s.addUser(t, "ana", hotline.RoleResponder)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noRedirect.Get(s.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F" {
		t.Errorf("GET / signed out = %d to %q, want 303 to /login?next=%%2F", resp.StatusCode, resp.Header.Get("Location"))
	}

	ana := s.login(t, "ana")
	r := ana.send(t, "GET", "/", nil)
	body := string(r.body)
	if r.status != 200 || !strings.Contains(body, `<meta name="csrf-token" content="`+ana.csrf+`">`) ||
		!strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET / signed in = %d, CSP %q, cache %q", r.status, r.header.Get("Content-Security-Policy"), r.header.Get("Cache-Control"))
	}
	script := regexp.MustCompile(`src="(/assets/js/pages/conversations\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(body)
	if script == nil {
		t.Fatalf("the page loads no versioned module:\n%s", body)
	}
	r = ana.send(t, "GET", script[1], nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("the versioned module = %d %q %q", r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
	}
	r = ana.send(t, "GET", "/assets/js/api.js", nil)
	if r.status != 200 || r.header.Get("Cache-Control") != "no-cache" || r.header.Get("ETag") == "" {
		t.Errorf("an unversioned module = %d %q etag %q", r.status, r.header.Get("Cache-Control"), r.header.Get("ETag"))
	}
	if r2 := ana.send(t, "GET", "/assets/js/api.js", nil, "If-None-Match", r.header.Get("ETag")); r2.status != http.StatusNotModified {
		t.Errorf("revalidating = %d, want 304", r2.status)
	}
	for _, p := range []string{"/assets/../ui.go", "/assets/nope.js", "/assets/"} {
		if r := ana.send(t, "GET", p, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, r.status)
		}
	}

	// Signed in, the sign-in page goes on to the console, never to another site.
	for next, want := range map[string]string{"": "/", "/x?y=1": "/x?y=1", "//evil.example": "/", "https://evil.example/": "/", "/\\evil": "/"} {
		if got := console.SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
