package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/twilio/twilio-go/client"

	"github.com/hotlinehq/hotline/hotline"
)

// Twilio error codes the Sender treats specially. The messages that go with them are
// shown to responders, so they say what happened in plain words and never repeat
// the number (Twilio's own messages do).
const (
	codeAuthentication  = 20003 // the account SID or auth token is wrong
	codeTooManyRequests = 20429 // the API's concurrency limit
	codeInvalidTo       = 21211 // the To number is not a valid phone number
	codeRegionDisabled  = 21408 // Messaging Geographic Permissions do not include the country
	codeQueueFull       = 21611 // the From number has too many texts queued
	codeNotMobile       = 21614 // the To number is not a mobile number
	codeRateExceeded    = 14107 // the account's send rate limit
)

// permanentMessages are the permanent failures with a message of their own.
var permanentMessages = map[int]string{
	hotline.TwilioErrorOptedOut: "The texter has blocked texts from the hotline at their carrier (they replied STOP): nothing can be sent until they text START.",
	codeInvalidTo:               "The number is not a valid phone number.",
	codeNotMobile:               "The number cannot receive texts (it is not a mobile number).",
	codeRegionDisabled:          "Texting this country is not enabled on the hotline's Twilio account (Messaging Geographic Permissions).",
}

// retryableCodes are Twilio errors about the moment, not the text.
var retryableCodes = map[int]string{
	codeTooManyRequests: "Twilio is limiting the hotline's requests",
	codeRateExceeded:    "The hotline is sending faster than its Twilio numbers allow",
	codeQueueFull:       "The hotline's number has too many texts queued at Twilio",
	codeAuthentication:  "Twilio refused the hotline's credentials; check twilio.account_sid and twilio.auth_token",
}

// classify turns a failed create into the error the dispatcher acts on: a
// *hotline.SendError, or an error wrapping hotline.ErrOutcomeUnknown when Twilio may
// have accepted the text.
func classify(err error, w wireState) error {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		status := rest.Status
		if status == 0 {
			status = w.status
		}
		return restError(status, rest.Code, rest.Message)
	}
	switch {
	case w.status >= 200 && w.status < 300:
		// Twilio answered yes but the answer could not be read.
		return outcomeUnknown(err)
	case w.status == http.StatusGatewayTimeout:
		// A proxy in front of the API gave up waiting: the API may have created it.
		return outcomeUnknown(fmt.Errorf("HTTP %d from the Twilio API", w.status))
	case w.status != 0:
		return restError(w.status, 0, "")
	case w.wrote:
		// The request left but no answer came: a timeout, a dropped connection, or a
		// shutdown. Twilio may have the text.
		return outcomeUnknown(err)
	}
	return &hotline.SendError{Retryable: true, Message: "Twilio could not be reached: " + describe(err)}
}

// restError classifies an error answer of the API.
func restError(status, code int, message string) *hotline.SendError {
	if m, ok := permanentMessages[code]; ok {
		return &hotline.SendError{Code: code, Message: m}
	}
	if m, ok := retryableCodes[code]; ok {
		return &hotline.SendError{Retryable: true, Code: code, Message: fmt.Sprintf("%s (error %d).", m, code)}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return &hotline.SendError{Retryable: true, Code: code, Message: "Twilio is limiting the hotline's requests (HTTP 429)."}
	case status == http.StatusUnauthorized:
		return &hotline.SendError{Retryable: true, Code: code, Message: retryableCodes[codeAuthentication] + " (HTTP 401)."}
	case status >= 500 || status < 400:
		return &hotline.SendError{Retryable: true, Code: code, Message: fmt.Sprintf("Twilio had a problem (HTTP %d).", status)}
	}
	text := fmt.Sprintf("Twilio refused the text (HTTP %d).", status)
	if code != 0 {
		text = fmt.Sprintf("Twilio refused the text (error %d)", code)
		if message = strings.TrimSpace(maskNumbers(message)); message != "" {
			text += ": " + truncate(message, 160)
		}
		text = strings.TrimSuffix(text, ".") + "."
	}
	return &hotline.SendError{Code: code, Message: text}
}

// unknownOutcomeError is a send that may have reached Twilio.
type unknownOutcomeError struct{ err error }

func outcomeUnknown(err error) error { return &unknownOutcomeError{err: err} }

func (e *unknownOutcomeError) Error() string {
	return "the text may have reached Twilio: " + describe(e.err)
}

// Unwrap lets errors.Is find hotline.ErrOutcomeUnknown and the cause.
func (e *unknownOutcomeError) Unwrap() []error { return []error{hotline.ErrOutcomeUnknown, e.err} }

// describe says what went wrong on the wire without the request's URL, whose query
// may hold a phone number.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.Is(err, context.Canceled):
		return "the request was cancelled"
	}
	return truncate(maskNumbers(err.Error()), 160)
}

// wireError wraps err without the URL that *url.Error would print.
func wireError(op string, err error) error {
	return &opError{op: op, err: err}
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + describe(e.err) }
func (e *opError) Unwrap() error { return e.err }

// numberPattern finds phone numbers in Twilio's messages.
var numberPattern = regexp.MustCompile(`\+?\d{6,}`)

// maskNumbers hides all but the ends of every phone number in s.
func maskNumbers(s string) string {
	return numberPattern.ReplaceAllStringFunc(s, func(n string) string { return hotline.Address(n).Masked() })
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
