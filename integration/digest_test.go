//go:build !js

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
)

// rootStore is the server store's digest (sqlstore.Store has it).
type rootStore interface {
	Root(ctx context.Context, app string, seq int64) ([32]byte, error)
}

// skipping is a transport that loses one event from the pages it pulls,
// so that its device never stores that confirmed event.
type skipping struct {
	client.Transport
	seq int64
}

func (s skipping) Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	page, err := s.Transport.Pull(ctx, q)
	if err != nil {
		return nil, err
	}
	kept := page.Events[:0]
	for _, ev := range page.Events {
		if ev.Seq != s.seq {
			kept = append(kept, ev)
		}
	}
	page.Events = kept
	return page, nil
}

// recordRandom submits n random forms on d: individuals, households with
// members, updates (nested data, numbers, nulls) and deletes.
func recordRandom(t *testing.T, d *device, r *rand.Rand, n int) {
	t.Helper()
	for range n {
		ents, err := d.ListEntities(ctx, client.EntityFilter{})
		require.NoError(t, err)
		var f client.Form
		switch k := r.IntN(20); {
		case k < 6 || len(ents) == 0:
			f = client.Form{Type: "create-individual", Data: map[string]any{"name": fmt.Sprintf("P%d", r.IntN(1e6)),
				"age": r.IntN(90), "tags": []any{"a", r.IntN(3)}}}
		case k < 8:
			f = household(fmt.Sprintf("HH %d", r.IntN(1e6)), "Ana", "Ben")
		case k < 19:
			e := ents[r.IntN(len(ents))]
			data := map[string]any{"v": r.Float64(), "nested": map[string]any{"x": r.IntN(5), "y": nil}}
			if r.IntN(4) == 0 {
				data["age"] = nil
			}
			f = client.Form{Type: "update-" + string(e.Type), EntityGUID: e.GUID, Data: data}
		default:
			f = client.Form{Type: "delete-entity", EntityGUID: ents[r.IntN(len(ents))].GUID}
		}
		d.submit(t, f)
	}
}

func (d *device) verify(t *testing.T) *client.Verification {
	t.Helper()
	v, err := d.Verify(ctx, d.tr)
	require.NoError(t, err)
	return v
}

// serverRoot is the server's root at seq, in hex.
func (e *env) serverRoot(t *testing.T, app string, seq int64) string {
	t.Helper()
	r, err := e.store.(rootStore).Root(ctx, app, seq)
	require.NoError(t, err)
	return core.RootHex(r)
}

// TestVerifyProvesConvergence: two devices sync a few hundred random
// events through the server; both verify: they match, with the server's
// root at their cursor. Then one device's stored event is altered and a
// third device misses an event: verification finds where, repairs both,
// and they end equal to the others.
func TestVerifyProvesConvergence(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, b := e.device("app1"), e.device("app1")
		r := rand.New(rand.NewPCG(11, 12))
		for range 4 {
			recordRandom(t, a, r, 40)
			a.sync(t)
			b.sync(t)
			recordRandom(t, b, r, 40)
			b.sync(t)
			a.sync(t)
		}
		n, err := e.store.CountAfter(ctx, "app1", 0)
		require.NoError(t, err)
		require.Equal(t, 320, n)
		for _, d := range []*device{a, b} {
			v := d.verify(t)
			assert.True(t, v.Match)
			assert.False(t, v.Repaired)
			assert.Equal(t, int64(n), v.Cursor)
			assert.Equal(t, e.serverRoot(t, "app1", v.Cursor), v.LocalRoot)
			assert.Equal(t, v.LocalRoot, v.ServerRoot)
		}
		want := b.entities(t)
		require.Equal(t, want, a.entities(t))

		// A's copy of a confirmed update is altered at rest.
		evs, err := a.ListEvents(ctx, dc.EventQuery{Confirmed: true})
		require.NoError(t, err)
		var victim *dc.Event
		for _, ev := range evs[n/2:] {
			if ev.Type == "update-individual" {
				victim = ev
				break
			}
		}
		require.NotNil(t, victim)
		bad := victim.Clone()
		bad.Data = map[string]any{"v": "tampered"}
		require.NoError(t, a.Store().Commit(ctx, &dc.Batch{UpdatedEvents: []*dc.Event{bad}}))
		v := a.verify(t)
		assert.True(t, v.Repaired, "the mismatch was found")
		assert.Equal(t, victim.Seq, v.DivergedAt)
		assert.Equal(t, int(int64(n)-victim.Seq+1), v.Refetched)
		assert.True(t, v.Match, "and repaired")
		assert.Equal(t, e.serverRoot(t, "app1", int64(n)), v.LocalRoot)
		got, err := a.Store().Events(ctx, []string{victim.GUID})
		require.NoError(t, err)
		assert.Equal(t, victim.Data, got[victim.GUID].Data)
		assert.Equal(t, want, a.entities(t))

		// C never stores one confirmed update: its cursor moved past it.
		var skipped int64
		for _, ev := range evs[:n/2] {
			if ev.Type == "update-individual" {
				skipped = ev.Seq
			}
		}
		require.NotZero(t, skipped)
		c := e.device("app1")
		_, err = c.Sync(ctx, skipping{Transport: c.tr, seq: skipped}, client.SyncOptions{PageSize: 50})
		require.NoError(t, err)
		v = c.verify(t)
		assert.True(t, v.Repaired)
		assert.Equal(t, skipped, v.DivergedAt)
		assert.Equal(t, int(int64(n)-skipped+1), v.Refetched)
		assert.True(t, v.Match)
		assert.Equal(t, want, c.entities(t))

		// Everyone keeps syncing and stays verified.
		recordRandom(t, c, r, 20)
		c.sync(t)
		a.sync(t)
		b.sync(t)
		for _, d := range []*device{a, b, c} {
			v := d.verify(t)
			assert.True(t, v.Match)
			assert.False(t, v.Repaired)
			assert.Equal(t, int64(n+20), v.Cursor)
		}
		assert.Equal(t, a.entities(t), c.entities(t))
	})
}

// TestDigestEndpoint: GET /api/v1/sync/digest?seq=N answers the root after
// N, checks the sync headers and its parameter, and refuses a seq the app
// has not reached.
func TestDigestEndpoint(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		d := e.device("app1")
		d.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Ana"}})
		d.sync(t)
		h := syncHeaders(d.tr.Token())
		status, _, body := e.raw(t, rawReq{method: "GET", path: "/api/v1/sync/digest?seq=1", headers: h})
		require.Equal(t, http.StatusOK, status)
		var resp dc.DigestResponse
		require.NoError(t, json.Unmarshal(body, &resp))
		assert.Equal(t, dc.DigestResponse{Seq: 1, Root: e.serverRoot(t, "app1", 1)}, resp)
		root, err := d.tr.Root(ctx, 1)
		require.NoError(t, err)
		assert.Equal(t, resp.Root, root, "MessagePack says the same")
		root, err = d.tr.Root(ctx, 0)
		require.NoError(t, err)
		assert.Equal(t, core.RootHex(core.ZeroRoot), root)

		for _, c := range []struct {
			path    string
			headers map[string]string
			status  int
			code    string
		}{
			{"/api/v1/sync/digest?seq=2", h, http.StatusNotFound, dc.ENOTFOUND},
			{"/api/v1/sync/digest?seq=-1", h, http.StatusBadRequest, dc.EINVALID},
			{"/api/v1/sync/digest?seq=x", h, http.StatusBadRequest, dc.EINVALID},
			{"/api/v1/sync/digest?seq=1", with(h, "Authorization", ""), http.StatusUnauthorized, dc.EUNAUTHORIZED},
			{"/api/v1/sync/digest?seq=1", with(h, "X-Sync-Version", "2.0.0"), http.StatusUpgradeRequired, dc.EVERSION},
			{"/api/v1/sync/digest?seq=1", with(h, "X-Client-ID", ""), http.StatusBadRequest, dc.EINVALID},
		} {
			status, er, _ := e.raw(t, rawReq{method: "GET", path: c.path, headers: c.headers})
			assert.Equal(t, c.status, status, c.path)
			assert.Equal(t, c.code, er.Code, c.path)
		}
		// Another app's device sees its own (empty) chain.
		other := e.device("app2")
		_, err = other.tr.Root(ctx, 1)
		assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))

		// A server whose store keeps no digest says so.
		newServerOver(e, struct{ dc.ServerStore }{e.store})
		status, er, _ := e.raw(t, rawReq{method: "GET", path: "/api/v1/sync/digest?seq=1", headers: h})
		assert.Equal(t, http.StatusNotImplemented, status)
		assert.Equal(t, dc.EINTERNAL, er.Code)
	})
}
