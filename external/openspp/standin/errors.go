package standin

import (
	"fmt"
	"strings"
)

// Odoo exception class names, as they appear in an error answer's data.name.
const (
	ErrAccessDenied         = "odoo.exceptions.AccessDenied"
	ErrAccessError          = "odoo.exceptions.AccessError"
	ErrValidation           = "odoo.exceptions.ValidationError"
	ErrUser                 = "odoo.exceptions.UserError"
	ErrMissing              = "odoo.exceptions.MissingError"
	ErrValue                = "builtins.ValueError"
	ErrType                 = "builtins.TypeError"
	ErrKey                  = "builtins.KeyError"
	ErrAttribute            = "builtins.AttributeError"
	ErrNameError            = "builtins.NameError"
	ErrOS                   = "builtins.OSError"
	ErrSerializationFailure = "psycopg2.errors.SerializationFailure"
	ErrOperational          = "psycopg2.OperationalError"
	ErrBadRequest           = "werkzeug.exceptions.BadRequest"
	ErrNotFound             = "werkzeug.exceptions.NotFound"
	ErrSessionExpired       = "odoo.http.SessionExpiredException"
)

// Error is an Odoo error answer: the "error" member of a JSON-RPC response.
// Code is 200 for server errors, 100 for an expired session and 404 for a
// missing route; Name is the Python exception class (one of the Err*
// constants), Message its text.
type Error struct {
	Code    int
	Name    string
	Message string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// wire renders the error object exactly as Odoo 17 does.
func (e *Error) wire() map[string]any {
	code, msg := e.Code, "Odoo Server Error"
	switch code {
	case 0:
		code = 200
	case 100:
		msg = "Odoo Session Expired"
	case 404:
		msg = "404: Not Found"
	}
	debug := fmt.Sprintf("Traceback (most recent call last):\n  File \"/opt/odoo/odoo/http.py\", line 1767, in _serve_db\n    return service_model.retrying(self._serve_ir_http, self.env)\n%s: %s\n",
		e.Name, e.Message)
	return map[string]any{
		"code":    code,
		"message": msg,
		"data": map[string]any{
			"name":      e.Name,
			"message":   e.Message,
			"arguments": []any{e.Message},
			"debug":     debug,
			"context":   map[string]any{},
		},
	}
}

// defaultMessages are the texts injected faults carry when none is given.
var defaultMessages = map[string]string{
	ErrAccessDenied:         "Access Denied",
	ErrSerializationFailure: "could not serialize access due to concurrent update",
	ErrOperational:          "server closed the connection unexpectedly",
	ErrValidation:           "Injected validation error",
	ErrUser:                 "Injected user error",
	ErrSessionExpired:       "Session expired",
}

func newErr(name, format string, args ...any) *Error {
	return &Error{Code: 200, Name: name, Message: fmt.Sprintf(format, args...)}
}

func invalidField(model, field string) *Error {
	return newErr(ErrValue, "Invalid field '%s' on model '%s'", field, model)
}

func accessError(m *model, op string) *Error {
	return newErr(ErrAccessError, "You are not allowed to %s '%s' (%s) records.\n\nThis operation is allowed for the following groups:\n\t- Registry / Registrar\n\nContact your administrator to request access if necessary.",
		op, m.description, m.name)
}

func missingError(model string, ids []int, uid int) *Error {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return newErr(ErrMissing, "Record does not exist or has been deleted.\n(Record: %s(%s,), User: %d)", model, strings.Join(parts, ", "), uid)
}
