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
	"github.com/datacollect/datacollect/internal/pgtest"
)

// TestUpgradeFromVersion2 opens a database of schema version 2 holding
// entities (more than a backfill page) and checks that the upgrade sets
// their duplicate keys, on both databases.
func TestUpgradeFromVersion2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, mk := range map[string]func(t *testing.T) (backend, dialect, string){
		"sqlite": func(t *testing.T) (backend, dialect, string) {
			path := filepath.Join(t.TempDir(), "v2.db")
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
			stmts := append(append(append([]string(nil), migrations[0]...), migrations[1]...),
				`CREATE TABLE schema_version (version INTEGER NOT NULL)`,
				`INSERT INTO schema_version (version) VALUES (2)`)
			for _, stmt := range stmts {
				_, err := tx.exec(ctx, d.types.Replace(stmt))
				require.NoError(t, err, stmt)
			}
			n := dupBackfillPage + 7
			for i := range n {
				e := &dc.Entity{GUID: fmt.Sprintf("p%05d", i), Type: dc.Individual, Version: 1,
					Data: map[string]any{"nationalId": fmt.Sprintf("ID-%d", i/2)}}
				if i%10 == 9 {
					delete(e.Data, "nationalId")
				}
				p, err := encodeEntity(e)
				require.NoError(t, err)
				app := "app1"
				if i == n-1 {
					app = "app2"
				}
				_, err = tx.exec(ctx, `INSERT INTO entities (app_id, guid, type, external_id, version, payload)
					VALUES ($1, $2, $3, NULL, 1, $4)`, app, e.GUID, string(e.Type), p)
				require.NoError(t, err)
			}
			require.NoError(t, tx.commit(ctx))
			require.NoError(t, b.close())

			s, err := Open(ctx, dsn)
			require.NoError(t, err)
			defer s.Close()
			var keyed int64
			require.NoError(t, s.db.queryRow(ctx, `SELECT COUNT(*) FROM entities WHERE dup_key IS NOT NULL`).Scan(&keyed))
			assert.Equal(t, int64(n-n/10), keyed, "every entity with a nationalId")
			var k string
			require.NoError(t, s.db.queryRow(ctx, `SELECT dup_key FROM entities WHERE guid = 'p01006'`).Scan(&k))
			assert.Equal(t, "individual|id-503", k)
			gs, err := s.Duplicates(ctx, "app1", 0)
			require.NoError(t, err)
			// Pairs (2k, 2k+1) share ID-k, unless one of them is 10j+9
			// (no id); p01006 is app2's.
			assert.Len(t, gs, (n-1)/2-(n-1)/10)
			assert.Equal(t, "p00000", gs[0][0].GUID)
			assert.Equal(t, "p00001", gs[0][1].GUID)
		})
	}
}
