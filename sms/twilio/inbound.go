package twilio

import (
	"context"
	"strconv"
	"strings"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotlinehq/hotline/hotline"
)

// ListInbound implements hotline.InboundLister: the texts the hotline received at or
// after since, for missed-webhook recovery. With Options.From it lists the texts to
// that number; with only a Messaging Service, every text to the account, keeping
// those to the service's numbers. Media URLs are read for texts with attachments,
// in the form the webhook gives them.
//
// A text whose sender is not a phone number is returned with an empty From, so that
// the hotline reports it (by SID) rather than this package dropping it silently.
func (s *Sender) ListInbound(ctx context.Context, since time.Time) ([]hotline.ListedInbound, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	params := &openapi.ListMessageParams{}
	if s.opts.From != "" {
		params.SetTo(s.opts.From)
	}
	params.SetDateSentAfter(since.UTC())
	params.SetPageSize(1000)
	api, _ := s.client(ctx)
	msgs, err := api.ListMessage(params)
	if err != nil {
		return nil, wireError("list the texts received", err)
	}
	var out []hotline.ListedInbound
	for _, m := range msgs {
		if str(m.Direction) != "inbound" || str(m.Sid) == "" {
			continue
		}
		if s.opts.From == "" && str(m.MessagingServiceSid) != s.opts.MessagingServiceSID {
			continue
		}
		in, err := s.bindListed(ctx, api, m)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// bindListed turns a listed message into what the webhook would have delivered.
func (s *Sender) bindListed(ctx context.Context, api *openapi.ApiService, m openapi.ApiV2010Message) (hotline.ListedInbound, error) {
	in := hotline.ListedInbound{InboundMessage: hotline.InboundMessage{
		SID:        str(m.Sid),
		AccountSID: str(m.AccountSid),
		Body:       str(m.Body),
	}}
	// An address that is not a phone number stays empty: Validate then refuses the
	// text and recovery reports its SID.
	in.From, _ = hotline.NormalizeAddress(str(m.From), s.opts.DefaultRegion)
	in.To, _ = hotline.NormalizeAddress(str(m.To), s.opts.DefaultRegion)
	in.Segments, _ = strconv.Atoi(str(m.NumSegments))
	if at, ok := parseTime(str(m.DateSent)); ok {
		in.ReceivedAt = at
	} else if at, ok := parseTime(str(m.DateCreated)); ok {
		in.ReceivedAt = at
	}
	if n, _ := strconv.Atoi(str(m.NumMedia)); n > 0 {
		media, err := s.media(ctx, api, in.SID)
		if err != nil {
			return in, err
		}
		in.Media = media
	}
	return in, nil
}

// media lists a message's attachments. Their URLs are the ones the webhook's
// MediaUrlN would have held: the resource URI without ".json".
func (s *Sender) media(ctx context.Context, api *openapi.ApiService, sid string) ([]hotline.Media, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list, err := api.ListMedia(sid, &openapi.ListMediaParams{})
	if err != nil {
		return nil, wireError("list the attachments of text "+sid, err)
	}
	var media []hotline.Media
	for _, md := range list {
		uri := strings.TrimSuffix(str(md.Uri), ".json")
		if uri == "" {
			continue
		}
		media = append(media, hotline.Media{URL: DefaultAPIURL + uri, ContentType: str(md.ContentType)})
	}
	return media, nil
}
