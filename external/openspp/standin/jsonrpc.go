package standin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/datacollect/datacollect/internal/jsonx"
)

// ServeHTTP answers POST /jsonrpc; any other path gets a 404 JSON-RPC error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/jsonrpc" {
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			fmt.Fprintf(w, "OpenSPP stand-in (Odoo 17 JSON-RPC subset): POST /jsonrpc, database %q\n", s.opts.DB)
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"jsonrpc": "2.0", "id": nil,
			"error": (&Error{Code: 404, Name: ErrNotFound, Message: "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."}).wire()})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		ID     json.RawMessage `json:"id"`
		Params struct {
			Service string `json:"service"`
			Method  string `json:"method"`
			Args    []any  `json:"args"`
		} `json:"params"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		err = dec.Decode(&req)
	}
	id := any(nil)
	if len(req.ID) > 0 {
		id = req.ID
	}
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": id,
			"error": newErr(ErrBadRequest, "Invalid JSON data: %v", err).wire()})
		return
	}
	c := Call{Service: req.Params.Service, Method: req.Params.Method}
	args := jsonx.Normalize(req.Params.Args).([]any)
	if args == nil {
		args = []any{}
	}
	if c.Service == "object" && len(args) >= 5 {
		c.Model, _ = args[3].(string)
		c.Method, _ = args[4].(string)
		if len(args) > 5 {
			c.Args, _ = args[5].([]any)
		}
		if len(args) > 6 {
			c.Kwargs, _ = args[6].(map[string]any)
		}
		c.UID, _ = asInt(args[1])
	}
	f, delay := s.pickFault(c)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	var result any
	var rpcErr *Error
	switch {
	case f != nil && f.Drop:
		c.Outcome = "dropped"
		s.record(c)
		drop(w)
		return
	case f != nil && f.Error != "":
		rpcErr = &Error{Code: f.Code, Name: f.Error, Message: f.Message}
		c.Outcome = "injected " + f.Error
	default:
		result, rpcErr = s.dispatch(req.Params.Service, req.Params.Method, args)
		if rpcErr != nil {
			c.Outcome = rpcErr.Name
		} else {
			c.Outcome = "ok"
		}
	}
	if f != nil && f.DropAfter {
		c.Outcome += ", dropped before answering"
		s.record(c)
		drop(w)
		return
	}
	s.record(c)
	resp := map[string]any{"jsonrpc": "2.0", "id": id}
	if rpcErr != nil {
		resp["error"] = rpcErr.wire()
	} else {
		resp["result"] = result
	}
	writeJSON(w, http.StatusOK, resp)
}

// drop closes the connection without answering.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "error": newErr(ErrType, "cannot encode answer: %v", err).wire()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// dispatch runs one JSON-RPC call.
func (s *Server) dispatch(service, method string, args []any) (any, *Error) {
	switch service {
	case "common":
		switch method {
		case "version":
			return versionInfo(), nil
		case "about":
			return "See http://openerp.com", nil
		case "authenticate", "login":
			if len(args) < 3 {
				return nil, newErr(ErrType, "exp_%s() missing required positional arguments", method)
			}
			db, _ := args[0].(string)
			if db != s.opts.DB {
				return nil, newErr(ErrOperational, "connection to server failed: FATAL:  database \"%s\" does not exist", db)
			}
			login, _ := args[1].(string)
			password, _ := args[2].(string)
			if uid, _ := s.user(login, password); uid != 0 {
				return uid, nil
			}
			return false, nil
		}
		return nil, newErr(ErrKey, "'exp_%s'", method)
	case "object":
		if method != "execute_kw" && method != "execute" {
			return nil, newErr(ErrNameError, "Method not available %s", method)
		}
		return s.executeKW(method, args)
	case "db":
		if method == "list" {
			return []any{s.opts.DB}, nil
		}
		if method == "server_version" {
			return "17.0", nil
		}
		return nil, newErr(ErrKey, "'exp_%s'", method)
	}
	return nil, newErr(ErrKey, "'%s'", service)
}

func versionInfo() map[string]any {
	return map[string]any{
		"server_version":      "17.0",
		"server_version_info": []any{17, 0, 0, "final", 0, ""},
		"server_serie":        "17.0",
		"protocol_version":    1,
	}
}

// user returns the uid and write right of a login, or 0.
func (s *Server) user(login, password string) (int, bool) {
	switch {
	case login == s.opts.Login && password == s.opts.Password:
		return AdminUID, true
	case s.opts.ReadOnlyLogin != "" && login == s.opts.ReadOnlyLogin && password == s.opts.ReadOnlyPassword:
		return ReadOnlyUID, false
	}
	return 0, false
}

func (s *Server) uidRights(uid int, password string) (bool, bool) {
	switch {
	case uid == AdminUID && password == s.opts.Password:
		return true, true
	case uid == ReadOnlyUID && s.opts.ReadOnlyLogin != "" && password == s.opts.ReadOnlyPassword:
		return true, false
	}
	return false, false
}

func (s *Server) executeKW(method string, args []any) (any, *Error) {
	if len(args) < 5 {
		return nil, newErr(ErrType, "%s() missing required positional arguments: expected db, uid, password, model, method", method)
	}
	db, _ := args[0].(string)
	if db != s.opts.DB {
		return nil, newErr(ErrOperational, "connection to server failed: FATAL:  database \"%s\" does not exist", db)
	}
	uid, _ := asInt(args[1])
	password, _ := args[2].(string)
	ok, rw := s.uidRights(uid, password)
	if !ok {
		return nil, newErr(ErrAccessDenied, "Access Denied")
	}
	model, _ := args[3].(string)
	name, _ := args[4].(string)
	var callArgs []any
	kwargs := map[string]any{}
	if method == "execute" {
		callArgs = args[5:]
	} else {
		if len(args) > 5 {
			a, ok := args[5].([]any)
			if !ok && args[5] != nil {
				return nil, newErr(ErrType, "execute_kw: args must be a list")
			}
			callArgs = a
		}
		if len(args) > 6 && args[6] != nil {
			k, ok := args[6].(map[string]any)
			if !ok {
				return nil, newErr(ErrType, "execute_kw: kwargs must be a dict")
			}
			kwargs = k
		}
	}
	return s.exec(uid, rw, model, name, callArgs, kwargs)
}

// exec runs an ORM call under the lock and persists what it changed.
func (s *Server) exec(uid int, rw bool, model, method string, args []any, kwargs map[string]any) (any, *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.e.call(uid, rw, model, method, args, kwargs, s.save)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// decodeJSON decodes b into v keeping integers exact (as int).
func decodeJSON(b []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	*v = jsonx.Normalize(*v)
	return nil
}
