package standin

import (
	"time"
)

// Fault describes an injected failure. It matches a call when Model and
// Method match ("" matches anything; Method is the ORM method of an
// execute_kw call, or "authenticate"/"version" for the common service).
// What happens to a matching call:
//   - Drop: the connection is closed without an answer (the call is not run);
//   - Error: the call is not run and answers an Odoo error named Error
//     (e.g. ErrSerializationFailure) with Message (a default per name)
//     and Code (default 200; 100 is "Odoo Session Expired");
//   - DropAfter: the call runs (a create creates, and is saved) and then
//     the connection is closed before the answer: a crash between
//     "created" and "acknowledged";
//   - none of these: only Delay applies.
//
// Delay is waited before anything else; delay-only faults add up, and
// the first fault with an effect that hits a call wins. Times > 0 limits the fault to that
// many hits, after which it is removed; Rate in (0,1) makes each matching
// call a hit with that probability (drawn from Options.RandSeed's
// generator); Rate 0 hits every matching call.
type Fault struct {
	Model, Method string
	Error         string
	Message       string
	Code          int
	Drop          bool
	DropAfter     bool
	Delay         time.Duration
	Times         int
	Rate          float64
}

type fault struct {
	Fault
	hits int
}

// AddFault installs f after the faults already installed (the first fault
// that hits a call wins) and returns a function removing it.
func (s *Server) AddFault(f Fault) (remove func()) {
	if f.Error != "" && f.Message == "" {
		f.Message = defaultMessages[f.Error]
		if f.Message == "" {
			f.Message = "Injected fault"
		}
	}
	ff := &fault{Fault: f}
	s.fmu.Lock()
	s.faults = append(s.faults, ff)
	s.fmu.Unlock()
	return func() {
		s.fmu.Lock()
		defer s.fmu.Unlock()
		for i, x := range s.faults {
			if x == ff {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// FailNext makes the next n calls of model.method ("" for any) answer the
// Odoo error name (ErrSerializationFailure when empty).
func (s *Server) FailNext(n int, model, method, name string) {
	if name == "" {
		name = ErrSerializationFailure
	}
	s.AddFault(Fault{Model: model, Method: method, Error: name, Times: n})
}

// FailRate makes a fraction rate of all calls answer the Odoo error name
// (ErrSerializationFailure when empty) until ClearFaults.
func (s *Server) FailRate(rate float64, name string) {
	if name == "" {
		name = ErrSerializationFailure
	}
	s.AddFault(Fault{Error: name, Rate: rate})
}

// DropNext closes the connection of the next n calls of model.method
// without running or answering them.
func (s *Server) DropNext(n int, model, method string) {
	s.AddFault(Fault{Model: model, Method: method, Drop: true, Times: n})
}

// DropAfterNext runs the next n calls of model.method (e.g. "res.partner",
// "create") and then closes the connection before answering.
func (s *Server) DropAfterNext(n int, model, method string) {
	s.AddFault(Fault{Model: model, Method: method, DropAfter: true, Times: n})
}

// SetLatency delays every call by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.fmu.Lock()
	s.latency = d
	s.fmu.Unlock()
}

// ClearFaults removes every fault and the latency.
func (s *Server) ClearFaults() {
	s.fmu.Lock()
	s.faults = nil
	s.latency = 0
	s.fmu.Unlock()
}

// pickFault returns the fault hitting call c (or nil) and the delay to
// wait before handling it.
func (s *Server) pickFault(c Call) (*Fault, time.Duration) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	delay := s.latency
	var hit *Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		keep := true
		matches := (f.Model == "" || f.Model == c.Model) && (f.Method == "" || f.Method == c.Method)
		if matches && hit == nil && (f.Rate <= 0 || f.Rate >= 1 || s.rng.Float64() < f.Rate) {
			f.hits++
			keep = f.Times <= 0 || f.hits < f.Times
			delay += f.Delay
			if f.Error != "" || f.Drop || f.DropAfter {
				out := f.Fault
				hit = &out
			}
		}
		if keep {
			kept = append(kept, f)
		}
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return hit, delay
}
