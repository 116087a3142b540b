//go:build !js

package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func open(t *testing.T) *pgx.Conn {
	c, err := pgx.Connect(ctx, pgtest.DSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func TestFreshDatabases(t *testing.T) {
	a, b := open(t), open(t)
	_, err := a.Exec(ctx, "CREATE TABLE t (x int)")
	require.NoError(t, err)
	var n int
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n))
	assert.Zero(t, n, "each DSN is a database of its own")
	var fsync, commit string
	require.NoError(t, a.QueryRow(ctx, "SHOW fsync").Scan(&fsync))
	require.NoError(t, a.QueryRow(ctx, "SHOW synchronous_commit").Scan(&commit))
	assert.Equal(t, "on", fsync)
	assert.Equal(t, "on", commit)
}
