package server

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire"
)

// The server audits every push and pull request that passed
// authentication into the app's sync log (dc.ServerStore.AppendSyncLog):
// which device and user, how many entities and events, how long it took,
// and the error it was answered with. Pulls send the log's entries that
// affected entities or failed, so that every device sees what the others
// did.

// syncOp is what a push or pull did, as its audit entry records it.
type syncOp struct {
	// entities is the number of distinct entities the operation affected:
	// of the events a push stored, or of the events a pull sent.
	entities int
	// events is the number of events stored by a push or sent by a pull.
	events int
}

// countEntities sets op's counts from the events stored or sent.
func (op *syncOp) countEntities(evs []*dc.Event) {
	seen := make(map[string]struct{}, len(evs))
	for _, ev := range evs {
		seen[ev.EntityGUID] = struct{}{}
	}
	op.entities, op.events = len(seen), len(evs)
}

// syncHandler handles an audited sync request: it returns the answer, or
// the error to answer with, and records in op what it did.
type syncHandler func(r *http.Request, op *syncOp) (wire.Message, error)

// auditTimeout bounds the writing of an audit entry.
const auditTimeout = 10 * time.Second

// audited serves an authenticated push or pull (action dc.AuditPush or
// dc.AuditPull) whose headers syncRequest checked: it runs h, appends the audit
// entry and only then answers, so that an entry is stored before its
// device hears the outcome. A pull's answer is built before its own entry
// is appended: a device does not receive its own pull in that pull's page.
func (s *Server) audited(action string, h syncHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var op syncOp
		resp, err := h(r, &op)
		s.audit(r, action, op, time.Since(start), err)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.write(w, r, http.StatusOK, resp)
	}
}

// audit records a sync operation in the metrics and the app's sync log. A
// failure to store the entry is logged and counted, never answered: the
// operation itself is done.
func (s *Server) audit(r *http.Request, action string, op syncOp, d time.Duration, err error) {
	c := claimsOf(r)
	a := &dc.AuditEntry{
		GUID:       uuid.NewString(),
		Timestamp:  s.now().UTC().Format(time.RFC3339Nano),
		UserID:     c.Subject,
		Action:     action,
		DeviceID:   clientID(r),
		Entities:   op.entities,
		Events:     op.events,
		DurationMs: d.Milliseconds(),
		Status:     dc.AuditOK,
	}
	if err != nil {
		code, msg := publicError(err)
		a.Status, a.Error = dc.AuditError, code+": "+msg
	}
	s.metrics.syncOps.WithLabelValues(action, a.Status).Inc()
	s.metrics.syncDuration.WithLabelValues(action).Observe(d.Seconds())
	// The entry is written even when the client has gone away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	if err := s.store.AppendSyncLog(ctx, c.App, a); err != nil {
		s.metrics.syncLogFails.Inc()
		s.log.Error("sync log", "app", c.App, "action", action, "client", a.DeviceID, "err", err)
	}
}
