package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runHealthcheck asks a running hotline whether it is alive: the container image has
// no shell or curl, so its HEALTHCHECK runs this.
func runHealthcheck(ctx context.Context, e env, args []string) error {
	fs := newFlags("healthcheck", e)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "the health URL to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
