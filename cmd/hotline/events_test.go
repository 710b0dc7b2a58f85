package main

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServe_EventStreamsEndAtShutdown: an open console stream neither holds up
// shutdown nor misses its end.
func TestServe_EventStreamsEndAtShutdown(t *testing.T) {
	base, _, stop := startServe(t, t.TempDir(), "HOTLINE_ADMIN__PASSWORD="+browserPassword)
	admin := signIn(t, base, "admin")
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/events", nil)
	resp, err := (&http.Client{Jar: admin.http.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/events = %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "event: ready") {
	}
	ended := make(chan struct{})
	go func() {
		for sc.Scan() {
		}
		close(ended)
	}()
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s with a console stream open, want well under the 10 s grace", d)
	}
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
		t.Error("the stream was still open after shutdown")
	}
}
