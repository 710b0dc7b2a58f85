// Package httpx holds what every HTTP adapter of the hotline shares: the one table
// that maps domain error codes to HTTP statuses, and the Echo error handler that
// renders them.
package httpx

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
)

// statusByCode is the one place domain error codes become HTTP statuses.
var statusByCode = map[string]int{
	hotline.ECONFLICT:     http.StatusConflict,
	hotline.EINTERNAL:     http.StatusInternalServerError,
	hotline.EINVALID:      http.StatusBadRequest,
	hotline.ENOTFOUND:     http.StatusNotFound,
	hotline.EUNAUTHORIZED: http.StatusUnauthorized,
	hotline.EFORBIDDEN:    http.StatusForbidden,
	hotline.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hotline.ERATELIMIT:    http.StatusTooManyRequests,
	hotline.EOPTEDOUT:     http.StatusConflict,
	hotline.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// codeByStatus turns Echo's own errors (unknown route, wrong method, body too large)
// into domain codes so that every error has the same JSON shape.
var codeByStatus = map[int]string{
	http.StatusBadRequest:            hotline.EINVALID,
	http.StatusUnauthorized:          hotline.EUNAUTHORIZED,
	http.StatusForbidden:             hotline.EFORBIDDEN,
	http.StatusNotFound:              hotline.ENOTFOUND,
	http.StatusMethodNotAllowed:      hotline.EINVALID,
	http.StatusRequestEntityTooLarge: hotline.ETOOLARGE,
	http.StatusUnsupportedMediaType:  hotline.EINVALID,
	http.StatusTooManyRequests:       hotline.ERATELIMIT,
	http.StatusServiceUnavailable:    hotline.EUNAVAILABLE,
}

// StatusFor returns the HTTP status for a domain error code.
func StatusFor(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every API error:
// {"error": {"code": "ENOTFOUND", "message": "…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ToDomain turns any error a handler returns into a domain error: Echo's HTTP errors
// keep their status through codeByStatus; other non-domain errors are internal.
func ToDomain(err error) (code, message string, status int) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeByStatus[he.Code]
		if !ok {
			code = hotline.EINTERNAL
		}
		msg, _ := he.Message.(string)
		if msg == "" {
			msg = http.StatusText(he.Code)
		}
		return code, msg, he.Code
	}
	code = hotline.ErrorCode(err)
	return code, hotline.ErrorMessage(err), StatusFor(code)
}

// ErrorHandler returns Echo's HTTPErrorHandler for the whole server: it renders
// every error as ErrorBody (webhook routes as plain text, which Twilio logs) and logs
// internal errors only, since the others are the caller's doing.
func ErrorHandler(log zerolog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, message, status := ToDomain(err)
		if status >= 500 {
			log.Error().Err(err).Str("method", c.Request().Method).Str("path", c.Path()).
				Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).Msg("request failed")
		}
		switch {
		case c.Request().Method == http.MethodHead:
			err = c.NoContent(status)
		case strings.HasPrefix(c.Path(), "/webhooks/"):
			// Twilio shows a webhook's response body in its debugger: plain words.
			err = c.String(status, code+": "+message+"\n")
		default:
			err = c.JSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
		}
		if err != nil {
			log.Debug().Err(err).Msg("writing the error response failed")
		}
	}
}
