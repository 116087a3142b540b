//go:build !js

package sqlstore

import (
	"context"
	"errors"
	"time"

	dc "github.com/datacollect/datacollect"
)

var _ dc.ExternalStore = (*Store)(nil)

// External sync (datacollect.ExternalStore). The outbox scan locks the
// app's external_state row (the upsert below) for its transaction, reads
// the events after the cursor, enqueues their entities and moves the
// cursor: a crash leaves either all of it or none. Sequence numbers
// become visible in order (see Push), so the cursor never skips a late
// commit. The lease is one conditional upsert: of concurrent takers on one
// database exactly one updates the row.
const (
	qPutExtConfig = `INSERT INTO external_configs (app_id, adapter, config, enabled, interval_ms, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (app_id) DO UPDATE SET adapter = excluded.adapter, config = excluded.config,
			enabled = excluded.enabled, interval_ms = excluded.interval_ms, updated_at = excluded.updated_at`
	qExtConfigCols = `SELECT app_id, adapter, config, enabled, interval_ms, updated_at FROM external_configs`
	qExtState      = `SELECT outbox_cursor, pull_cursor, last_run, COALESCE(lease_owner, ''), COALESCE(lease_until, 0)
		FROM external_state WHERE app_id = $1`
	qExtEnsure     = `INSERT INTO external_state (app_id, outbox_cursor, pull_cursor) VALUES ($1, 0, '') ON CONFLICT (app_id) DO NOTHING`
	qExtPullCursor = `UPDATE external_state SET pull_cursor = $2 WHERE app_id = $1`
	qExtLastRun    = `UPDATE external_state SET last_run = $2 WHERE app_id = $1`
	qExtLease      = `INSERT INTO external_state (app_id, outbox_cursor, pull_cursor, lease_owner, lease_until)
		VALUES ($1, 0, '', $2, $3)
		ON CONFLICT (app_id) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
		WHERE external_state.lease_owner IS NULL OR external_state.lease_owner = $2 OR external_state.lease_until <= $4`
	qExtRelease = `UPDATE external_state SET lease_owner = NULL, lease_until = NULL WHERE app_id = $1 AND lease_owner = $2`
	// qExtLockCursor locks the app's state row, creating it, and reads
	// the outbox cursor.
	qExtLockCursor = `INSERT INTO external_state (app_id, outbox_cursor, pull_cursor) VALUES ($1, 0, '')
		ON CONFLICT (app_id) DO UPDATE SET outbox_cursor = external_state.outbox_cursor RETURNING outbox_cursor`
	qExtSetCursor = `UPDATE external_state SET outbox_cursor = $2 WHERE app_id = $1`
	qExtAuditGUID = `SELECT seq, entity_guid FROM audit WHERE app_id = $1 AND seq > $2 AND seq <= $3`
	qExtEnqueue   = `INSERT INTO external_outbox (app_id, entity_guid, status, gen, attempts, next_at, last_code, last_message, updated_at)
		VALUES ($1, $2, 'pending', 1, 0, $3, '', '', $3)
		ON CONFLICT (app_id, entity_guid) DO UPDATE SET status = 'pending', gen = external_outbox.gen + 1,
			attempts = 0, next_at = $3, updated_at = $3`
	qExtOutboxCols = `SELECT o.entity_guid, o.status, o.gen, o.attempts, o.next_at, o.last_code, o.last_message, o.updated_at
		FROM external_outbox o`
	qExtDue = qExtOutboxCols + ` LEFT JOIN entities e ON e.app_id = o.app_id AND e.guid = o.entity_guid
		WHERE o.app_id = $1 AND o.status = 'pending' AND o.next_at <= $2
		ORDER BY CASE WHEN e.type = 'group' THEN 1 ELSE 0 END, o.entity_guid LIMIT $3`
	qExtAck  = `DELETE FROM external_outbox WHERE app_id = $1 AND entity_guid = $2 AND gen = $3`
	qExtFail = `UPDATE external_outbox SET attempts = attempts + 1, last_code = $4, last_message = $5, updated_at = $6,
			status = CASE WHEN gen = $3 THEN $7 ELSE 'pending' END,
			next_at = CASE WHEN gen = $3 THEN $8 ELSE next_at END
		WHERE app_id = $1 AND entity_guid = $2`
	qExtItems    = qExtOutboxCols + ` WHERE o.app_id = $1 ORDER BY o.entity_guid LIMIT $2`
	qExtItemsBy  = qExtOutboxCols + ` WHERE o.app_id = $1 AND o.status = $3 ORDER BY o.entity_guid LIMIT $2`
	qExtCounts   = `SELECT status, COUNT(*) FROM external_outbox WHERE app_id = $1 GROUP BY status`
	qExtEntity   = `SELECT payload FROM entities WHERE app_id = $1 AND external_id = $2 ORDER BY guid LIMIT 1`
	qExtRetryAll = `UPDATE external_outbox SET status = 'pending', next_at = $2, updated_at = $2
		WHERE app_id = $1 AND status = 'failed'`
	qExtRetryOne = `UPDATE external_outbox SET status = 'pending', next_at = $2, updated_at = $2
		WHERE app_id = $1 AND status = 'failed' AND entity_guid = $3`
)

// PutExternalConfig implements datacollect.ExternalStore.
func (s *Store) PutExternalConfig(ctx context.Context, c *dc.ExternalConfig) error {
	if err := s.check(); err != nil {
		return err
	}
	if c == nil || c.AppID == "" || c.Adapter == "" {
		return dc.Errorf(dc.EINVALID, "external config: need an app and an adapter")
	}
	if c.Interval < 0 {
		return dc.Errorf(dc.EINVALID, "external config: negative interval")
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = time.Now()
	}
	enabled := int64(0)
	if c.Enabled {
		enabled = 1
	}
	cfg := c.Config
	if cfg == nil {
		cfg = []byte("{}")
	}
	if _, err := s.db.exec(ctx, qPutExtConfig, c.AppID, c.Adapter, cfg, enabled, c.Interval.Milliseconds(), millis(c.UpdatedAt)); err != nil {
		return s.err("put external config", err)
	}
	return nil
}

func scanExtConfig(r interface{ Scan(...any) error }) (*dc.ExternalConfig, error) {
	c := &dc.ExternalConfig{}
	var enabled, interval, updated int64
	if err := r.Scan(&c.AppID, &c.Adapter, &c.Config, &enabled, &interval, &updated); err != nil {
		return nil, err
	}
	c.Enabled, c.Interval, c.UpdatedAt = enabled != 0, time.Duration(interval)*time.Millisecond, fromMillis(updated)
	return c, nil
}

// ExternalConfig implements datacollect.ExternalStore.
func (s *Store) ExternalConfig(ctx context.Context, app string) (*dc.ExternalConfig, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c, err := scanExtConfig(s.db.queryRow(ctx, qExtConfigCols+` WHERE app_id = $1`, app))
	if errors.Is(err, errNoRows) {
		return nil, dc.Errorf(dc.ENOTFOUND, "app %s has no external sync configuration", app)
	}
	if err != nil {
		return nil, s.err("read external config", err)
	}
	return c, nil
}

// ExternalConfigs implements datacollect.ExternalStore.
func (s *Store) ExternalConfigs(ctx context.Context) ([]*dc.ExternalConfig, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	r, err := s.db.query(ctx, qExtConfigCols+` ORDER BY app_id`)
	if err != nil {
		return nil, s.err("read external configs", err)
	}
	defer r.Close()
	var out []*dc.ExternalConfig
	for r.Next() {
		c, err := scanExtConfig(r)
		if err != nil {
			return nil, s.err("read external configs", err)
		}
		out = append(out, c)
	}
	if err := r.Err(); err != nil {
		return nil, s.err("read external configs", err)
	}
	return out, nil
}

// ExternalState implements datacollect.ExternalStore.
func (s *Store) ExternalState(ctx context.Context, app string) (*dc.ExternalState, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	st := &dc.ExternalState{}
	var until int64
	err := s.db.queryRow(ctx, qExtState, app).Scan(&st.OutboxCursor, &st.PullCursor, &st.LastRun, &st.LeaseOwner, &until)
	if errors.Is(err, errNoRows) {
		return &dc.ExternalState{}, nil
	}
	if err != nil {
		return nil, s.err("read external state", err)
	}
	st.LeaseUntil = fromMillis(until)
	return st, nil
}

// setState runs an update of the app's state row, creating the row first.
func (s *Store) setState(ctx context.Context, op, q string, args ...any) error {
	if err := s.check(); err != nil {
		return err
	}
	t, err := s.db.begin(ctx, true)
	if err != nil {
		return s.err(op, err)
	}
	defer t.rollback()
	if _, err := t.exec(ctx, qExtEnsure, args[0]); err != nil {
		return s.err(op, err)
	}
	if _, err := t.exec(ctx, q, args...); err != nil {
		return s.err(op, err)
	}
	return s.err(op, t.commit(ctx))
}

// SetExternalPullCursor implements datacollect.ExternalStore.
func (s *Store) SetExternalPullCursor(ctx context.Context, app, cursor string) error {
	return s.setState(ctx, "set pull cursor", qExtPullCursor, app, cursor)
}

// SetExternalLastRun implements datacollect.ExternalStore.
func (s *Store) SetExternalLastRun(ctx context.Context, app string, summary []byte) error {
	return s.setState(ctx, "set last run", qExtLastRun, app, summary)
}

// AcquireExternalLease implements datacollect.ExternalStore.
func (s *Store) AcquireExternalLease(ctx context.Context, app, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	if app == "" || owner == "" || ttl <= 0 {
		return false, dc.Errorf(dc.EINVALID, "external lease: need an app, an owner and a positive ttl")
	}
	n, err := s.db.exec(ctx, qExtLease, app, owner, millis(now.Add(ttl)), millis(now))
	if err != nil {
		return false, s.err("take external lease", err)
	}
	return n == 1, nil
}

// ReleaseExternalLease implements datacollect.ExternalStore.
func (s *Store) ReleaseExternalLease(ctx context.Context, app, owner string) error {
	if err := s.check(); err != nil {
		return err
	}
	if _, err := s.db.exec(ctx, qExtRelease, app, owner); err != nil {
		return s.err("release external lease", err)
	}
	return nil
}

// ScanOutbox implements datacollect.ExternalStore.
func (s *Store) ScanOutbox(ctx context.Context, app string, limit int, now time.Time, skip func(*dc.Event) bool) (int, bool, error) {
	if err := s.check(); err != nil {
		return 0, false, err
	}
	if app == "" || limit < 1 {
		return 0, false, dc.Errorf(dc.EINVALID, "scan outbox: need an app and a positive limit")
	}
	t, err := s.db.begin(ctx, true)
	if err != nil {
		return 0, false, s.err("scan outbox: begin", err)
	}
	defer t.rollback()
	var cursor int64
	if err := t.queryRow(ctx, qExtLockCursor, app).Scan(&cursor); err != nil {
		return 0, false, s.err("scan outbox: lock", err)
	}
	evs, err := records(ctx, t, decodeEvent, nil, qPullEvents, app, cursor, int64(limit)+1)
	if err != nil {
		return 0, false, s.err("scan outbox: events", err)
	}
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	if len(evs) == 0 {
		return 0, false, nil
	}
	last := evs[len(evs)-1].Seq
	skipped := map[int64]bool{}
	var queue []string
	seen := map[string]bool{}
	add := func(g string) {
		if g != "" && !seen[g] {
			seen[g] = true
			queue = append(queue, g)
		}
	}
	for _, ev := range evs {
		if skip != nil && skip(ev) {
			skipped[ev.Seq] = true
			continue
		}
		add(ev.EntityGUID)
	}
	r, err := t.query(ctx, qExtAuditGUID, app, cursor, last)
	if err != nil {
		return 0, false, s.err("scan outbox: audit", err)
	}
	for r.Next() {
		var seq int64
		var g string
		if err := r.Scan(&seq, &g); err != nil {
			r.Close()
			return 0, false, s.err("scan outbox: audit", err)
		}
		if !skipped[seq] {
			add(g)
		}
	}
	r.Close()
	if err := r.Err(); err != nil {
		return 0, false, s.err("scan outbox: audit", err)
	}
	ms := millis(now)
	for _, g := range queue {
		if _, err := t.exec(ctx, qExtEnqueue, app, g, ms); err != nil {
			return 0, false, s.err("scan outbox: enqueue", err)
		}
	}
	if _, err := t.exec(ctx, qExtSetCursor, app, last); err != nil {
		return 0, false, s.err("scan outbox: cursor", err)
	}
	if err := t.commit(ctx); err != nil {
		return 0, false, s.err("scan outbox: commit", err)
	}
	return len(evs), more, nil
}

func (s *Store) outboxRows(ctx context.Context, q string, args ...any) ([]*dc.OutboxItem, error) {
	r, err := s.db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []*dc.OutboxItem
	for r.Next() {
		it := &dc.OutboxItem{}
		var attempts, next, updated int64
		if err := r.Scan(&it.EntityGUID, &it.Status, &it.Gen, &attempts, &next, &it.LastCode, &it.LastMessage, &updated); err != nil {
			return nil, err
		}
		it.Attempts, it.NextAttempt, it.UpdatedAt = int(attempts), fromMillis(next), fromMillis(updated)
		out = append(out, it)
	}
	return out, r.Err()
}

// DueOutbox implements datacollect.ExternalStore.
func (s *Store) DueOutbox(ctx context.Context, app string, now time.Time, limit int) ([]*dc.OutboxItem, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, dc.Errorf(dc.EINVALID, "due outbox: limit %d is not positive", limit)
	}
	out, err := s.outboxRows(ctx, qExtDue, app, millis(now), int64(limit))
	return out, s.err("due outbox", err)
}

// AckOutbox implements datacollect.ExternalStore.
func (s *Store) AckOutbox(ctx context.Context, app, guid string, gen int64) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.db.exec(ctx, qExtAck, app, guid, gen)
	return s.err("ack outbox", err)
}

// FailOutbox implements datacollect.ExternalStore.
func (s *Store) FailOutbox(ctx context.Context, app, guid string, gen int64, f dc.OutboxFailure) error {
	if err := s.check(); err != nil {
		return err
	}
	if f.Status != dc.OutboxPending && f.Status != dc.OutboxFailed {
		return dc.Errorf(dc.EINVALID, "fail outbox: status %q is neither pending nor failed", f.Status)
	}
	_, err := s.db.exec(ctx, qExtFail, app, guid, gen, f.Code, f.Message, millis(f.Now), f.Status, millis(f.NextAttempt))
	return s.err("fail outbox", err)
}

// OutboxItems implements datacollect.ExternalStore.
func (s *Store) OutboxItems(ctx context.Context, app, status string, limit int) ([]*dc.OutboxItem, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, dc.Errorf(dc.EINVALID, "outbox items: limit %d is not positive", limit)
	}
	var out []*dc.OutboxItem
	var err error
	if status == "" {
		out, err = s.outboxRows(ctx, qExtItems, app, int64(limit))
	} else {
		out, err = s.outboxRows(ctx, qExtItemsBy, app, int64(limit), status)
	}
	return out, s.err("outbox items", err)
}

// OutboxCounts implements datacollect.ExternalStore.
func (s *Store) OutboxCounts(ctx context.Context, app string) (pending, failed int, err error) {
	if err := s.check(); err != nil {
		return 0, 0, err
	}
	r, err := s.db.query(ctx, qExtCounts, app)
	if err != nil {
		return 0, 0, s.err("outbox counts", err)
	}
	defer r.Close()
	for r.Next() {
		var st string
		var n int64
		if err := r.Scan(&st, &n); err != nil {
			return 0, 0, s.err("outbox counts", err)
		}
		switch st {
		case dc.OutboxPending:
			pending = int(n)
		case dc.OutboxFailed:
			failed = int(n)
		}
	}
	return pending, failed, s.err("outbox counts", r.Err())
}

// RetryOutbox implements datacollect.ExternalStore.
func (s *Store) RetryOutbox(ctx context.Context, app string, now time.Time, guids ...string) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if len(guids) == 0 {
		n, err := s.db.exec(ctx, qExtRetryAll, app, millis(now))
		return int(n), s.err("retry outbox", err)
	}
	t, err := s.db.begin(ctx, true)
	if err != nil {
		return 0, s.err("retry outbox", err)
	}
	defer t.rollback()
	total := 0
	for _, g := range guids {
		n, err := t.exec(ctx, qExtRetryOne, app, millis(now), g)
		if err != nil {
			return 0, s.err("retry outbox", err)
		}
		total += int(n)
	}
	return total, s.err("retry outbox", t.commit(ctx))
}

// EntityByExternalID implements datacollect.ExternalStore.
func (s *Store) EntityByExternalID(ctx context.Context, app, externalID string) (*dc.Entity, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var b []byte
	err := s.db.queryRow(ctx, qExtEntity, app, externalID).Scan(&b)
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.err("read entity by external id", err)
	}
	return decodeEntity(0, b)
}
