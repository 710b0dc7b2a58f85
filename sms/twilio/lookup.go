package twilio

import (
	"context"
	"strings"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotlinehq/hotline/hotline"
)

// Lookup implements hotline.Reconciler: it reports whether Twilio accepted t (a text
// to the same number with the same body, sent by the API) at or after since, less
// Options.ClockSkew, and returns its SID. Texts this Sender created lately are left
// out (they are recorded already), and when several match, the newest wins.
//
// It asks twice. First for the texts to the number with a DateSent after the
// window's start. A text Twilio still holds in its queue has no DateSent yet and may
// be left out by that filter, so then it reads the newest texts to the number
// without a date filter and takes those created in the window.
//
// Any error means "cannot tell now"; the dispatcher asks again later.
func (s *Sender) Lookup(ctx context.Context, t hotline.OutboundText, since time.Time) (hotline.SendReceipt, bool, error) {
	from := since.Add(-s.opts.ClockSkew)
	params := s.outboundParams(t)
	params.SetDateSentAfter(from.UTC())
	params.SetPageSize(100)
	params.SetLimit(500)
	msgs, err := s.list(ctx, params)
	if err != nil {
		return hotline.SendReceipt{}, false, wireError("list the texts sent to the number", err)
	}
	if sid, ok := newestMatch(msgs, t.Body, from, s.recent.has); ok {
		return hotline.SendReceipt{SID: sid, Status: hotline.StatusSent}, true, nil
	}
	params = s.outboundParams(t)
	params.SetPageSize(50)
	params.SetLimit(50)
	if msgs, err = s.list(ctx, params); err != nil {
		return hotline.SendReceipt{}, false, wireError("list the newest texts sent to the number", err)
	}
	if sid, ok := newestMatch(msgs, t.Body, from, s.recent.has); ok {
		return hotline.SendReceipt{SID: sid, Status: hotline.StatusSent}, true, nil
	}
	return hotline.SendReceipt{}, false, nil
}

// outboundParams selects the texts to t's number from the hotline's number (any
// number of the Messaging Service when From is not set).
func (s *Sender) outboundParams(t hotline.OutboundText) *openapi.ListMessageParams {
	params := &openapi.ListMessageParams{}
	params.SetTo(string(t.To))
	if s.opts.From != "" {
		params.SetFrom(s.opts.From)
	}
	return params
}

// list reads messages under ctx, through every page up to params' limit.
func (s *Sender) list(ctx context.Context, params *openapi.ListMessageParams) ([]openapi.ApiV2010Message, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	api, _ := s.client(ctx)
	return api.ListMessage(params)
}

// newestMatch returns the SID of the newest outbound text with the body created at
// or after from, leaving out the SIDs skip reports.
func newestMatch(msgs []openapi.ApiV2010Message, body string, from time.Time, skip func(sid string) bool) (string, bool) {
	var sid string
	var newest time.Time
	for _, m := range msgs {
		if m.Sid == nil || skip(*m.Sid) || !strings.HasPrefix(str(m.Direction), "outbound") || !sameBody(str(m.Body), body) {
			continue
		}
		created, ok := parseTime(str(m.DateCreated))
		if !ok {
			created, ok = parseTime(str(m.DateSent))
		}
		if ok && created.Before(from.Truncate(time.Second)) {
			continue
		}
		if sid == "" || created.After(newest) {
			sid, newest = *m.Sid, created
		}
	}
	return sid, sid != ""
}

// sameBody compares a body as Twilio lists it with the one sent. Twilio may have
// replaced typographic characters with plain ones (a Messaging Service's smart
// encoding) and trimmed the ends.
func sameBody(listed, sent string) bool {
	if listed == sent {
		return true
	}
	return smartEncode(strings.TrimSpace(listed)) == smartEncode(strings.TrimSpace(sent))
}

// smartEncoding is a subset of what Twilio's smart encoding replaces.
var smartEncoding = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201a", "'", "\u201b", "'",
	"\u201c", `"`, "\u201d", `"`, "\u201e", `"`, "\u201f", `"`,
	"\u2013", "-", "\u2014", "-", "\u2012", "-", "\u2015", "-",
	"\u2026", "...", "\u00a0", " ", "\u2002", " ", "\u2003", " ", "\u2009", " ",
	"\u200b", "", "\u00ab", `"`, "\u00bb", `"`,
)

func smartEncode(s string) string { return smartEncoding.Replace(s) }

// parseTime reads Twilio's RFC 2822 timestamps ("Mon, 16 Aug 2010 03:45:01 +0000").
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
