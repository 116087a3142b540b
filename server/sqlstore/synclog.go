//go:build !js

package sqlstore

import (
	"context"
	"slices"

	dc "github.com/datacollect/datacollect"
)

// AppendSyncLog implements datacollect.ServerStore. Each entry's ID comes
// from the app's row in sync_log_heads, locked and incremented in the
// transaction that inserts the entries: an app's ids are unique, gap-free
// and committed in order, also across server processes on one PostgreSQL
// database, so that a reader that follows them as a cursor never skips an
// entry that commits late. The IDs are set only once the entries are
// committed.
func (s *Store) AppendSyncLog(ctx context.Context, app string, entries ...*dc.AuditEntry) error {
	if err := s.check(); err != nil {
		return err
	}
	if app == "" || len(entries) == 0 || slices.Contains(entries, nil) {
		return dc.Errorf(dc.EINVALID, "append sync log: need an app and entries")
	}
	payloads := make([][]byte, len(entries))
	for i, a := range entries {
		b, err := encodeAudit(a)
		if err != nil {
			return dc.Errorf(dc.EINVALID, "append sync log: encode entry %s: %v", a.GUID, err)
		}
		payloads[i] = b
	}
	t, err := s.db.begin(ctx, true)
	if err != nil {
		return s.err("append sync log: begin", err)
	}
	defer t.rollback()
	ids := make([]int64, len(entries))
	for i, a := range entries {
		if err := t.queryRow(ctx, qNextLogID, app).Scan(&ids[i]); err != nil {
			return s.err("append sync log: next id", err)
		}
		if _, err := t.exec(ctx, qAppendSyncLog, app, ids[i], a.DeviceID, int64(a.Entities), a.Status, payloads[i]); err != nil {
			return s.err("append sync log", err)
		}
	}
	if err := t.commit(ctx); err != nil {
		return s.err("append sync log: commit", err)
	}
	for i, a := range entries {
		a.ID = ids[i]
	}
	return nil
}

// SyncLog implements datacollect.ServerStore. A limit below 1 is EINVALID.
func (s *Store) SyncLog(ctx context.Context, app string, q dc.SyncLogQuery) ([]*dc.AuditEntry, error) {
	return s.syncLog(ctx, app, q, false)
}

// LastSyncLog returns the newest q.Limit sync-log entries of app with
// ID > q.After that q's filters select, ID ascending: the tail that SyncLog
// would reach last. A limit below 1 is EINVALID.
func (s *Store) LastSyncLog(ctx context.Context, app string, q dc.SyncLogQuery) ([]*dc.AuditEntry, error) {
	out, err := s.syncLog(ctx, app, q, true)
	slices.Reverse(out)
	return out, err
}

// syncLog runs the query of q, oldest or newest entries first.
func (s *Store) syncLog(ctx context.Context, app string, q dc.SyncLogQuery, newest bool) ([]*dc.AuditEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, dc.Errorf(dc.EINVALID, "sync log: limit %d is not positive", q.Limit)
	}
	args := []any{app, q.After, int64(q.Limit)}
	if q.DeviceID != "" {
		args = append(args, q.DeviceID)
	}
	query := syncLogQuery(q.DeviceID != "", q.Affecting, newest)
	out, err := records(ctx, s.db, decodeAudit, nil, query, args...)
	if err != nil {
		return nil, s.err("read sync log", err)
	}
	return out, nil
}
