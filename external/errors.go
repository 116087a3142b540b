package external

import (
	"errors"
	"fmt"
)

// Error codes of adapter failures.
const (
	EAUTH       = "EAUTH"       // bad credentials (or credentials no longer accepted)
	EACCESS     = "EACCESS"     // authenticated, but the user lacks the access rights
	EVALIDATION = "EVALIDATION" // the external system refused this record; fix the data
	ENETWORK    = "ENETWORK"    // transport failure: timeout, dropped connection, 5xx, serialization conflict
	EREMOTE     = "EREMOTE"     // any other remote error
	ECONFIG     = "ECONFIG"     // the adapter's configuration is wrong (URL, database, reference data, cursor)
	EPENDING    = "EPENDING"    // the record depends on another that is not pushed yet (a group member); retry after it
)

// Error is an adapter failure. Retryable tells the manager that the same
// request may succeed later unchanged (ENETWORK, EPENDING, ...); others
// need a change of data or configuration first.
type Error struct {
	Code      string `json:"code"`
	Retryable bool   `json:"retryable,omitempty"`
	// Remote is the external system's own error name, when it gave one
	// (e.g. "odoo.exceptions.ValidationError").
	Remote  string `json:"remote,omitempty"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string {
	if e.Remote != "" {
		return e.Code + ": " + e.Message + " (" + e.Remote + ")"
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code, retryable for ENETWORK and
// EPENDING, and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Retryable: code == ENETWORK || code == EPENDING, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error: the first in its chain, or an EREMOTE
// wrapping its text. It returns nil for nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: EREMOTE, Message: err.Error()}
}

// Code returns the code of err ("" for nil); see AsError.
func Code(err error) string {
	if e := AsError(err); e != nil {
		return e.Code
	}
	return ""
}

// IsRetryable reports whether err is an *Error marked Retryable.
func IsRetryable(err error) bool {
	e := AsError(err)
	return e != nil && e.Retryable
}
