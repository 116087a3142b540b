package standin

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"time"
)

// Call is one JSON-RPC call as the server saw it. For execute_kw calls
// Model, Method (the ORM method), Args, Kwargs and UID are filled; for
// others Method is the service's method. Outcome is "ok", the error name,
// "injected <name>", "dropped", or ends in ", dropped before answering".
type Call struct {
	Service, Method, Model string
	UID                    int
	Args                   []any
	Kwargs                 map[string]any
	Outcome                string
}

func (s *Server) record(c Call) {
	if s.opts.Logger != nil {
		s.opts.Logger.Info("call", "service", c.Service, "model", c.Model, "method", c.Method, "uid", c.UID, "outcome", c.Outcome)
	}
	s.fmu.Lock()
	s.calls = append(s.calls, c)
	s.fmu.Unlock()
}

// Calls returns the calls received so far, oldest first.
func (s *Server) Calls() []Call {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return slices.Clone(s.calls)
}

// CountCalls returns how many calls of model.method ("" matches any) were
// received, whatever their outcome.
func (s *Server) CountCalls(model, method string) int {
	n := 0
	for _, c := range s.Calls() {
		if (model == "" || c.Model == model) && (method == "" || c.Method == method) {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.fmu.Lock()
	s.calls = nil
	s.fmu.Unlock()
}

// clock is the time stamping records; caller holds s.mu.
func (s *Server) clock() time.Time {
	if s.frozen != nil {
		return *s.frozen
	}
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Freeze stops the clock at t: every later change gets write_date t (to
// the second), until Advance or Unfreeze.
func (s *Server) Freeze(t time.Time) {
	s.mu.Lock()
	s.frozen = &t
	s.mu.Unlock()
}

// Advance moves the clock forward by d, freezing it first at the current
// time if it is running.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	t := s.clock().Add(d)
	s.frozen = &t
	s.mu.Unlock()
}

// Unfreeze lets the clock (Options.Now or time.Now) run again.
func (s *Server) Unfreeze() {
	s.mu.Lock()
	s.frozen = nil
	s.mu.Unlock()
}

// Now returns the server clock's current time as Odoo's naive UTC
// datetime string.
func (s *Server) Now() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.e.nowString()
}

// Execute runs an ORM method as the admin user, bypassing faults and the
// HTTP layer, with JSON-RPC semantics: args and kwargs are converted as if
// they had been sent as JSON, the result is what the call would answer
// (decoded from JSON), and a failure is an *Error. Tests use it to edit
// "OpenSPP" behind the adapter's back, e.g.
// Execute("res.partner", "write", []any{[]int{id}, map[string]any{"phone": "1"}}, nil).
func (s *Server) Execute(model, method string, args []any, kwargs map[string]any) (any, error) {
	var a []any
	var kw map[string]any
	if err := roundTrip(args, &a); err != nil {
		return nil, err
	}
	if err := roundTrip(kwargs, &kw); err != nil {
		return nil, err
	}
	if kw == nil {
		kw = map[string]any{}
	}
	res, rerr := s.exec(AdminUID, true, model, method, a, kw)
	if rerr != nil {
		return nil, rerr
	}
	var out any
	if err := roundTrip(res, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Create creates one record as admin and returns its id.
func (s *Server) Create(model string, vals map[string]any) (int, error) {
	res, err := s.Execute(model, "create", []any{vals}, nil)
	if err != nil {
		return 0, err
	}
	id, _ := asInt(res)
	return id, nil
}

// Write writes vals to records as admin.
func (s *Server) Write(model string, ids []int, vals map[string]any) error {
	_, err := s.Execute(model, "write", []any{ids, vals}, nil)
	return err
}

// SearchRead returns the records of model matching domain (nil: all),
// ordered by id, with the given fields (none: all), as search_read
// answers them.
func (s *Server) SearchRead(model string, domain []any, fields ...string) ([]map[string]any, error) {
	if domain == nil {
		domain = []any{}
	}
	res, err := s.Execute(model, "search_read", []any{domain}, map[string]any{"fields": fields, "order": "id asc"})
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	if err := roundTrip(res, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// Count returns how many records of model match domain (nil: all).
func (s *Server) Count(model string, domain []any) (int, error) {
	if domain == nil {
		domain = []any{}
	}
	res, err := s.Execute(model, "search_count", []any{domain}, nil)
	if err != nil {
		return 0, err
	}
	n, _ := asInt(res)
	return n, nil
}

// ID returns the id of the record of model whose display name is name
// (e.g. ID(standin.GroupKind, "Household")), or 0.
func (s *Server) ID(model, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.e.models[model]
	if !ok {
		return 0
	}
	for _, id := range s.e.tables[model].ids {
		if s.e.displayName(m, id) == name {
			return id
		}
	}
	return 0
}

// roundTrip converts v as JSON would, numbers becoming int when integral.
func roundTrip(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("standin: encode: %w", err)
	}
	var x any
	if err := decodeJSON(b, &x); err != nil {
		return err
	}
	b, _ = json.Marshal(x)
	if p, ok := out.(*any); ok {
		*p = x
		return nil
	}
	if p, ok := out.(*[]any); ok {
		l, _ := x.([]any)
		*p = l
		return nil
	}
	if p, ok := out.(*map[string]any); ok {
		m, _ := x.(map[string]any)
		*p = m
		return nil
	}
	if p, ok := out.(*[]map[string]any); ok {
		l, _ := x.([]any)
		rows := make([]map[string]any, 0, len(l))
		for _, e := range l {
			r, _ := e.(map[string]any)
			rows = append(rows, r)
		}
		*p = rows
		return nil
	}
	return json.Unmarshal(b, out)
}

func newTestHTTPServer(s *Server) *httptest.Server { return httptest.NewServer(s) }
