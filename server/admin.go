package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire"
)

// The admin API: read-only views of the token's app for its admins, in
// JSON. Every route is authenticated, then refused (EFORBIDDEN) unless the
// user is an admin, by the token and by the store.
const (
	pathAdminDevices     = "/api/v1/admin/devices"
	pathAdminSyncLog     = "/api/v1/admin/sync-log"
	pathAdminDuplicates  = "/api/v1/admin/duplicates"
	pathAdminAuditVerify = "/api/v1/admin/audit/verify"
)

// adminSyncLogPage is the default page of GET /api/v1/admin/sync-log;
// adminSyncLogMax its largest.
const (
	adminSyncLogPage = 100
	adminSyncLogMax  = 1000
)

// duplicateLister is a store that lists an app's potential duplicates
// (server/sqlstore does; see datacollect-server duplicates).
type duplicateLister interface {
	Duplicates(ctx context.Context, app string, limit int) ([][]*dc.Entity, error)
}

// auditVerifier is a store that checks an app's audit chain (server/sqlstore
// does; see datacollect-server audit verify).
type auditVerifier interface {
	VerifyAudit(ctx context.Context, app string) (checked int, broken *dc.BrokenLink, err error)
}

// adminRoute is an admin route: JSON answers (errors too), authenticated,
// admins only.
func (s *Server) adminRoute(h http.HandlerFunc) http.HandlerFunc {
	next := s.authenticated(s.admin(h))
	return func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Accept", wire.JSON)
		next(w, r)
	}
}

// admin, after authenticated, refuses (EFORBIDDEN) a user whose token's
// role is not admin, or who is no longer an admin of the app in the store.
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := claimsOf(r)
		if c.Role != dc.RoleAdmin {
			s.writeError(w, r, dc.Errorf(EFORBIDDEN, "this needs the admin role"))
			return
		}
		u, err := s.store.UserByEmail(r.Context(), c.App, c.Email)
		switch {
		case dc.ErrorCode(err) == dc.ENOTFOUND || (err == nil && u.ID != c.Subject):
			s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the token's user no longer exists"))
			return
		case err != nil:
			s.writeError(w, r, err)
			return
		case u.Role != dc.RoleAdmin:
			s.writeError(w, r, dc.Errorf(EFORBIDDEN, "this needs the admin role"))
			return
		}
		next(w, r)
	}
}

// writeJSON answers 200 with v in JSON.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, dc.Errorf(dc.EINTERNAL, "encode answer: %v", err))
		return
	}
	writeBody(w, r, http.StatusOK, wire.JSON, b)
}

// AdminDevices answers GET /api/v1/admin/devices.
type AdminDevices struct {
	// Devices are the app's devices' last reports, by device ID.
	Devices []*dc.Device `json:"devices"`
}

func (s *Server) handleAdminDevices(w http.ResponseWriter, r *http.Request) {
	ds, err := s.store.Devices(r.Context(), claimsOf(r).App)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ds == nil {
		ds = []*dc.Device{}
	}
	s.writeJSON(w, r, &AdminDevices{Devices: ds})
}

// AdminSyncLog answers GET /api/v1/admin/sync-log?since=N&limit=M[&device=D].
type AdminSyncLog struct {
	// Entries are the app's sync-log entries with ID > since, ascending.
	Entries []*dc.AuditEntry `json:"entries"`
	// Next is the since of the next page; HasMore says whether it has
	// entries.
	Next    int64 `json:"next"`
	HasMore bool  `json:"hasMore"`
}

func (s *Server) handleAdminSyncLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := cursorParam(q, "since")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := adminSyncLogPage
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit <= 0 {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "limit must be a positive integer"))
			return
		}
	}
	limit = min(limit, adminSyncLogMax)
	es, err := s.store.SyncLog(r.Context(), claimsOf(r).App, dc.SyncLogQuery{After: since, Limit: limit + 1, DeviceID: q.Get("device")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := &AdminSyncLog{Entries: es, Next: since}
	if len(es) > limit {
		out.Entries, out.HasMore = es[:limit], true
	}
	if out.Entries == nil {
		out.Entries = []*dc.AuditEntry{}
	}
	if n := len(out.Entries); n > 0 {
		out.Next = out.Entries[n-1].ID
	}
	s.writeJSON(w, r, out)
}

// AdminDuplicates answers GET /api/v1/admin/duplicates[?limit=N].
type AdminDuplicates struct {
	// Groups are the app's potential duplicates, by key (see
	// datacollect-server duplicates).
	Groups []DuplicateGroup `json:"groups"`
}

// DuplicateGroup is live entities sharing a duplicate key.
type DuplicateGroup struct {
	Key      string       `json:"key"`
	Entities []*dc.Entity `json:"entities"`
}

func (s *Server) handleAdminDuplicates(w http.ResponseWriter, r *http.Request) {
	dl, ok := s.store.(duplicateLister)
	if !ok {
		s.writeError(w, r, dc.Errorf(dc.ENOTFOUND, "this server's store does not list duplicates"))
		return
	}
	limit := 0
	if l := r.URL.Query().Get("limit"); l != "" {
		var err error
		if limit, err = strconv.Atoi(l); err != nil || limit < 0 {
			s.writeError(w, r, dc.Errorf(dc.EINVALID, "limit must be a non-negative integer"))
			return
		}
	}
	gs, err := dl.Duplicates(r.Context(), claimsOf(r).App, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := &AdminDuplicates{Groups: make([]DuplicateGroup, 0, len(gs))}
	for _, g := range gs {
		out.Groups = append(out.Groups, DuplicateGroup{Key: g[0].DupKey, Entities: g})
	}
	s.writeJSON(w, r, out)
}

// AdminAuditVerify answers GET /api/v1/admin/audit/verify: the check of
// the app's audit hash chain (see datacollect-server audit verify).
type AdminAuditVerify struct {
	App string `json:"app"`
	// Checked is the number of entries that chain, from the first.
	Checked int  `json:"checked"`
	Intact  bool `json:"intact"`
	// Broken is the first broken link when the chain is not intact.
	Broken *dc.BrokenLink `json:"broken,omitempty"`
}

func (s *Server) handleAdminAuditVerify(w http.ResponseWriter, r *http.Request) {
	av, ok := s.store.(auditVerifier)
	if !ok {
		s.writeError(w, r, dc.Errorf(dc.ENOTFOUND, "this server's store does not verify audit chains"))
		return
	}
	app := claimsOf(r).App
	n, broken, err := av.VerifyAudit(r.Context(), app)
	if err != nil && dc.ErrorCode(err) != dc.ENOTFOUND { // ENOTFOUND: nothing pushed yet, an empty chain
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, &AdminAuditVerify{App: app, Checked: n, Intact: broken == nil, Broken: broken})
}
