//go:build !js

package integration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// A native client whose access token expired refreshes it by itself and
// carries on; after logout nothing works until a new login.
func TestHTTPSyncRefreshesExpiredToken(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		d := e.device("refresh")
		d.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Asha"}})
		assert.Equal(t, 1, d.sync(t).Pushed)
		before := d.tr.Token()

		e.clock.Advance(2 * time.Hour) // past the access token's life, within the refresh token's
		d.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Bo"}})
		assert.Equal(t, 1, d.sync(t).Pushed)
		assert.NotEqual(t, before, d.tr.Token(), "the access token was refreshed")

		require.NoError(t, d.tr.Logout(ctx))
		d.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Cy"}})
		_, err := d.Sync(ctx, d.tr, client.SyncOptions{})
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
	})
}
