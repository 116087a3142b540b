package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire"
)

// Error codes of the HTTP layer (defined in the root package).
const (
	EUNAUTHORIZED = dc.EUNAUTHORIZED
	EFORBIDDEN    = dc.EFORBIDDEN
	ETOOLARGE     = dc.ETOOLARGE
	EVERSION      = dc.EVERSION
	ERATELIMIT    = dc.ERATELIMIT
)

// statusOf is the one table mapping error codes to HTTP status codes.
var statusOf = map[string]int{
	dc.EINVALID:   http.StatusBadRequest,
	dc.ENOTFOUND:  http.StatusNotFound,
	dc.EEXISTS:    http.StatusConflict,
	dc.ECONFLICT:  http.StatusConflict,
	dc.EQUOTA:     http.StatusInsufficientStorage,
	dc.ESTORE:     http.StatusServiceUnavailable,
	dc.ECLOSED:    http.StatusServiceUnavailable,
	dc.EINTERNAL:  http.StatusInternalServerError,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EVERSION:      http.StatusUpgradeRequired,
	ERATELIMIT:    http.StatusTooManyRequests,
	dc.ETIMEOUT:   http.StatusRequestTimeout,
	dc.ECRYPTO:    http.StatusBadRequest, // a bad or missing event envelope
}

// StatusOf returns the HTTP status for an error code (500 if unknown).
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError answers with the error's status and an ErrorResponse body in
// the format the client accepts. Internal errors are logged, and their
// details are not sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := publicError(err)
	status := StatusOf(code)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request refused", slog.String("path", r.URL.Path), slog.String("code", code), slog.String("msg", msg))
	}
	s.metrics.errors.WithLabelValues(code).Inc()
	s.write(w, r, status, &dc.ErrorResponse{Code: code, Message: msg})
}

// publicError returns the code and message of err that may leave the
// server: the message of an error without a code (a bug) is not sent.
func publicError(err error) (code, msg string) {
	code, msg = dc.ErrorCode(err), dc.ErrorMessage(err)
	var de *dc.Error
	if StatusOf(code) >= 500 && !errors.As(err, &de) {
		msg = "internal error"
	}
	return code, msg
}

// write encodes m in the format the request accepts (JSON if it asks for
// it, else MessagePack), gzip-compressed if the client accepts gzip.
// answerType is the content type of the answer to r: MessagePack when r
// asks for it (Accept), or sends it and accepts anything; JSON otherwise,
// so that a person trying the API with curl reads the answers.
func answerType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if strings.Contains(strings.ToLower(accept), "msgpack") {
		return wire.MsgPack
	}
	if wire.IsJSON(accept) {
		return wire.JSON
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !wire.IsJSON(ct) {
		return wire.MsgPack
	}
	return wire.JSON
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, m wire.Message) {
	ct := answerType(r)
	body, err := wire.Marshal(ct, m)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBody(w, r, status, ct, body)
}
