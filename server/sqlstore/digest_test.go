//go:build !js

package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/server/storetest"
)

// checkChain asserts that app's roots are the chain of its events, as Pull
// returns them: root(k) = Chain(root(k-1), event k), and that there is no
// root beyond the last event.
func checkChain(t *testing.T, s *sqlstore.Store, app string, want int) {
	t.Helper()
	evs, _, _, err := s.Pull(ctx, app, 0, 1000)
	require.NoError(t, err)
	require.Len(t, evs, want)
	root, err := s.Root(ctx, app, 0)
	require.NoError(t, err)
	require.Equal(t, core.ZeroRoot, root)
	for i, ev := range evs {
		require.Equal(t, int64(i+1), ev.Seq)
		root = core.Chain(root, ev)
		got, err := s.Root(ctx, app, ev.Seq)
		require.NoError(t, err)
		require.Equal(t, core.RootHex(root), core.RootHex(got), "%s: root after %d", app, ev.Seq)
	}
	_, err = s.Root(ctx, app, int64(want+1))
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err), "no root beyond the last event")
}

func stores(t *testing.T, fn func(t *testing.T, open func() *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := sqlitePath(t)
		fn(t, func() *sqlstore.Store { return openSQLite(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		fn(t, func() *sqlstore.Store { return openPostgres(t, dsn) })
	})
}

// TestRoot: every event's root is the chain's after it, per app; a push
// that fails leaves no trace in the chain; Root refuses what does not exist.
func TestRoot(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func() *sqlstore.Store) {
		s := open()
		defer s.Close()
		push := func(app string, evs ...*dc.Event) error {
			return s.Push(ctx, app, func(tx dc.PushTx) error {
				for _, ev := range evs {
					if err := tx.Append(ev); err != nil {
						return err
					}
				}
				return nil
			})
		}
		require.NoError(t, push("app1", storetest.Event("e1", "p1", map[string]any{"name": "Ana"}),
			storetest.Event("e2", "p1", map[string]any{"age": 41.0})))
		require.NoError(t, push("app2", storetest.Event("e1", "p9", map[string]any{"name": "Other app"})))
		// A push that fails midway commits nothing, root included.
		err := s.Push(ctx, "app1", func(tx dc.PushTx) error {
			if err := tx.Append(storetest.Event("gone", "p1", nil)); err != nil {
				return err
			}
			return dc.Errorf(dc.EINVALID, "changed my mind")
		})
		require.Error(t, err)
		// An existing guid is EEXISTS and does not advance the chain.
		err = s.Push(ctx, "app1", func(tx dc.PushTx) error {
			assert.Equal(t, dc.EEXISTS, dc.ErrorCode(tx.Append(storetest.Event("e1", "p1", nil))))
			return tx.Append(storetest.Event("e3", "p2", map[string]any{"name": "Ben"}))
		})
		require.NoError(t, err)

		checkChain(t, s, "app1", 3)
		checkChain(t, s, "app2", 1)
		checkChain(t, s, "nobody", 0)
		_, err = s.Root(ctx, "app1", -1)
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
		r1, err := s.Root(ctx, "app1", 1)
		require.NoError(t, err)
		r2, err := s.Root(ctx, "app2", 1)
		require.NoError(t, err)
		assert.NotEqual(t, r1, r2)

		require.NoError(t, s.Close())
		_, err = s.Root(ctx, "app1", 1)
		assert.Equal(t, dc.ECLOSED, dc.ErrorCode(err))
	})
}

// TestRootConcurrentPushes: two store handles on one database (two server
// processes) push to one app concurrently; the roots still form one chain
// in sequence order.
func TestRootConcurrentPushes(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func() *sqlstore.Store) {
		a, b := open(), open()
		defer a.Close()
		defer b.Close()
		const workers, pushes, each = 4, 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers*pushes)
		for h, s := range []*sqlstore.Store{a, b} {
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for p := range pushes {
						err := s.Push(ctx, "app1", func(tx dc.PushTx) error {
							for i := range each {
								g := fmt.Sprintf("h%d-w%d-p%d-%d", h, w, p, i)
								if err := tx.Append(storetest.Event(g, "p"+g, map[string]any{"n": float64(i)})); err != nil {
									return err
								}
							}
							return nil
						})
						if err != nil {
							errs <- err
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		checkChain(t, a, "app1", 2*workers*pushes*each)
		// Both handles read the same roots.
		for _, seq := range []int64{1, 17, 2 * workers * pushes * each} {
			ra, err := a.Root(ctx, "app1", seq)
			require.NoError(t, err)
			rb, err := b.Root(ctx, "app1", seq)
			require.NoError(t, err)
			assert.Equal(t, ra, rb)
		}
	})
}
