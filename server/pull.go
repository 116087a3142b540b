package server

import (
	"net/http"
	"net/url"
	"strconv"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire"
)

// pullLogPage bounds the sync-log entries of one pull answer.
const pullLogPage = 100

// pull handles GET /api/v1/sync/pull?since=&limit=&logSince= (audited): a
// page of the app's events after since, and the app's sync-log entries
// after logSince that affected entities or failed.
func (s *Server) pull(r *http.Request, op *syncOp) (wire.Message, error) {
	c := claimsOf(r)
	q := r.URL.Query()
	since, err := cursorParam(q, "since")
	if err != nil {
		return nil, err
	}
	logSince, err := cursorParam(q, "logSince")
	if err != nil {
		return nil, err
	}
	limit := 500
	if l := q.Get("limit"); l != "" {
		limit, err = strconv.Atoi(l)
		if err != nil || limit <= 0 {
			return nil, dc.Errorf(dc.EINVALID, "limit must be a positive integer")
		}
	}
	limit = min(limit, s.cfg.MaxPullPage)
	evs, audit, more, err := s.store.Pull(r.Context(), c.App, since, limit)
	if err != nil {
		return nil, err
	}
	log, err := s.store.SyncLog(r.Context(), c.App, dc.SyncLogQuery{After: logSince, Limit: pullLogPage, Affecting: true})
	if err != nil {
		return nil, err
	}
	resp := &dc.PullResponse{Events: evs, Audit: audit, NextCursor: since, HasMore: more,
		SyncLog: log, NextLogCursor: logSince}
	if len(evs) > 0 {
		resp.NextCursor = evs[len(evs)-1].Seq
	}
	if len(log) > 0 {
		resp.NextLogCursor = log[len(log)-1].ID
	}
	if resp.Events == nil {
		resp.Events = []*dc.Event{}
	}
	if resp.Audit == nil {
		resp.Audit = []*dc.AuditEntry{}
	}
	if err := s.sealPull(r, c.App, resp); err != nil {
		return nil, err
	}
	op.countEntities(evs)
	s.metrics.pulled.Add(float64(len(evs)))
	return resp, nil
}

// handlePlan answers GET /api/v1/sync/plan?since=N: how many events a pull
// from cursor N would bring. It changes nothing and is not audited.
func (s *Server) handlePlan(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	since, err := cursorParam(r.URL.Query(), "since")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.store.CountAfter(r.Context(), c.App, since)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, &dc.PlanResponse{Pull: n, Cursor: since})
}

// cursorParam returns the query parameter name as a cursor: a
// non-negative integer, 0 when absent, else EINVALID.
func cursorParam(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, dc.Errorf(dc.EINVALID, "%s must be a non-negative integer", name)
	}
	return n, nil
}
