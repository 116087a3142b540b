//go:build !js

package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// holdingStore holds the first push transaction open (after it appended its
// events) until released: a transaction that commits late.
type holdingStore struct {
	dc.ServerStore
	held    chan struct{} // closed once the first push is inside its transaction
	release chan struct{}
	first   bool
}

func (h *holdingStore) Push(ctx context.Context, app string, fn func(dc.PushTx) error) error {
	hold := !h.first
	h.first = true
	return h.ServerStore.Push(ctx, app, func(tx dc.PushTx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if hold {
			close(h.held)
			<-h.release
		}
		return nil
	})
}

// TestLateCommitIsNeverSkipped: device A's push is still in its
// transaction when device B pushes and device C pulls. C must never see
// B's event without A's (it would then skip A's forever): sequence numbers
// become visible in order.
func TestLateCommitIsNeverSkipped(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		h := &holdingStore{ServerStore: e.store, held: make(chan struct{}), release: make(chan struct{})}
		e.server = newServerOver(e, h)
		// Serve without waiting for the sync log: with A's transaction
		// open, SQLite's single writer would hold the log's writes up.
		e.http.Config.Handler = e.handler
		a, b, c := e.device("app1"), e.device("app1"), e.device("app1")
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"by": "A"}})
		b.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"by": "B"}})

		aDone := make(chan error, 1)
		go func() { _, err := a.Push(ctx, a.tr, client.SyncOptions{}); aDone <- err }()
		<-h.held // A's transaction is open, its event appended but not committed
		bDone := make(chan error, 1)
		go func() { _, err := b.Push(ctx, b.tr, client.SyncOptions{}); bDone <- err }()
		// While A is open, C pulls repeatedly: it sees nothing yet.
		for i := 0; i < 5; i++ {
			res, err := c.Pull(ctx, c.tr, client.SyncOptions{})
			require.NoError(t, err)
			assert.Zero(t, res.Pulled, "nothing is visible while the earlier transaction is open")
			time.Sleep(20 * time.Millisecond)
		}
		close(h.release)
		require.NoError(t, <-aDone)
		require.NoError(t, <-bDone)
		res, err := c.Pull(ctx, c.tr, client.SyncOptions{})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Pulled)
		evs, err := c.ListEvents(ctx, dc.EventQuery{Confirmed: true})
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, "A", evs[0].Data["by"], fmt.Sprint("A's event got the lower sequence number"))
		assert.Equal(t, []int64{1, 2}, []int64{evs[0].Seq, evs[1].Seq})
	})
}
