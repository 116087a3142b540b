package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
)

// The external sync admin API (admins of the token's app only).
const (
	pathAdminExternalConfig   = "/api/v1/admin/external/config"
	pathAdminExternalSync     = "/api/v1/admin/external/sync"
	pathAdminExternalStatus   = "/api/v1/admin/external/status"
	pathAdminExternalFailures = "/api/v1/admin/external/failures"
	pathAdminExternalRetry    = "/api/v1/admin/external/retry"
)

// redacted stands for a secret that is set.
const redacted = "[REDACTED]"

// ExternalSettings is an app's external sync configuration: the adapter's
// configuration (with its secret), whether the app syncs and how often.
type ExternalSettings struct {
	external.Config
	Enabled  bool          `json:"enabled"`
	Interval time.Duration `json:"-"`
}

// ExternalConfigView is an app's configuration as the API and the CLI show
// it: the secret is never in it, only whether one is set.
type ExternalConfigView struct {
	App      string            `json:"app"`
	Adapter  string            `json:"adapter"`
	URL      string            `json:"url"`
	Database string            `json:"database,omitempty"`
	Login    string            `json:"login,omitempty"`
	Secret   string            `json:"secret"` // "[REDACTED]" or ""
	FieldMap map[string]string `json:"fieldMap,omitempty"`
	Options  map[string]string `json:"options,omitempty"`
	PageSize int               `json:"pageSize,omitempty"`
	Enabled  bool              `json:"enabled"`
	// Interval is the app's own sync interval ("" for the server's).
	Interval  string `json:"interval,omitempty"`
	UpdatedAt string `json:"updatedAt"`
}

func viewOf(rec *dc.ExternalConfig) (*ExternalConfigView, error) {
	cfg, err := decodeExternalConfig(rec)
	if err != nil {
		return nil, err
	}
	v := &ExternalConfigView{App: rec.AppID, Adapter: rec.Adapter, URL: cfg.URL, Database: cfg.Database, Login: cfg.Login,
		FieldMap: cfg.FieldMap, Options: cfg.Options, PageSize: cfg.PageSize, Enabled: rec.Enabled,
		UpdatedAt: dc.FormatTime(rec.UpdatedAt)}
	if cfg.Secret != "" {
		v.Secret = redacted
	}
	if rec.Interval > 0 {
		v.Interval = rec.Interval.String()
	}
	return v, nil
}

// SetExternalConfig validates and stores app's external sync
// configuration and returns it redacted. An empty secret keeps the stored
// one. The adapter must be registered (package external) and accept the
// configuration (Initialize: no I/O); EINVALID otherwise.
func SetExternalConfig(ctx context.Context, store dc.ServerStore, app string, set ExternalSettings, now time.Time) (*ExternalConfigView, error) {
	es, ok := store.(dc.ExternalStore)
	if !ok {
		return nil, dc.Errorf(dc.ENOTFOUND, "this server's store does not support external sync")
	}
	if app == "" {
		return nil, dc.Errorf(dc.EINVALID, "external config: no app")
	}
	if set.Interval < 0 || set.PageSize < 0 {
		return nil, dc.Errorf(dc.EINVALID, "external config: negative interval or page size")
	}
	cfg := set.Config
	if cfg.Secret == "" {
		if old, err := es.ExternalConfig(ctx, app); err == nil {
			if oc, err := decodeExternalConfig(old); err == nil && oc.Adapter == cfg.Adapter {
				cfg.Secret = oc.Secret
			}
		}
	}
	a, err := external.New(cfg.Adapter)
	if err == nil {
		err = a.Initialize(ctx, cfg)
	}
	if err != nil {
		return nil, dc.Errorf(dc.EINVALID, "external config: %v", err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, dc.Errorf(dc.EINVALID, "external config: %v", err)
	}
	rec := &dc.ExternalConfig{AppID: app, Adapter: cfg.Adapter, Config: b, Enabled: set.Enabled, Interval: set.Interval, UpdatedAt: now}
	if err := es.PutExternalConfig(ctx, rec); err != nil {
		return nil, err
	}
	return viewOf(rec)
}

// ExternalStatus is an app's external sync status.
type ExternalStatus struct {
	Config       *ExternalConfigView `json:"config"`
	OutboxCursor int64               `json:"outboxCursor"`
	PullCursor   string              `json:"pullCursor"`
	Pending      int                 `json:"pending"`
	Failed       int                 `json:"failed"`
	Running      bool                `json:"running"`
	LastRun      *ExternalSummary    `json:"lastRun,omitempty"`
}

// ExternalStatusOf returns app's external sync status (ENOTFOUND without
// a configuration).
func ExternalStatusOf(ctx context.Context, store dc.ServerStore, app string, now time.Time) (*ExternalStatus, error) {
	es, ok := store.(dc.ExternalStore)
	if !ok {
		return nil, dc.Errorf(dc.ENOTFOUND, "this server's store does not support external sync")
	}
	rec, err := es.ExternalConfig(ctx, app)
	if err != nil {
		return nil, err
	}
	view, err := viewOf(rec)
	if err != nil {
		return nil, err
	}
	st, err := es.ExternalState(ctx, app)
	if err != nil {
		return nil, err
	}
	out := &ExternalStatus{Config: view, OutboxCursor: st.OutboxCursor, PullCursor: st.PullCursor,
		Running: st.LeaseOwner != "" && st.LeaseUntil.After(now)}
	if len(st.LastRun) > 0 {
		out.LastRun = &ExternalSummary{}
		if err := json.Unmarshal(st.LastRun, out.LastRun); err != nil {
			out.LastRun = nil
		}
	}
	if out.Pending, out.Failed, err = es.OutboxCounts(ctx, app); err != nil {
		return nil, err
	}
	return out, nil
}

// externalConfigRequest is the body of PUT /api/v1/admin/external/config.
type externalConfigRequest struct {
	external.Config
	Enabled  *bool  `json:"enabled"`
	Interval string `json:"interval"`
}

func (s *Server) handleAdminExternalConfig(w http.ResponseWriter, r *http.Request) {
	var req externalConfigRequest
	if err := s.readJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	set := ExternalSettings{Config: req.Config, Enabled: req.Enabled == nil || *req.Enabled}
	if req.Interval != "" {
		d, err := time.ParseDuration(req.Interval)
		if err != nil {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "interval %q is not a duration", req.Interval))
			return
		}
		set.Interval = d
	}
	v, err := SetExternalConfig(r.Context(), s.store, claimsOf(r).App, set, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, v)
}

func (s *Server) handleAdminExternalSync(w http.ResponseWriter, r *http.Request) {
	sum, err := s.RunExternalSync(r.Context(), claimsOf(r).App, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, sum)
}

func (s *Server) handleAdminExternalStatus(w http.ResponseWriter, r *http.Request) {
	st, err := ExternalStatusOf(r.Context(), s.store, claimsOf(r).App, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, st)
}

// AdminExternalFailures answers GET /api/v1/admin/external/failures
// [?limit=N]: the outbox rows that failed for good, with the reason.
type AdminExternalFailures struct {
	Failures []*dc.OutboxItem `json:"failures"`
}

func (s *Server) handleAdminExternalFailures(w http.ResponseWriter, r *http.Request) {
	es, err := s.externalStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := 1000
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit <= 0 {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "limit must be a positive integer"))
			return
		}
	}
	items, err := es.OutboxItems(r.Context(), claimsOf(r).App, dc.OutboxFailed, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if items == nil {
		items = []*dc.OutboxItem{}
	}
	s.writeJSON(w, r, &AdminExternalFailures{Failures: items})
}

// AdminExternalRetry answers POST /api/v1/admin/external/retry (body
// optional: {"guids": [...]} to retry only those): how many failed rows
// are due again.
type AdminExternalRetry struct {
	Retried int `json:"retried"`
}

func (s *Server) handleAdminExternalRetry(w http.ResponseWriter, r *http.Request) {
	es, err := s.externalStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req struct {
		GUIDs []string `json:"guids"`
	}
	if r.ContentLength != 0 {
		if err := s.readJSON(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	n, err := es.RetryOutbox(r.Context(), claimsOf(r).App, s.now(), req.GUIDs...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, &AdminExternalRetry{Retried: n})
}

// RunExternalLoop syncs every configured, enabled app every interval (or
// at its own interval when it has one) until ctx ends; a run of an app
// under way on another server is skipped. It returns when ctx ends and
// its runs have stopped.
func (s *Server) RunExternalLoop(ctx context.Context, interval time.Duration) {
	es, err := s.externalStore()
	if err != nil || interval <= 0 {
		return
	}
	last := map[string]time.Time{}
	t := time.NewTicker(min(interval, 5*time.Second))
	defer t.Stop()
	for {
		cfgs, err := es.ExternalConfigs(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("external sync loop", "err", err)
		}
		for _, c := range cfgs {
			if ctx.Err() != nil {
				return
			}
			every := interval
			if c.Interval > 0 {
				every = c.Interval
			}
			if !c.Enabled || time.Since(last[c.AppID]) < every {
				continue
			}
			last[c.AppID] = time.Now()
			if _, err := s.RunExternalSync(ctx, c.AppID, nil); err != nil && ctx.Err() == nil {
				s.log.Info("external sync skipped", "app", c.AppID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// readJSON decodes a JSON request body into v.
func (s *Server) readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return dc.Errorf(ETOOLARGE, "read body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return dc.Errorf(dc.EINVALID, "the body is not the expected JSON: %v", err)
	}
	return nil
}
