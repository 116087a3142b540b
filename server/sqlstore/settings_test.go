//go:build !js

package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/internal/pgtest"
)

// TestSQLiteSettings: the writer runs in WAL mode with synchronous=FULL,
// and its write transactions take the write lock when they begin.
func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	b := s.db.(*sqliteBackend)
	var mode string
	var sync int
	require.NoError(t, b.w.db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, b.w.db.QueryRow("PRAGMA synchronous").Scan(&sync))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 2, sync, "synchronous=FULL")
	var ro int
	require.NoError(t, b.r.db.QueryRow("PRAGMA query_only").Scan(&ro))
	assert.Equal(t, 1, ro, "the read pool only reads")

	tx, err := b.begin(ctx, true)
	require.NoError(t, err)
	defer tx.rollback()
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Exec("BEGIN IMMEDIATE")
	require.Error(t, err, "an open write transaction holds the write lock (BEGIN IMMEDIATE)")
	assert.Contains(t, strings.ToLower(err.Error()), "locked")
}

// TestPostgresSynchronousCommit: the store commits with synchronous_commit
// on even where the database's default is off.
func TestPostgresSynchronousCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	c, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = c.Exec(ctx, "ALTER DATABASE "+c.Config().Database+" SET synchronous_commit = off")
	require.NoError(t, err)
	require.NoError(t, c.Close(ctx))

	s, err := OpenPostgres(ctx, dsn)
	require.NoError(t, err)
	defer s.Close()
	tx, err := s.db.begin(ctx, true)
	require.NoError(t, err)
	defer tx.rollback()
	var v string
	require.NoError(t, tx.queryRow(ctx, "SHOW synchronous_commit").Scan(&v))
	assert.Equal(t, "on", v)
}
