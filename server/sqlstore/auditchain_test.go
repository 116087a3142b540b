//go:build !js

package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server/storetest"
)

// auditStores runs fn on SQLite and PostgreSQL with a function that opens
// a new handle on one database.
func auditStores(t *testing.T, fn func(t *testing.T, open func() *Store)) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "audit.db")
		fn(t, func() *Store {
			s, err := OpenSQLite(ctx, path)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		fn(t, func() *Store {
			s, err := OpenPostgres(ctx, dsn)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// pushAudited pushes n events of app, each with two audit entries, the
// events' guids prefixed by prefix.
func pushAudited(t *testing.T, s *Store, app, prefix string, n int) {
	t.Helper()
	require.NoError(t, s.Push(context.Background(), app, func(tx dc.PushTx) error {
		for i := range n {
			ev := storetest.Event(fmt.Sprintf("%s-e%d", prefix, i), "p"+prefix, map[string]any{"i": float64(i)})
			if err := tx.Append(ev); err != nil {
				return err
			}
			for _, k := range []string{"a", "b"} {
				if err := tx.AppendAudit(ev.Seq, storetest.Audit(fmt.Sprintf("%s-%s%d", prefix, k, i), ev)); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// auditRows returns app's audit rows (id, seq, guid) in the chain's order.
func auditRows(t *testing.T, s *Store, app string) (ids, seqs []int64, guids []string) {
	t.Helper()
	r, err := s.db.query(context.Background(), `SELECT id, seq, guid FROM audit WHERE app_id = $1 ORDER BY seq, id`, app)
	require.NoError(t, err)
	defer r.Close()
	for r.Next() {
		var id, seq int64
		var g string
		require.NoError(t, r.Scan(&id, &seq, &g))
		ids, seqs, guids = append(ids, id), append(seqs, seq), append(guids, g)
	}
	require.NoError(t, r.Err())
	return ids, seqs, guids
}

// checkAuditChain asserts that app's audit chain is intact with want
// entries, and that the entries pulled carry the chain's hashes.
func checkAuditChain(t *testing.T, s *Store, app string, want int) {
	t.Helper()
	ctx := context.Background()
	n, broken, err := s.VerifyAudit(ctx, app)
	require.NoError(t, err)
	require.Nil(t, broken)
	require.Equal(t, want, n)
	evs, audit, _, err := s.Pull(ctx, app, 0, 1<<20)
	require.NoError(t, err)
	seqs := map[string]int64{}
	for _, ev := range evs {
		seqs[ev.GUID] = ev.Seq
	}
	require.Len(t, audit, want)
	prev := ""
	for _, a := range audit {
		prev = core.AuditHash(prev, a, seqs[a.EventGUID])
		require.Equal(t, prev, a.Hash, "pulled entry %s", a.GUID)
	}
}

func TestAuditChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	auditStores(t, func(t *testing.T, open func() *Store) {
		s := open()
		_, _, err := s.VerifyAudit(ctx, "nope")
		assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
		pushAudited(t, s, "app1", "x", 3)
		pushAudited(t, s, "app2", "y", 2)
		pushAudited(t, s, "app1", "z", 4)
		// A push without audit entries keeps the head.
		require.NoError(t, s.Push(ctx, "app1", func(tx dc.PushTx) error {
			return tx.Append(storetest.Event("plain", "p1", nil))
		}))
		// A failed push leaves no trace in the chain.
		require.Error(t, s.Push(ctx, "app1", func(tx dc.PushTx) error {
			ev := storetest.Event("failed", "p1", nil)
			require.NoError(t, tx.Append(ev))
			require.NoError(t, tx.AppendAudit(ev.Seq, storetest.Audit("failed-a", ev)))
			return dc.Errorf(dc.EINVALID, "no")
		}))
		pushAudited(t, s, "app1", "w", 1)
		checkAuditChain(t, s, "app1", 16)
		checkAuditChain(t, s, "app2", 4)
	})
}

func TestAuditChainConcurrentPushes(t *testing.T) {
	t.Parallel()
	auditStores(t, func(t *testing.T, open func() *Store) {
		a, b := open(), open()
		const workers, pushes = 3, 6
		var wg sync.WaitGroup
		for h, s := range []*Store{a, b} {
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for p := range pushes {
						pushAudited(t, s, "app1", fmt.Sprintf("h%d-w%d-p%d", h, w, p), 3)
					}
				}()
			}
		}
		wg.Wait()
		checkAuditChain(t, a, "app1", 2*workers*pushes*3*2)
		checkAuditChain(t, b, "app1", 2*workers*pushes*3*2)
	})
}

// TestAuditChainTampered: an entry altered (payload, hash column, seq)
// is named; a row deleted breaks the next entry; the last row deleted
// breaks the head.
func TestAuditChainTampered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	auditStores(t, func(t *testing.T, open func() *Store) {
		s := open()
		pushAudited(t, s, "app1", "x", 3)
		pushAudited(t, s, "app2", "y", 3)
		ids, seqs, guids := auditRows(t, s, "app1")
		require.Len(t, ids, 6)
		verify := func() (int, *BrokenLink) {
			t.Helper()
			n, broken, err := s.VerifyAudit(ctx, "app1")
			require.NoError(t, err)
			require.NotNil(t, broken)
			return n, broken
		}
		exec := func(q string, args ...any) {
			t.Helper()
			_, err := s.db.exec(ctx, q, args...)
			require.NoError(t, err)
		}
		var payload []byte
		var hash string
		require.NoError(t, s.db.queryRow(ctx, `SELECT payload, hash FROM audit WHERE id = $1`, ids[2]).Scan(&payload, &hash))
		payload = append([]byte(nil), payload...)

		// The payload altered: its user changed.
		a, err := decodeAudit(ids[2], payload)
		require.NoError(t, err)
		a.UserID = "mallory"
		forged, err := encodeAudit(a)
		require.NoError(t, err)
		exec(`UPDATE audit SET payload = $2 WHERE id = $1`, ids[2], forged)
		n, broken := verify()
		assert.Equal(t, 2, n)
		assert.Equal(t, &BrokenLink{Seq: seqs[2], ID: ids[2], GUID: guids[2], Want: broken.Want, Got: hash}, broken)
		assert.NotEqual(t, hash, broken.Want)
		exec(`UPDATE audit SET payload = $2 WHERE id = $1`, ids[2], payload)
		checkAuditChain(t, s, "app1", 6)

		// The hash column altered.
		exec(`UPDATE audit SET hash = $2 WHERE id = $1`, ids[4], "00")
		_, broken = verify()
		assert.Equal(t, ids[4], broken.ID)
		assert.Equal(t, "00", broken.Got)
		exec(`UPDATE audit SET hash = $2 WHERE id = $1`, ids[4], broken.Want)
		checkAuditChain(t, s, "app1", 6)

		// The payload's hash altered alone: devices would see it.
		var p1 []byte
		require.NoError(t, s.db.queryRow(ctx, `SELECT payload FROM audit WHERE id = $1`, ids[1]).Scan(&p1))
		a, err = decodeAudit(ids[1], p1)
		require.NoError(t, err)
		good := a.Hash
		a.Hash = "ff"
		forged, err = encodeAudit(a)
		require.NoError(t, err)
		exec(`UPDATE audit SET payload = $2 WHERE id = $1`, ids[1], forged)
		_, broken = verify()
		assert.Equal(t, &BrokenLink{Seq: seqs[1], ID: ids[1], GUID: guids[1], Want: good, Got: "ff"}, broken)
		a.Hash = good
		forged, err = encodeAudit(a)
		require.NoError(t, err)
		exec(`UPDATE audit SET payload = $2 WHERE id = $1`, ids[1], forged)
		checkAuditChain(t, s, "app1", 6)

		// A row deleted: the next one is named.
		exec(`DELETE FROM audit WHERE id = $1`, ids[3])
		n, broken = verify()
		assert.Equal(t, 3, n)
		assert.Equal(t, ids[4], broken.ID)
		assert.Equal(t, guids[4], broken.GUID)
		assert.Equal(t, seqs[4], broken.Seq)

		// The last row deleted: the head no longer matches.
		pushAudited(t, s, "app3", "z", 2)
		zids, _, _ := auditRows(t, s, "app3")
		exec(`DELETE FROM audit WHERE id = $1`, zids[len(zids)-1])
		n, broken, err = s.VerifyAudit(ctx, "app3")
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		require.NotNil(t, broken)
		assert.Zero(t, broken.ID)

		// Other apps are untouched.
		checkAuditChain(t, s, "app2", 6)
	})
}

// TestUpgradeChainsAudit opens a database of schema version 4 holding
// audit entries (more than a backfill page in one app, several per seq)
// and checks that the upgrade chains them, and that pushes continue the
// chains.
func TestUpgradeChainsAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const version = 5
	for name, mk := range map[string]func(t *testing.T) (backend, dialect, string){
		"sqlite": func(t *testing.T) (backend, dialect, string) {
			path := filepath.Join(t.TempDir(), "v4.db")
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
			for _, m := range migrations[:version-1] {
				stmts = append(stmts, m...)
			}
			stmts = append(stmts, `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
				fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, version-1))
			for _, stmt := range stmts {
				_, err := tx.exec(ctx, d.types.Replace(stmt))
				require.NoError(t, err, stmt)
			}
			counts := map[string]int{"app1": backfillPage/2 + 3, "app2": 2, "app3": 0}
			for app, n := range counts {
				_, err := tx.exec(ctx, `INSERT INTO apps (id, seq) VALUES ($1, $2)`, app, int64(n))
				require.NoError(t, err)
				for i := 1; i <= n; i++ {
					ev := storetest.Event(fmt.Sprintf("%s-e%d", app, i), "p1", map[string]any{"n": float64(i)})
					ev.Seq = int64(i)
					p, err := encodeEvent(ev)
					require.NoError(t, err)
					_, err = tx.exec(ctx, qAppendEvent, app, ev.Seq, ev.GUID, ev.EntityGUID, ev.Type, p)
					require.NoError(t, err)
					for _, k := range []string{"a", "b"} {
						a := storetest.Audit(fmt.Sprintf("%s-%s%d", app, k, i), ev)
						p, err := encodeAudit(a)
						require.NoError(t, err)
						_, err = tx.exec(ctx, qAppendAudit, app, ev.Seq, a.GUID, a.EventGUID, a.EntityGUID, p)
						require.NoError(t, err)
					}
				}
			}
			require.NoError(t, tx.commit(ctx))
			require.NoError(t, b.close())

			s, err := Open(ctx, dsn)
			require.NoError(t, err)
			defer s.Close()
			for app, n := range counts {
				checkAuditChain(t, s, app, 2*n)
				pushAudited(t, s, app, "new", 2)
				checkAuditChain(t, s, app, 2*n+4)
			}
		})
	}
}
