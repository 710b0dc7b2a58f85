package webhooks

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
)

// EmptyTwiML is the whole answer to an inbound message once it is stored. Replies
// never travel in TwiML: they go out through the outbox so that each one is durable
// and has a delivery status.
const EmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// MaxMedia is the most attachments an inbound message may declare in NumMedia;
// Twilio delivers at most 10.
const MaxMedia = 10

// locationFields are the parameters in which Twilio guesses where the texter and the
// hotline number are. They are dropped unless Config.KeepLocationFields is set: a
// texter's town is not something a crisis hotline should store by default.
var locationFields = []string{"FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry"}

// inboundFields are the parameters the inbound handler binds; each may appear once.
var inboundFields = fieldSet(append([]string{
	"MessageSid", "AccountSid", "MessagingServiceSid", "From", "To", "Body", "NumMedia", "NumSegments",
}, locationFields...), "MediaUrl", "MediaContentType")

// inbound handles POST /webhooks/twilio/sms: bind the form, store the message,
// answer empty TwiML. It answers 200 only once ReceiveInbound has returned nil, that
// is once the text is on disk; a retried MessageSid is a duplicate and also gets 200.
func inbound(svc Service, cfg Config, log zerolog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		in, err := bindInbound(formOf(c), cfg)
		if err != nil {
			return err
		}
		in.Webhook = evidence(c, cfg.PublicURL)
		res, err := svc.ReceiveInbound(c.Request().Context(), in)
		if err != nil {
			return err
		}
		log.Info().Str("message_sid", in.SID).Str("conversation_id", res.ConversationID.String()).
			Str("from", in.From.Masked()).Bool("duplicate", res.Duplicate).Int("media", len(in.Media)).
			Msg("inbound text stored")
		return c.Blob(http.StatusOK, echo.MIMETextXML, []byte(EmptyTwiML))
	}
}

// bindInbound turns a verified inbound form into an InboundMessage. Its error
// messages name parameters, never their values.
func bindInbound(f url.Values, cfg Config) (hotline.InboundMessage, error) {
	if err := checkAccount(cfg.AccountSID, f); err != nil {
		return hotline.InboundMessage{}, err
	}
	in := hotline.InboundMessage{
		SID:        strings.TrimSpace(f.Get("MessageSid")),
		AccountSID: f.Get("AccountSid"),
		Body:       f.Get("Body"),
	}
	if in.SID == "" {
		return in, hotline.Errorf(hotline.EINVALID, "MessageSid is required.")
	}
	var err error
	if in.From, err = bindAddress(f, "From", cfg.DefaultRegion, true); err != nil {
		return in, err
	}
	if in.To, err = bindAddress(f, "To", cfg.DefaultRegion, false); err != nil {
		return in, err
	}
	if in.Media, err = bindMedia(f); err != nil {
		return in, err
	}
	if in.Segments, err = intField(f, "NumSegments", 0); err != nil {
		return in, err
	}
	if in.Segments == 0 && in.Body != "" {
		in.Segments = hotline.Segments(in.Body)
	}
	if cfg.KeepLocationFields {
		for _, name := range locationFields {
			if v := f.Get(name); v != "" {
				if in.Extra == nil {
					in.Extra = map[string]string{}
				}
				in.Extra[name] = v
			}
		}
	}
	// The service checks again; checking here keeps the promise that a refused
	// request reaches no Service implementation.
	return in, in.Validate()
}

// bindAddress normalises the address parameter name. An address that is not a phone
// number or short code is EINVALID, without echoing it back.
func bindAddress(f url.Values, name, region string, required bool) (hotline.Address, error) {
	raw := f.Get(name)
	if strings.TrimSpace(raw) == "" {
		if required {
			return "", hotline.Errorf(hotline.EINVALID, "%s is required.", name)
		}
		return "", nil
	}
	a, err := hotline.NormalizeAddress(raw, region)
	if err != nil {
		return "", hotline.Errorf(hotline.EINVALID, "%s is not a phone number or short code.", name)
	}
	return a, nil
}

// bindMedia reads MediaUrlN and MediaContentTypeN for N below NumMedia. NumMedia
// above MaxMedia, a declared attachment without its URL, and an attachment beyond
// NumMedia are all EINVALID: an inconsistent form is refused rather than stored with
// attachments silently missing.
func bindMedia(f url.Values) ([]hotline.Media, error) {
	n, err := intField(f, "NumMedia", 0)
	if err != nil {
		return nil, err
	}
	if n > MaxMedia {
		return nil, hotline.Errorf(hotline.EINVALID, "NumMedia is more than %d.", MaxMedia)
	}
	for name := range f {
		for _, prefix := range []string{"MediaUrl", "MediaContentType"} {
			if i, ok := numbered(name, prefix); ok && i >= n {
				return nil, hotline.Errorf(hotline.EINVALID, "%s%d is present but NumMedia is %d.", prefix, i, n)
			}
		}
	}
	var media []hotline.Media
	for i := range n {
		raw := strings.TrimSpace(f.Get(fmt.Sprintf("MediaUrl%d", i)))
		if raw == "" {
			return nil, hotline.Errorf(hotline.EINVALID, "NumMedia is %d but MediaUrl%d is missing.", n, i)
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, hotline.Errorf(hotline.EINVALID, "MediaUrl%d is not an http(s) URL.", i)
		}
		media = append(media, hotline.Media{URL: raw, ContentType: strings.TrimSpace(f.Get(fmt.Sprintf("MediaContentType%d", i)))})
	}
	return media, nil
}

// evidence keeps the request as Twilio sent it: the URL it signed, the
// X-Twilio-Signature header and every parameter (location fields included, since
// the signature covers them). The store seals it with the message body; evidence
// bundles carry it so that the signature can be checked again with the auth token.
func evidence(c echo.Context, publicURL string) *hotline.Webhook {
	f := formOf(c)
	params := make(map[string][]string, len(f))
	for name, values := range f {
		params[name] = slices.Clone(values)
	}
	return &hotline.Webhook{URL: requestURL(publicURL, c), Signature: c.Request().Header.Get(SignatureHeader), Params: params}
}
