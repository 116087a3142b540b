//go:build !js

package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/server/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// sqlitePath returns the path of a database file in a directory that does
// not exist yet.
func sqlitePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "data", "datacollect.db")
}

func openSQLite(t testing.TB, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(ctx, path)
	require.NoError(t, err)
	return s
}

func openPostgres(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(ctx, dsn)
	require.NoError(t, err)
	return s
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) dc.ServerStore { return openSQLite(t, sqlitePath(t)) })
}

func TestSQLiteTwoStores(t *testing.T) {
	t.Parallel()
	storetest.RunShared(t, func(t *testing.T) (dc.ServerStore, dc.ServerStore) {
		path := sqlitePath(t)
		return openSQLite(t, path), openSQLite(t, path)
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) dc.ServerStore { return openPostgres(t, pgtest.DSN(t)) })
}

// TestPostgresTwoStores is two server processes on one database: their
// concurrent pushes to one app still get unique, gap-free seqs.
func TestPostgresTwoStores(t *testing.T) {
	t.Parallel()
	storetest.RunShared(t, func(t *testing.T) (dc.ServerStore, dc.ServerStore) {
		dsn := pgtest.DSN(t)
		return openPostgres(t, dsn), openPostgres(t, dsn)
	})
}

func TestOpenPicksTheDatabase(t *testing.T) {
	t.Parallel()
	path := sqlitePath(t)
	for _, dsn := range []string{"sqlite:" + path, path} {
		s, err := sqlstore.Open(ctx, dsn)
		require.NoError(t, err, dsn)
		require.NoError(t, s.Close())
	}
	_, err := os.Stat(path)
	assert.NoError(t, err, "the SQLite file and its directory are created")

	dsn := pgtest.DSN(t)
	for _, dsn := range []string{dsn, strings.Replace(dsn, "postgres://", "postgresql://", 1)} {
		s, err := sqlstore.Open(ctx, dsn)
		require.NoError(t, err, dsn)
		require.NoError(t, s.Close())
	}

	for _, bad := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		_, err := sqlstore.Open(ctx, bad)
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err), "%q: %v", bad, err)
	}
	_, err = sqlstore.OpenPostgres(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=5")
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
}

// TestReopen: the data outlive the store, and reopening migrates nothing.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := sqlitePath(t)
	s := openSQLite(t, path)
	require.NoError(t, s.Push(ctx, "app1", func(tx dc.PushTx) error {
		return tx.Append(storetest.Event("e1", "p1", map[string]any{"v": 1.0}))
	}))
	require.NoError(t, s.Close())
	s = openSQLite(t, path)
	defer s.Close()
	ev := storetest.Event("e2", "p1", nil)
	require.NoError(t, s.Push(ctx, "app1", func(tx dc.PushTx) error { return tx.Append(ev) }))
	assert.Equal(t, int64(2), ev.Seq)
}

// TestNewerSchemaRefused: a server does not open a database that a newer
// one migrated.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := sqlitePath(t)
	require.NoError(t, openSQLite(t, path).Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE schema_version SET version = 99`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = sqlstore.OpenSQLite(ctx, path)
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
	assert.Contains(t, dc.ErrorMessage(err), "99")
}

// TestPostgresAppsDoNotBlockEachOther: a push held open for one app does not
// delay another app's push (in a pool of two connections).
func TestPostgresAppsDoNotBlockEachOther(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	_, err := sqlstore.OpenPostgres(ctx, dsn+"&pool_max_conns=0")
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
	s := openPostgres(t, dsn+"&pool_max_conns=2")
	defer s.Close()
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Push(ctx, "slow", func(tx dc.PushTx) error {
			if err := tx.Append(storetest.Event("s1", "p1", nil)); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = s.Push(ctx, "fast", func(tx dc.PushTx) error { return tx.Append(storetest.Event("f1", "p1", nil)) })
	close(release)
	require.NoError(t, err)
	require.NoError(t, <-done)
}

func TestPostgresConcurrentMigrations(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := sqlstore.OpenPostgres(ctx, dsn)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		assert.NoError(t, <-errs)
	}
}

// TestLastSyncLog: the newest entries that a query selects, oldest first.
func TestLastSyncLog(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) *sqlstore.Store{
		"sqlite":   func(t *testing.T) *sqlstore.Store { return openSQLite(t, sqlitePath(t)) },
		"postgres": func(t *testing.T) *sqlstore.Store { return openPostgres(t, pgtest.DSN(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			defer s.Close()
			for i, dev := range []string{"d1", "d2", "d1", "d2", "d1"} {
				require.NoError(t, s.AppendSyncLog(ctx, "app1", storetest.SyncEntry(fmt.Sprintf("l%d", i+1), dc.AuditPull, dev, i%2, dc.AuditOK)))
			}
			cases := []struct {
				q    dc.SyncLogQuery
				want []int64
			}{
				{dc.SyncLogQuery{Limit: 2}, []int64{4, 5}},
				{dc.SyncLogQuery{Limit: 9}, []int64{1, 2, 3, 4, 5}},
				{dc.SyncLogQuery{After: 4, Limit: 9}, []int64{5}},
				{dc.SyncLogQuery{Limit: 2, DeviceID: "d1"}, []int64{3, 5}},
				{dc.SyncLogQuery{Limit: 9, Affecting: true}, []int64{2, 4}},
				{dc.SyncLogQuery{Limit: 9, DeviceID: "d1", Affecting: true}, nil},
			}
			for _, c := range cases {
				got, err := s.LastSyncLog(ctx, "app1", c.q)
				require.NoError(t, err)
				var ids []int64
				for _, a := range got {
					ids = append(ids, a.ID)
				}
				assert.Equal(t, c.want, ids, "LastSyncLog(%+v)", c.q)
			}
			_, err := s.LastSyncLog(ctx, "app1", dc.SyncLogQuery{})
			assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
		})
	}
}
