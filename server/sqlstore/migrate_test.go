//go:build !js

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

// TestUpgradeFromVersion1: a database of schema version 1, with data,
// opens at the current version and keeps its data.
func TestUpgradeFromVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := sqliteAtVersion(t, 1, `INSERT INTO apps (id, seq) VALUES ('app1', 7)`)

	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	var v int64
	require.NoError(t, s.db.queryRow(ctx, `SELECT version FROM schema_version`).Scan(&v))
	assert.Equal(t, int64(len(migrations)), v)
	ev := &dc.Event{GUID: "e8", EntityGUID: "p1", Type: "create-individual", Timestamp: "2026-11-25T10:00:00.000Z"}
	require.NoError(t, s.Push(ctx, "app1", func(tx dc.PushTx) error { return tx.Append(ev) }))
	assert.Equal(t, int64(8), ev.Seq, "the app's sequence survives the upgrade")
	a := &dc.AuditEntry{GUID: "l1", Action: dc.AuditPush, DeviceID: "d1", Status: dc.AuditOK}
	require.NoError(t, s.AppendSyncLog(ctx, "app1", a))
	assert.Equal(t, int64(1), a.ID)
	require.NoError(t, s.PutDevice(ctx, &dc.Device{AppID: "app1", DeviceID: "d1"}))
}

// TestUpgradeToSessions: a database of schema version 5 (before
// sessions) keeps its users and gets the session tables.
func TestUpgradeToSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := sqliteAtVersion(t, 5, `INSERT INTO users (app_id, id, email, password_hash, role, created_at)
			VALUES ('app1', 'u1', 'ana@example.org', 'h', 'admin', '2026-11-25T10:00:00Z')`)

	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	var v int64
	require.NoError(t, s.db.queryRow(ctx, `SELECT version FROM schema_version`).Scan(&v))
	assert.Equal(t, int64(len(migrations)), v)
	u, err := s.UserByEmail(ctx, "app1", "ana@example.org")
	require.NoError(t, err)
	assert.Equal(t, "u1", u.ID)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.PutRefreshToken(ctx, &dc.RefreshToken{Hash: "h1", AppID: "app1", UserID: "u1",
		Email: "ana@example.org", Family: "f1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	require.NoError(t, s.RevokeToken(ctx, "j1", now.Add(time.Minute)))
	revoked, err := s.TokenRevoked(ctx, "j2", "f1", now)
	require.NoError(t, err)
	assert.False(t, revoked)
}

// TestUpgradeToExternal: a database of schema version 6 (before external
// sync) keeps its events and gets the external sync tables; the outbox
// scan starts at the first event.
func TestUpgradeToExternal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := sqliteAtVersion(t, 6)

	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	ev := &dc.Event{GUID: "e1", EntityGUID: "p1", Type: "create-individual", Timestamp: "2026-11-25T10:00:00.000Z"}
	require.NoError(t, s.Push(ctx, "app1", func(tx dc.PushTx) error { return tx.Append(ev) }))
	require.NoError(t, s.Close())
	// Reopening an upgraded database migrates nothing.
	s, err = OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	var v int64
	require.NoError(t, s.db.queryRow(ctx, `SELECT version FROM schema_version`).Scan(&v))
	assert.Equal(t, int64(7), v)
	require.NoError(t, s.PutExternalConfig(ctx, &dc.ExternalConfig{AppID: "app1", Adapter: "openspp", Config: []byte(`{}`), Enabled: true}))
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	n, more, err := s.ScanOutbox(ctx, "app1", 10, now, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, more)
	due, err := s.DueOutbox(ctx, "app1", now, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "p1", due[0].EntityGUID)
}

// sqliteAtVersion creates a SQLite database at schema version (the first
// version migrations only), runs extra statements on it, and returns its
// path.
func sqliteAtVersion(t *testing.T, version int, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", version))
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	var stmts []string
	for _, m := range migrations[:version] {
		stmts = append(stmts, m...)
	}
	stmts = append(stmts, `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
		fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, version))
	for _, stmt := range append(stmts, extra...) {
		_, err := db.Exec(sqliteDialect.types.Replace(stmt))
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())
	return path
}
