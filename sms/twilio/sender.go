// Package twilio sends the hotline's texts through the Twilio Programmable Messaging
// REST API, with the official github.com/twilio/twilio-go client.
//
// A *Sender is three things to the hotline:
//
//   - a hotline.Sender: it creates a Message with To, Body, From (or a Messaging
//     Service) and a status callback, and classifies failures into a
//     *hotline.SendError (retryable or permanent, with Twilio's error code), or, when
//     the request may have reached Twilio without an answer, an error wrapping
//     hotline.ErrOutcomeUnknown so that the dispatcher reconciles before sending again;
//   - a hotline.Reconciler: Lookup lists the texts sent to a number since an
//     interrupted attempt and finds the one with the same body;
//   - a hotline.InboundLister: ListInbound lists the texts the hotline's number
//     received, for missed-webhook recovery.
//
// twilio-go's base URL is fixed (https://api.twilio.com) and its requests carry no
// context. The Sender therefore gives each call its own twilio-go client whose
// transport sends every request to Options.APIURL, under the caller's context and
// Options.RequestTimeout, and remembers what happened on the wire (whether the
// request was written, which status came back) to classify failures.
//
// Errors and messages never carry a message body or a full phone number.
//
// # What reconciliation cannot see
//
// Twilio has no idempotency key for creating a Message, so an attempt whose answer
// was lost is matched by recipient, body and time. Three windows remain:
//
//   - Twilio's list lags: a text created moments before Lookup may not be listed yet;
//     it is then sent again (a duplicate). The dispatcher's backoff before it
//     reconciles makes this unlikely.
//   - The hotline's clock runs ahead of Twilio's by more than Options.ClockSkew: the
//     same, a duplicate.
//   - After a restart, an identical text to the same number recorded within
//     ClockSkew before an interrupted attempt that never reached Twilio is taken for
//     it, and the interrupted text is not sent. (Within one process, Lookup skips the
//     SIDs its own sends returned.)
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotlinehq/hotline/hotline"
)

// DefaultAPIURL is the Twilio REST API.
const DefaultAPIURL = "https://api.twilio.com"

// Defaults of Options.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultClockSkew      = time.Minute
)

// Options configure a Sender. They map to the twilio.* configuration keys.
type Options struct {
	// AccountSID (AC…) and AuthToken authenticate every request (HTTP basic auth).
	AccountSID string
	AuthToken  string
	// APIURL is the base URL of the REST API [DefaultAPIURL]; tests point it at a
	// fake on loopback. A path in it is put before Twilio's paths.
	APIURL string
	// From is the hotline's number (E.164 or a short code). MessagingServiceSID
	// (MG…) sends through a Messaging Service instead, which picks the number; with
	// both, the service sends from From. One of them is required.
	From                string
	MessagingServiceSID string
	// StatusCallbackURL is where Twilio reports delivery statuses: public_url +
	// webhooks.StatusPath. Empty asks for no callbacks (statuses then stay "sent").
	StatusCallbackURL string
	// RequestTimeout bounds each HTTP request to the API [DefaultRequestTimeout].
	RequestTimeout time.Duration
	// ClockSkew is how much earlier than the hotline's own time of an attempt Lookup
	// looks for the text, allowing for the two clocks and Twilio's one-second
	// timestamps [DefaultClockSkew].
	ClockSkew time.Duration
	// DefaultRegion (such as "US") reads national numbers in listed texts; Twilio
	// lists E.164, so empty is fine.
	DefaultRegion string
	// HTTPClient, when set, lends its Transport (proxies, TLS settings); its other
	// fields are not used. By default the Sender has a transport of its own.
	HTTPClient *http.Client
}

// Sender sends texts through Twilio. It is safe for concurrent use.
type Sender struct {
	opts      Options
	api       *url.URL          // the parsed APIURL
	transport http.RoundTripper // shared by the per-call clients
	creds     *client.Credentials
	recent    *recentSIDs // SIDs Send returned, which Lookup must not match again
}

var (
	_ hotline.Sender        = (*Sender)(nil)
	_ hotline.Reconciler    = (*Sender)(nil)
	_ hotline.InboundLister = (*Sender)(nil)
)

// New returns a Sender, or an error naming the configuration key that is wrong.
func New(opts Options) (*Sender, error) {
	opts.APIURL = strings.TrimRight(strings.TrimSpace(opts.APIURL), "/")
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = DefaultClockSkew
	}
	api, err := url.Parse(opts.APIURL)
	switch {
	case opts.AccountSID == "" || !alphanumeric(opts.AccountSID):
		return nil, errors.New("twilio: twilio.account_sid is missing or not an account SID (AC followed by 32 hexadecimal digits)")
	case opts.AuthToken == "" || !alphanumeric(opts.AuthToken):
		return nil, errors.New("twilio: twilio.auth_token is missing or not an auth token (letters and digits)")
	case opts.From == "" && opts.MessagingServiceSID == "":
		return nil, errors.New("twilio: set twilio.from (the hotline's number) or twilio.messaging_service_sid")
	case err != nil || (api.Scheme != "https" && api.Scheme != "http") || api.Host == "" || api.RawQuery != "":
		return nil, fmt.Errorf("twilio: twilio.api_url %q is not an absolute http(s) URL without query", opts.APIURL)
	}
	if opts.StatusCallbackURL != "" {
		u, err := url.Parse(opts.StatusCallbackURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("twilio: status callback URL %q is not an absolute http(s) URL; check public_url", opts.StatusCallbackURL)
		}
	}
	var base http.RoundTripper
	if opts.HTTPClient != nil && opts.HTTPClient.Transport != nil {
		base = opts.HTTPClient.Transport
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16 // the dispatcher's workers send in parallel
		base = t
	}
	return &Sender{
		opts: opts, api: api, transport: base,
		creds:  client.NewCredentials(opts.AccountSID, opts.AuthToken),
		recent: newRecentSIDs(2*opts.ClockSkew + time.Minute),
	}, nil
}

// Send creates a Message for t. It returns Twilio's SID with status sent once
// Twilio has accepted the text. Failures are a *hotline.SendError, or an error
// wrapping hotline.ErrOutcomeUnknown when Twilio may have accepted it.
func (s *Sender) Send(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	api, wire := s.client(ctx)
	params := &openapi.CreateMessageParams{}
	params.SetTo(string(t.To))
	params.SetBody(t.Body)
	if s.opts.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(s.opts.MessagingServiceSID)
	}
	if s.opts.From != "" {
		params.SetFrom(s.opts.From)
	}
	if s.opts.StatusCallbackURL != "" {
		params.SetStatusCallback(s.opts.StatusCallbackURL)
	}
	m, err := api.CreateMessage(params)
	if err != nil {
		return hotline.SendReceipt{}, classify(err, wire.last())
	}
	if m == nil || m.Sid == nil || *m.Sid == "" {
		// Twilio said yes but the answer has no SID: it may well have the text.
		return hotline.SendReceipt{}, outcomeUnknown(errors.New("the answer from Twilio has no message SID"))
	}
	s.recent.add(*m.Sid, time.Now())
	return hotline.SendReceipt{SID: *m.Sid, Status: hotline.StatusSent}, nil
}

// client returns a twilio-go API client for one call under ctx, and the transport
// that records what happened on the wire.
func (s *Sender) client(ctx context.Context) (*openapi.ApiService, *wire) {
	w := &wire{ctx: ctx, base: s.transport, api: s.api, timeout: s.opts.RequestTimeout}
	c := &client.Client{
		Credentials: s.creds,
		HTTPClient: &http.Client{
			Transport: w,
			// Like twilio-go's default client: a redirect is an answer, not an order.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		UserAgentExtensions: []string{"hotline"},
	}
	c.SetAccountSid(s.opts.AccountSID)
	return openapi.NewApiServiceWithClient(c), w
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}
