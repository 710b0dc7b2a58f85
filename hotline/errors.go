package hotline

import (
	"errors"
	"fmt"
)

// Error codes returned by the domain. Adapters map them to transport errors in one place.
const (
	ECONFLICT     = "ECONFLICT"     // the action conflicts with the current state (taken by someone else, duplicate)
	EINTERNAL     = "EINTERNAL"     // a bug or an infrastructure failure; logged, never shown in detail
	EINVALID      = "EINVALID"      // the input is malformed or breaks a rule
	ENOTFOUND     = "ENOTFOUND"     // the thing does not exist, or the caller may not know that it does
	EUNAUTHORIZED = "EUNAUTHORIZED" // the caller is not authenticated
	EFORBIDDEN    = "EFORBIDDEN"    // the caller is authenticated but may not do this
	ETOOLARGE     = "ETOOLARGE"     // the input is larger than allowed
	ERATELIMIT    = "ERATELIMIT"    // too many attempts; try again later
	EOPTEDOUT     = "EOPTEDOUT"     // the texter opted out: nothing may be sent to them
	EUNAVAILABLE  = "EUNAVAILABLE"  // a dependency (the store, the disk) cannot serve the request right now
)

// Error is the domain's error type: a machine-readable code and a message that is
// safe to show to the person who caused it.
type Error struct {
	Code    string
	Message string
	// Err is the underlying cause, for the server log only: it may name files or
	// hosts that a caller must not see. ErrorMessage never shows it.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("hotline error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("hotline error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and a generic
// message for any other error so that internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// IsNotFound reports whether err is an ENOTFOUND domain error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
