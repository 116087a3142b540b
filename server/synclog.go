package server

import (
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
	// entry, set by a push, is the audit entry to store in the push's own
	// transaction (its counts and duration filled in there); logged says
	// it was.
	entry  *dc.AuditEntry
	logged bool
	start  time.Time // when the request started
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
		op := syncOp{entry: s.syncEntry(r, action), start: start}
		resp, err := h(r, &op)
		s.audit(r, op, time.Since(start), err)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.write(w, r, http.StatusOK, resp)
	}
}

// syncEntry returns the audit entry of a sync request, its counts and
// outcome still to fill in.
func (s *Server) syncEntry(r *http.Request, action string) *dc.AuditEntry {
	return &dc.AuditEntry{
		GUID:      uuid.NewString(),
		Timestamp: s.now().UTC().Format(time.RFC3339Nano),
		UserID:    claimsOf(r).Subject,
		Action:    action,
		DeviceID:  clientID(r),
		Status:    dc.AuditOK,
	}
}

// audit records a sync operation in the metrics and, unless its push
// transaction stored it already, in the app's sync log. A failure to store
// the entry is logged and counted, never answered: the operation itself is
// done.
func (s *Server) audit(r *http.Request, op syncOp, d time.Duration, err error) {
	a := op.entry
	a.Entities, a.Events, a.DurationMs = op.entities, op.events, d.Milliseconds()
	if err != nil {
		code, msg := publicError(err)
		a.Status, a.Error = dc.AuditError, code+": "+msg
	}
	s.metrics.syncOps.WithLabelValues(a.Action, a.Status).Inc()
	s.metrics.syncDuration.WithLabelValues(a.Action).Observe(d.Seconds())
	if op.logged && err == nil {
		return
	}
	// A push waits until its entry is stored (group commit with the other
	// requests' entries); a pull does not: its entry is written shortly
	// after (Close waits for it), so that reads never wait for a write.
	_ = s.logs.append(claimsOf(r).App, a, a.Action == dc.AuditPush)
}

// logFailed reports entries the sync log could not store.
func (s *Server) logFailed(app string, n int, err error) {
	s.metrics.syncLogFails.Add(float64(n))
	s.log.Error("sync log", "app", app, "entries", n, "err", err)
}

// FlushSyncLog waits until the sync-log entries of the requests served so
// far are written.
func (s *Server) FlushSyncLog() {
	s.logs.drain()
}

// Close writes what remains of the sync log. Call it after the HTTP server
// has shut down.
func (s *Server) Close() {
	s.FlushSyncLog()
}
