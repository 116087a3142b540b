//go:build js && wasm

package syncjs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyBeforeAnySync: a device that has pulled nothing holds what the
// server holds at cursor 0 (nothing), without asking it.
func TestVerifyBeforeAnySync(t *testing.T) {
	api := newAPI(t)
	v, err := awaitTest(api.Call("verify"))
	require.True(t, err.IsUndefined(), "verify: %v", err)
	zero := strings.Repeat("0", 64)
	assert.True(t, v.Get("match").Bool())
	assert.Equal(t, 0, v.Get("cursor").Int())
	assert.Equal(t, zero, v.Get("localRoot").String())
	assert.Equal(t, zero, v.Get("serverRoot").String())
	assert.False(t, v.Get("repaired").Bool())
	assert.Equal(t, 0, v.Get("divergedAt").Int())
	assert.Equal(t, 0, v.Get("refetched").Int())
}
