package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/wire"
)

// maxClientID bounds the length of X-Client-ID.
const maxClientID = 128

// syncRequest checks the headers every sync request carries (see
// checkSyncHeaders) before next runs.
func (s *Server) syncRequest(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkSyncHeaders(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		next(w, r)
	}
}

// syncMajor is the major version of the sync protocol the server speaks.
var syncMajor = strings.SplitN(dc.ProtocolVersion, ".", 2)[0]

// checkSyncHeaders checks X-Client-ID (the device: EINVALID when missing or
// too long) and X-Sync-Version (the protocol's semantic version: EINVALID
// when missing, EVERSION for another major; a newer minor keeps working).
func checkSyncHeaders(r *http.Request) error {
	v := strings.TrimSpace(r.Header.Get("X-Sync-Version"))
	if v == "" {
		return dc.Errorf(dc.EINVALID, "missing X-Sync-Version header (this server speaks %s)", dc.ProtocolVersion)
	}
	if m := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0]; m != syncMajor {
		return dc.Errorf(EVERSION, "this client speaks sync protocol %s but the server speaks %s: update the app", v, dc.ProtocolVersion)
	}
	if clientID(r) == "" {
		return dc.Errorf(dc.EINVALID, "missing or too long X-Client-ID header")
	}
	return nil
}

// clientID returns the device's X-Client-ID, or "" if it is missing or too
// long.
func clientID(r *http.Request) string {
	id := strings.TrimSpace(r.Header.Get("X-Client-ID"))
	if len(id) > maxClientID {
		return ""
	}
	return id
}

// push handles POST /api/v1/sync/push (audited).
func (s *Server) push(r *http.Request, op *syncOp) (wire.Message, error) {
	c := claimsOf(r)
	var req dc.PushRequest
	n, err := readBody(r, s.cfg.MaxBodyBytes, &req)
	s.metrics.bytesIn.WithLabelValues("push").Add(float64(n))
	if err != nil {
		return nil, err
	}
	if len(req.Events) == 0 {
		return nil, dc.Errorf(dc.EINVALID, "push has no events")
	}
	if len(req.Events) > s.cfg.MaxPushEvents {
		return nil, dc.Errorf(ETOOLARGE, "push has %d events; at most %d per request", len(req.Events), s.cfg.MaxPushEvents)
	}
	// Envelopes are opened before anything looks at the events.
	if err := s.openPush(r.Context(), c.App, req.Events, s.envelopeRequired()); err != nil {
		return nil, err
	}
	s.metrics.pushBatch.Observe(float64(len(req.Events)))
	results, err := s.apply(r.Context(), c.App, c.Subject, req.Events, op)
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		s.metrics.pushed.WithLabelValues(res.Status).Inc()
	}
	s.log.Info("push", "app", c.App, "user", c.Subject, "client", clientID(r), "events", len(results))
	return &dc.PushResponse{Results: results}, nil
}

// Push applies a device's events to app in one durable transaction and
// returns one result per event: accepted (with its new sequence number),
// duplicate (already stored: the sequence number it got then), rejected
// (invalid here, with the reason; nothing of it is stored) or conflict
// (stored, but based on an entity version another device changed
// meanwhile). The server applies events with the same core applier as the
// devices, so both hold the same entities. Events are stamped with the
// authenticated user. Sealed events are opened first (in place); a bad
// envelope fails the whole call with ECRYPTO, nothing applied.
func (s *Server) Push(ctx context.Context, app, user string, events []*dc.Event) ([]dc.PushResult, error) {
	if err := s.openPush(ctx, app, events, false); err != nil {
		return nil, err
	}
	return s.apply(ctx, app, user, events, nil)
}

// apply is Push; with op set, it counts what the push stored into op and
// stores op's sync-log entry in the push's transaction.
func (s *Server) apply(ctx context.Context, app, user string, events []*dc.Event, op *syncOp) ([]dc.PushResult, error) {
	var results []dc.PushResult
	now := s.now()
	err := s.store.Push(ctx, app, func(tx dc.PushTx) error {
		results = make([]dc.PushResult, 0, len(events))
		guids := make([]string, len(events))
		var refs []string
		for i, ev := range events {
			if ev == nil {
				continue // rejected below
			}
			guids[i] = ev.GUID
			refs = append(refs, core.Refs(ev)...)
		}
		stored, err := tx.Events(guids)
		if err != nil {
			return err
		}
		ents := txEntities{core.NewCache(tx.Entities)}
		if err := ents.Load(refs); err != nil {
			return err
		}
		w := core.NewWorking(ents)
		seen := map[string]int64{}
		for _, in := range events {
			if in == nil || in.GUID == "" {
				results = append(results, dc.PushResult{Status: dc.PushRejected, Code: dc.EINVALID, Message: "event has no guid"})
				continue
			}
			if st := stored[in.GUID]; st != nil {
				results = append(results, dc.PushResult{GUID: in.GUID, Status: dc.PushDuplicate, Seq: st.Seq})
				continue
			}
			if seq, ok := seen[in.GUID]; ok {
				results = append(results, dc.PushResult{GUID: in.GUID, Status: dc.PushDuplicate, Seq: seq})
				continue
			}
			ev := in.Clone()
			ev.UserID, ev.SyncLevel, ev.Failure, ev.LSeq = user, dc.Synced, nil, 0
			// The order of record: what the event writes is stamped with
			// its sequence number, and its clock bounded by the server's.
			ev.Seq, ev.HLC = tx.NextSeq(), core.BoundHLC(ev.HLC, now)
			audit, err := s.applier.Apply(w, ev)
			if err != nil {
				if code := dc.ErrorCode(err); code != dc.EINTERNAL {
					results = append(results, dc.PushResult{GUID: in.GUID, Status: dc.PushRejected, Code: code, Message: dc.ErrorMessage(err)})
					continue
				}
				return err
			}
			if err := tx.Append(ev); err != nil {
				return err
			}
			status := dc.PushAccepted
			if core.CountConflicts(audit) > 0 {
				status = dc.PushConflict
			}
			for _, a := range audit {
				if err := tx.AppendAudit(ev.Seq, a); err != nil {
					return err
				}
			}
			seen[ev.GUID] = ev.Seq
			results = append(results, dc.PushResult{GUID: ev.GUID, Status: status, Seq: ev.Seq})
		}
		for _, ch := range w.Changes() {
			if err := tx.PutEntity(ch.After); err != nil {
				return err
			}
		}
		if op != nil {
			return logPush(tx, op, events, results)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if op != nil {
		op.logged = true
	}
	return results, nil
}

// logPush fills op's entry with what the push stored and appends it in the
// push's transaction: the entry commits with the events, at no extra cost.
func logPush(tx dc.PushTx, op *syncOp, events []*dc.Event, results []dc.PushResult) error {
	stored := make([]*dc.Event, 0, len(results))
	for i, res := range results {
		if res.Status == dc.PushAccepted || res.Status == dc.PushConflict {
			stored = append(stored, events[i])
		}
	}
	op.countEntities(stored)
	a := op.entry
	a.Entities, a.Events, a.DurationMs = op.entities, op.events, time.Since(op.start).Milliseconds()
	return tx.AppendSyncLog(a)
}

// txEntities reads entities inside a push transaction, once each.
type txEntities struct {
	*core.Cache[*dc.Entity]
}

func (t txEntities) Entity(guid string) (*dc.Entity, error) { return t.Get(guid) }
