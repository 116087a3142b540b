package datacollect

import (
	"errors"
	"fmt"
	"time"
)

// Error codes are stable: JavaScript callers receive them as Error.code and
// the HTTP layer maps them to status codes in exactly one table.
const (
	EINVALID  = "EINVALID"  // the input is malformed or breaks a rule; nothing was written
	ENOTFOUND = "ENOTFOUND" // the thing asked for does not exist
	EEXISTS   = "EEXISTS"   // a create met an existing guid with other content
	ECONFLICT = "ECONFLICT" // a concurrent writer changed what the operation read; retry
	EQUOTA    = "EQUOTA"    // the browser's storage quota is exhausted; nothing was written
	ESTORE    = "ESTORE"    // the storage backend failed; nothing was written
	ECLOSED   = "ECLOSED"   // the store or client is closed or not initialised
	EINTERNAL = "EINTERNAL" // a bug: please report it
	ECRYPTO   = "ECRYPTO"   // wrong passphrase or key, locked, or ciphertext that fails authentication; nothing was read or written

	EUNAUTHORIZED = "EUNAUTHORIZED" // no, a bad or an expired token; or bad credentials
	EFORBIDDEN    = "EFORBIDDEN"    // authenticated, but not allowed
	ETOOLARGE     = "ETOOLARGE"     // a request exceeds a size limit
	EVERSION      = "EVERSION"      // client and server speak different major protocol versions
	ERATELIMIT    = "ERATELIMIT"    // too many requests; retry later
	ENETWORK      = "ENETWORK"      // the server could not be reached, or the answer was lost
	ETIMEOUT      = "ETIMEOUT"      // the server or the network took too long
)

// Error is an error with a stable machine-readable Code and a human message.
type Error struct {
	Code    string
	Message string
	// Status is the HTTP status of the answer that carried the error (0
	// when no answer arrived); the retry policy in package core reads it.
	Status int
	// RetryAfter is the delay a server asked for (HTTP Retry-After), or 0.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// err.Error() for other errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
