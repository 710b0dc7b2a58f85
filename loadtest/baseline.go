package loadtest

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/webhooks"
)

// Baseline is the ceiling the hotline is measured against: an Echo server that does
// for an inbound webhook what the hotline does before it touches the store — read
// the form (same content type and size limit), check the X-Twilio-Signature with
// webhooks.ValidSignature against the same URL — then answers the same empty TwiML
// without storing anything. Its throughput is what HTTP, form parsing and HMAC cost
// on this machine with the load generator beside it.
type Baseline struct {
	url    string
	server *http.Server
	done   chan error
}

// StartBaseline listens on 127.0.0.1 on a free port and serves the baseline webhook
// for the auth token. Its public URL is its own address.
func StartBaseline(authToken string) (*Baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Baseline{url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST(webhooks.InboundPath, BaselineHandler(b.url, []string{authToken}))
	b.server = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { b.done <- b.server.Serve(ln) }()
	return b, nil
}

// URL returns the baseline's base URL.
func (b *Baseline) URL() string { return b.url }

// Close stops the server, letting in-flight requests finish.
func (b *Baseline) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.server.Shutdown(ctx)
	if serveErr := <-b.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// BaselineHandler is the baseline's webhook: parse, verify, answer empty TwiML.
func BaselineHandler(publicURL string, tokens []string) echo.HandlerFunc {
	publicURL = strings.TrimRight(publicURL, "/")
	return func(c echo.Context) error {
		r := c.Request()
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationForm {
			return c.String(http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded.")
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, webhooks.DefaultMaxBodyBytes+1))
		if err != nil || len(raw) > webhooks.DefaultMaxBodyBytes {
			return c.String(http.StatusRequestEntityTooLarge, "The request body is too large.")
		}
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return c.String(http.StatusBadRequest, "The request body is not a valid form.")
		}
		r.PostForm = form
		if !webhooks.ValidSignature(tokens, publicURL+r.RequestURI, form, r.Header.Get(webhooks.SignatureHeader)) {
			return c.String(http.StatusForbidden, "The X-Twilio-Signature header is missing or wrong.")
		}
		if form.Get("MessageSid") == "" {
			return c.String(http.StatusBadRequest, "MessageSid is required.")
		}
		return c.Blob(http.StatusOK, echo.MIMETextXML, []byte(webhooks.EmptyTwiML))
	}
}
