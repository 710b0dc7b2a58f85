package webhooks

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
)

// statusFields are the parameters the status handler binds; each may appear once.
var statusFields = fieldSet([]string{
	"MessageSid", "AccountSid", "MessageStatus", "ErrorCode", "ErrorMessage", "RawDlrDoneDate",
})

// twilioStatuses maps Twilio's MessageStatus to the hotline's delivery status. A
// status mapped to "" is known and deliberately ignored; one missing from the table
// is unknown (Twilio adds some now and then) and ignored too. Either way Twilio gets
// 200, since an error would only make it log a failure for something we chose not to
// record.
var twilioStatuses = map[string]hotline.Status{
	"queued":      hotline.StatusQueued,
	"sending":     hotline.StatusSending,
	"sent":        hotline.StatusSent,
	"delivered":   hotline.StatusDelivered,
	"undelivered": hotline.StatusUndelivered,
	"failed":      hotline.StatusFailed,
	// A canceled message will never be sent: the console must show it did not
	// arrive, and failed is final, so the outbox stops tracking it.
	"canceled": hotline.StatusFailed,

	"accepted":            "", // a Messaging Service took it; the outbox already says queued
	"scheduled":           "", // the hotline does not schedule messages
	"read":                "", // a WhatsApp read receipt: after delivered, adds nothing
	"partially_delivered": "", // not a state a one-recipient text can be in
	"receiving":           "", // inbound statuses
	"received":            "",
}

// status handles POST /webhooks/twilio/status, Twilio's delivery status callback.
// A status for a MessageSid the hotline does not know (ENOTFOUND) is acknowledged
// with 200 so that nothing retries it; other errors map through httpx.
func status(svc Service, cfg Config, log zerolog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, known, err := bindStatus(formOf(c), cfg)
		if err != nil {
			return err
		}
		if !known {
			raw := formOf(c).Get("MessageStatus")
			ev := log.Debug()
			if _, listed := twilioStatuses[strings.ToLower(strings.TrimSpace(raw))]; !listed {
				ev = log.Info() // worth a look: Twilio may have added a status
			}
			ev.Str("message_sid", u.SID).Str("message_status", truncate(raw, 32)).Msg("status callback ignored")
			return c.NoContent(http.StatusOK)
		}
		err = svc.RecordStatus(c.Request().Context(), u)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			log.Info().Str("message_sid", u.SID).Str("message_status", string(u.Status)).
				Msg("status callback for a MessageSid not stored yet: kept until the send is recorded")
			return c.NoContent(http.StatusOK)
		} else if err != nil {
			return err
		}
		log.Debug().Str("message_sid", u.SID).Str("message_status", string(u.Status)).
			Int("error_code", u.ErrorCode).Msg("status recorded")
		return c.NoContent(http.StatusOK)
	}
}

// bindStatus turns a verified status form into a StatusUpdate. known is false when
// the status is one the hotline ignores.
func bindStatus(f url.Values, cfg Config) (u hotline.StatusUpdate, known bool, err error) {
	if err := checkAccount(cfg.AccountSID, f); err != nil {
		return u, false, err
	}
	u.SID = strings.TrimSpace(f.Get("MessageSid"))
	if u.SID == "" {
		return u, false, hotline.Errorf(hotline.EINVALID, "MessageSid is required.")
	}
	raw := strings.ToLower(strings.TrimSpace(f.Get("MessageStatus")))
	if raw == "" {
		return u, false, hotline.Errorf(hotline.EINVALID, "MessageStatus is required.")
	}
	if u.ErrorCode, err = intField(f, "ErrorCode", 0); err != nil {
		return u, false, err
	}
	u.ErrorMessage = f.Get("ErrorMessage")
	u.DoneAt = strings.TrimSpace(f.Get("RawDlrDoneDate"))
	u.Status = twilioStatuses[raw]
	return u, u.Status != "", nil
}
