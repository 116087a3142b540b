//go:build !js

package integration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/httpsync"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/wire/envelope"
)

// requireEnvelopes replaces e's server with one that requires envelopes.
func requireEnvelopes(e *env) {
	srv := server.New(e.store, server.Config{MaxBodyBytes: 1 << 20, TokenTTL: time.Hour, Envelope: server.EnvelopeRequired},
		server.Options{Now: e.clock.Now})
	e.server, e.handler = srv, srv.Handler()
}

// TestEnvelopeRequired: against a server that requires envelopes, devices
// (httpsync holding the app key from its login) push and pull sealed data
// and converge; a client without the key can neither push plain data nor
// read the pulled data; a tampered envelope is refused and nothing of its
// push is stored.
func TestEnvelopeRequired(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		requireEnvelopes(e)
		a, b := e.device("sealed"), e.device("sealed")
		a.submit(t, household("HH Mwangi", "Amina", "Juma"))
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Zoë Ñandú 王小明", "age": 34, "tags": []any{"a", "b"}}})
		res := a.sync(t)
		assert.Equal(t, 2, res.Pushed)
		assert.Equal(t, 2, res.Pulled)
		b.sync(t)
		ea := a.entities(t)
		assert.Len(t, ea, 4)
		assert.Equal(t, ea, b.entities(t))
		assert.Equal(t, ea, e.serverEntities(t, "sealed", ea), "the server opened the envelopes and stored the data")

		// A client with a token and no key: its plain push is refused, and
		// the pull it gets is sealed, which it cannot open.
		keyless := &httpsync.Client{BaseURL: e.http.URL, AppID: "sealed", ClientID: "keyless"}
		keyless.SetToken(a.tr.Token())
		before, err := e.store.CountAfter(ctx, "sealed", 0)
		require.NoError(t, err)
		plain := &dc.Event{GUID: "plain-1", EntityGUID: "p-plain", Type: "create-individual", Timestamp: "2026-11-25T08:00:00.000Z",
			SyncLevel: dc.Local, Data: map[string]any{"name": "Plain"}}
		_, err = keyless.Push(ctx, &dc.PushRequest{Events: []*dc.Event{plain}})
		requireCrypto(t, err, "not sealed")
		_, err = keyless.Pull(ctx, dc.PullQuery{Limit: 100})
		requireCrypto(t, err, "holds no app key")

		// A tampered envelope, after a valid one in the same push.
		email, pw := e.user("sealed")
		c := &httpsync.Client{BaseURL: e.http.URL, AppID: "sealed", ClientID: "tamper"}
		login, err := c.Login(ctx, email, pw)
		require.NoError(t, err)
		codec, err := envelope.NewGoCodec("sealed", login.AppKey)
		require.NoError(t, err)
		good := plain.Clone()
		good.GUID, good.EntityGUID = "good-1", "p-good"
		sealed, err := codec.SealEvents(ctx, []*dc.Event{good, plain})
		require.NoError(t, err)
		sealed[1].Sealed[len(sealed[1].Sealed)/2] ^= 0x20
		_, err = c.Push(ctx, &dc.PushRequest{Events: sealed}) // already sealed: sent as they are
		requireCrypto(t, err, "does not authenticate")
		after, err := e.store.CountAfter(ctx, "sealed", 0)
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing of a refused push is stored")
		for _, g := range []string{"p-plain", "p-good"} {
			ent, err := e.store.Entity(ctx, "sealed", g)
			require.NoError(t, err)
			assert.Nil(t, ent)
		}

		// The same client, pushing through its key, succeeds.
		resp, err := c.Push(ctx, &dc.PushRequest{Events: []*dc.Event{good, plain}})
		require.NoError(t, err)
		for _, r := range resp.Results {
			assert.Equal(t, dc.PushAccepted, r.Status, r.Message)
		}
		assert.Equal(t, map[string]any{"name": "Plain"}, plain.Data, "Push does not change the caller's events")
	})
}

// TestEnvelopeOptionalMixed: an optional server takes sealed pushes (a
// device with the key) and plain ones (a device without), and each device
// pulls what it can read.
func TestEnvelopeOptionalMixed(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, b := e.device("mixed"), e.device("mixed")
		require.NoError(t, b.tr.SetAppKey(nil, "")) // b speaks plain
		a.submit(t, household("HH A", "Ana"))
		b.submit(t, household("HH B", "Ben"))
		a.sync(t)
		b.sync(t)
		a.sync(t)
		ea := a.entities(t)
		assert.Len(t, ea, 4)
		assert.Equal(t, ea, b.entities(t))
		assert.Equal(t, ea, e.serverEntities(t, "mixed", ea))
	})
}

func requireCrypto(t *testing.T, err error, msg string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err), "%v", err)
	assert.Contains(t, dc.ErrorMessage(err), msg)
}
