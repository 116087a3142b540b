//go:build !js

package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/pgtest"
)

// TestUpgradeComputesRoots opens a database of the schema version before
// the digest, holding events (more than a backfill page in one app), and
// checks that the upgrade gives every event the root of its app's chain,
// and that pushes continue the chains, on both databases.
func TestUpgradeComputesRoots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, mk := range map[string]func(t *testing.T) (backend, dialect, string){
		"sqlite": func(t *testing.T) (backend, dialect, string) {
			path := filepath.Join(t.TempDir(), "v3.db")
			b, err := openSQLiteBackend(ctx, path)
			require.NoError(t, err)
			return b, sqliteDialect, path
		},
		"postgres": func(t *testing.T) (backend, dialect, string) {
			dsn := pgtest.DSN(t)
			b, err := openPgBackend(ctx, dsn)
			require.NoError(t, err)
			return b, postgresDialect, dsn
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, d, dsn := mk(t)
			tx, err := b.begin(ctx, true)
			require.NoError(t, err)
			var stmts []string
			for _, m := range migrations[:rootsVersion-1] {
				stmts = append(stmts, m...)
			}
			stmts = append(stmts, `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
				fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, rootsVersion-1))
			for _, stmt := range stmts {
				_, err := tx.exec(ctx, d.types.Replace(stmt))
				require.NoError(t, err, stmt)
			}
			counts := map[string]int{"app1": backfillPage + 5, "app2": 3, "app3": 0}
			for app, n := range counts {
				_, err := tx.exec(ctx, `INSERT INTO apps (id, seq) VALUES ($1, $2)`, app, int64(n))
				require.NoError(t, err)
				for i := 1; i <= n; i++ {
					ev := &dc.Event{GUID: fmt.Sprintf("%s-e%d", app, i), EntityGUID: fmt.Sprintf("p%d", i%17),
						Type: "update-individual", UserID: "u1", Timestamp: "2026-11-25T10:00:00.000Z", Seq: int64(i),
						SyncLevel: dc.Synced, Data: map[string]any{"n": float64(i), "app": app}}
					p, err := encodeEvent(ev)
					require.NoError(t, err)
					_, err = tx.exec(ctx, qAppendEvent, app, ev.Seq, ev.GUID, ev.EntityGUID, ev.Type, p)
					require.NoError(t, err)
				}
			}
			require.NoError(t, tx.commit(ctx))
			require.NoError(t, b.close())

			s, err := Open(ctx, dsn)
			require.NoError(t, err)
			defer s.Close()
			for app, n := range counts {
				evs, _, _, err := s.Pull(ctx, app, 0, 2*backfillPage)
				require.NoError(t, err)
				require.Len(t, evs, n)
				root := core.ZeroRoot
				for _, ev := range evs {
					root = core.Chain(root, ev)
					got, err := s.Root(ctx, app, ev.Seq)
					require.NoError(t, err)
					require.Equal(t, root, got, "%s: root after %d", app, ev.Seq)
				}
				// A push continues the chain from the backfilled head.
				ev := &dc.Event{GUID: app + "-new", EntityGUID: "p1", Type: "create-individual",
					Timestamp: "2026-11-25T11:00:00.000Z", Data: map[string]any{"name": "Ana"}}
				require.NoError(t, s.Push(ctx, app, func(tx dc.PushTx) error { return tx.Append(ev) }))
				assert.Equal(t, int64(n+1), ev.Seq)
				pulled, _, _, err := s.Pull(ctx, app, int64(n), 1)
				require.NoError(t, err)
				got, err := s.Root(ctx, app, ev.Seq)
				require.NoError(t, err)
				assert.Equal(t, core.Chain(root, pulled[0]), got, "%s: the chain goes on", app)
			}
		})
	}
}
