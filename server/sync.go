package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// syncRequest checks the headers every sync request carries: X-Client-ID
// (the device) and X-Sync-Version (the protocol's semantic version: another
// major is refused with 426, a newer minor keeps working).
func (s *Server) syncRequest(next http.HandlerFunc) http.HandlerFunc {
	major := strings.SplitN(dc.ProtocolVersion, ".", 2)[0]
	return func(w http.ResponseWriter, r *http.Request) {
		v := strings.TrimSpace(r.Header.Get("X-Sync-Version"))
		if v == "" {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "missing X-Sync-Version header (this server speaks %s)", dc.ProtocolVersion))
			return
		}
		if m := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0]; m != major {
			s.writeError(w, r, dc.Errorf(EVERSION, "this client speaks sync protocol %s but the server speaks %s: update the app", v, dc.ProtocolVersion))
			return
		}
		id := strings.TrimSpace(r.Header.Get("X-Client-ID"))
		if id == "" || len(id) > 128 {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "missing or too long X-Client-ID header"))
			return
		}
		next(w, r)
	}
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	var req dc.PushRequest
	n, err := readBody(r, s.cfg.MaxBodyBytes, &req)
	s.metrics.bytesIn.WithLabelValues("push").Add(float64(n))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.Events) == 0 {
		s.writeError(w, r, dc.Errorf(dc.EINVALID, "push has no events"))
		return
	}
	if len(req.Events) > s.cfg.MaxPushEvents {
		s.writeError(w, r, dc.Errorf(ETOOLARGE, "push has %d events; at most %d per request", len(req.Events), s.cfg.MaxPushEvents))
		return
	}
	s.metrics.pushBatch.Observe(float64(len(req.Events)))
	results, err := s.Push(r.Context(), c.App, c.Subject, req.Events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, res := range results {
		s.metrics.pushed.WithLabelValues(res.Status).Inc()
	}
	s.log.Info("push", "app", c.App, "user", c.Subject, "client", r.Header.Get("X-Client-ID"), "events", len(results))
	s.write(w, r, http.StatusOK, &dc.PushResponse{Results: results})
}

// Push applies a device's events to app in one durable transaction and
// returns one result per event: accepted (with its new sequence number),
// duplicate (already stored: the sequence number it got then), rejected
// (invalid here, with the reason; nothing of it is stored) or conflict
// (stored, but based on an entity version another device changed
// meanwhile). The server applies events with the same core applier as the
// devices, so both hold the same entities. Events are stamped with the
// authenticated user.
func (s *Server) Push(ctx context.Context, app, user string, events []*dc.Event) ([]dc.PushResult, error) {
	var results []dc.PushResult
	err := s.store.Push(ctx, app, func(tx dc.PushTx) error {
		results = make([]dc.PushResult, 0, len(events))
		guids := make([]string, len(events))
		var refs []string
		for i, ev := range events {
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
			ev.UserID, ev.SyncLevel, ev.Seq, ev.Failure, ev.LSeq = user, dc.Synced, 0, nil, 0
			status := dc.PushAccepted
			if cur, err := w.Peek(ev.EntityGUID); err != nil {
				return err
			} else if cur != nil && ev.BaseVersion > 0 && cur.Version != ev.BaseVersion {
				status = dc.PushConflict
			}
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
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// txEntities reads entities inside a push transaction, once each.
type txEntities struct {
	*core.Cache[*dc.Entity]
}

func (t txEntities) Entity(guid string) (*dc.Entity, error) { return t.Get(guid) }

func (s *Server) handlePull(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	q := r.URL.Query()
	since, err := strconv.ParseInt(q.Get("since"), 10, 64)
	if q.Get("since") == "" {
		since, err = 0, nil
	}
	if err != nil || since < 0 {
		s.writeError(w, r, dc.Errorf(dc.EINVALID, "since must be a non-negative integer"))
		return
	}
	limit := 500
	if l := q.Get("limit"); l != "" {
		limit, err = strconv.Atoi(l)
		if err != nil || limit <= 0 {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "limit must be a positive integer"))
			return
		}
	}
	limit = min(limit, s.cfg.MaxPullPage)
	evs, audit, more, err := s.store.Pull(r.Context(), c.App, since, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	next := since
	if len(evs) > 0 {
		next = evs[len(evs)-1].Seq
	}
	if evs == nil {
		evs = []*dc.Event{}
	}
	if audit == nil {
		audit = []*dc.AuditEntry{}
	}
	s.metrics.pulled.Add(float64(len(evs)))
	s.write(w, r, http.StatusOK, &dc.PullResponse{Events: evs, Audit: audit, NextCursor: next, HasMore: more})
}
