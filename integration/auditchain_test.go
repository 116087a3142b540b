//go:build !js

package integration

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/server/sqlstore"
)

// TestAuditChainEndToEnd: two devices record and sync through the real
// server, in small pages; the server's audit chain is intact, and each
// device's audit head is the hash of the server's last entry.
func TestAuditChainEndToEnd(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		r := rand.New(rand.NewPCG(7, 11))
		a, b := e.device("app1"), e.device("app1")
		for range 4 {
			for _, d := range []*device{a, b} {
				recordRandom(t, d, r, 6)
				_, err := d.Sync(ctx, d.tr, client.SyncOptions{PageSize: 5})
				require.NoError(t, err)
			}
		}
		for _, d := range []*device{a, b} {
			_, err := d.Sync(ctx, d.tr, client.SyncOptions{PageSize: 5})
			require.NoError(t, err)
		}
		s := e.store.(*sqlstore.Store)
		n, broken, err := s.VerifyAudit(ctx, "app1")
		require.NoError(t, err)
		require.Nil(t, broken)
		_, audit, _, err := s.Pull(ctx, "app1", 0, 1<<20)
		require.NoError(t, err)
		require.Len(t, audit, n)
		require.NotZero(t, n)
		last := audit[len(audit)-1].Hash
		require.Len(t, last, 64)
		for _, d := range []*device{a, b} {
			head, err := d.AuditHead(ctx)
			require.NoError(t, err)
			assert.Equal(t, last, head)
		}
	})
}
