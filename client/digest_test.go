package client_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/store"
)

// digestServer is an in-memory sync server that keeps the digest of its
// events, as the real one does, and counts the roots asked for.
type digestServer struct {
	mu     sync.Mutex
	events []*dc.Event
	byGUID map[string]int64
	roots  []core.Root // roots[k]: after event k
	asked  int
}

func newDigestServer() *digestServer {
	return &digestServer{byGUID: map[string]int64{}, roots: []core.Root{core.ZeroRoot}}
}

func (s *digestServer) Push(_ context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &dc.PushResponse{}
	for _, e := range req.Events {
		if seq, ok := s.byGUID[e.GUID]; ok {
			resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushDuplicate, Seq: seq})
			continue
		}
		ev := e.Clone()
		ev.Seq, ev.SyncLevel, ev.LSeq, ev.UserID = int64(len(s.events)+1), dc.Synced, 0, "server-stamped"
		s.events = append(s.events, ev)
		s.byGUID[ev.GUID] = ev.Seq
		s.roots = append(s.roots, core.Chain(s.roots[len(s.roots)-1], ev))
		resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushAccepted, Seq: ev.Seq})
	}
	return resp, nil
}

func (s *digestServer) Pull(_ context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &dc.PullResponse{NextCursor: q.Since}
	for _, e := range s.events[min(int(q.Since), len(s.events)):] {
		if len(resp.Events) == q.Limit {
			resp.HasMore = true
			break
		}
		resp.Events = append(resp.Events, e.Clone())
		resp.NextCursor = e.Seq
	}
	return resp, nil
}

func (s *digestServer) Plan(_ context.Context, since int64) (*dc.PlanResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &dc.PlanResponse{Pull: max(len(s.events)-int(since), 0), Cursor: since}, nil
}

func (s *digestServer) Report(context.Context, *dc.DeviceReport) error { return nil }

func (s *digestServer) Root(_ context.Context, seq int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	if seq < 0 || seq >= int64(len(s.roots)) {
		return "", dc.Errorf(dc.ENOTFOUND, "no event %d", seq)
	}
	return core.RootHex(s.roots[seq]), nil
}

func (s *digestServer) root(seq int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return core.RootHex(s.roots[seq])
}

func (s *digestServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.asked
	s.asked = 0
	return n
}

// dropping is a transport that loses one event from the pages it pulls:
// its device ends up without that confirmed event.
type dropping struct {
	client.Transport
	seq int64
}

func (d dropping) Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	page, err := d.Transport.Pull(ctx, q)
	if err != nil {
		return nil, err
	}
	kept := page.Events[:0]
	for _, ev := range page.Events {
		if ev.Seq != d.seq {
			kept = append(kept, ev)
		}
	}
	page.Events = kept
	return page, nil
}

var bg = context.Background()

// opener opens an empty store for a device.
type opener func(t *testing.T) dc.Store

func memory(*testing.T) dc.Store { return store.NewMemory() }

func newDevice(t *testing.T, open opener) *client.Client {
	return client.New(open(t), client.Options{UserID: "u1"})
}

// TestVerify runs the verification scenarios over the memory store (and
// digest_js_test.go over IndexedDB).
func TestVerify(t *testing.T) { runVerify(t, memory) }

func runVerify(t *testing.T, open opener) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, opener)
	}{
		{"Matches", testVerifyMatches},
		{"RepairsTamperedEvent", testVerifyRepairsTamperedEvent},
		{"RepairsSkippedEvent", testVerifyRepairsSkippedEvent},
		{"RebuildsTheRoot", testVerifyRebuildsTheRoot},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

func syncDevice(t *testing.T, c *client.Client, tr client.Transport) {
	t.Helper()
	_, err := c.Sync(bg, tr, client.SyncOptions{PageSize: 37})
	require.NoError(t, err)
}

// record submits n random forms: individuals, households, updates and
// deletes of existing entities.
func record(t *testing.T, c *client.Client, r *rand.Rand, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		ents, err := c.ListEntities(bg, client.EntityFilter{})
		require.NoError(t, err)
		var f client.Form
		switch k := r.IntN(10); {
		case k < 3 || len(ents) == 0:
			f = client.Form{Type: "create-individual", Data: map[string]any{"name": fmt.Sprintf("P%d", r.IntN(1000)), "age": float64(r.IntN(90))}}
		case k < 4:
			f = client.Form{Type: "create-group", Data: map[string]any{"name": "HH", "members": []any{
				map[string]any{"name": "A"}, map[string]any{"name": "B"}}}}
		case k < 9:
			e := ents[r.IntN(len(ents))]
			f = client.Form{Type: "update-" + string(e.Type), EntityGUID: e.GUID,
				Data: map[string]any{"v": float64(r.IntN(100)), fmt.Sprintf("f%d", r.IntN(5)): "x"}}
		default:
			f = client.Form{Type: "delete-entity", EntityGUID: ents[r.IntN(len(ents))].GUID}
		}
		_, err = c.SubmitForm(bg, f)
		require.NoError(t, err)
	}
}

// records returns a device's entity records by guid, without revisions.
func records(t *testing.T, c *client.Client) map[string]*dc.EntityRecord {
	t.Helper()
	recs, err := c.Store().ListEntities(bg, dc.EntityQuery{})
	require.NoError(t, err)
	out := map[string]*dc.EntityRecord{}
	for _, r := range recs {
		r.Rev = 0
		out[r.GUID] = r
	}
	return out
}

func verify(t *testing.T, c *client.Client, tr client.RootTransport) *client.Verification {
	t.Helper()
	v, err := c.Verify(bg, tr)
	require.NoError(t, err)
	return v
}

// twoDevices returns a server and two devices that recorded and synced
// random events.
func twoDevices(t *testing.T, open opener, n int) (*digestServer, *client.Client, *client.Client) {
	srv := newDigestServer()
	a, b := newDevice(t, open), newDevice(t, open)
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 3; round++ {
		record(t, a, r, n/6)
		syncDevice(t, a, srv)
		syncDevice(t, b, srv)
		record(t, b, r, n/6)
		syncDevice(t, b, srv)
		syncDevice(t, a, srv)
	}
	syncDevice(t, b, srv)
	return srv, a, b
}

func testVerifyMatches(t *testing.T, open opener) {
	srv := newDigestServer()
	fresh := newDevice(t, open)
	v := verify(t, fresh, srv)
	assert.Equal(t, &client.Verification{Match: true, LocalRoot: core.RootHex(core.ZeroRoot), ServerRoot: core.RootHex(core.ZeroRoot)}, v)

	srv, a, b := twoDevices(t, open, 120)
	for _, c := range []*client.Client{a, b} {
		v := verify(t, c, srv)
		assert.True(t, v.Match)
		assert.False(t, v.Repaired)
		assert.Equal(t, int64(len(srv.events)), v.Cursor)
		assert.Equal(t, srv.root(v.Cursor), v.LocalRoot)
		assert.Equal(t, v.LocalRoot, v.ServerRoot)
	}
	assert.Equal(t, 2, srv.requests(), "one request per verification")
	assert.Equal(t, records(t, a), records(t, b))
}

// testVerifyRepairsTamperedEvent: a device whose stored confirmed event
// (and the entity it built) were changed is detected, repaired from the
// server's copy, and ends equal to a fresh device.
func testVerifyRepairsTamperedEvent(t *testing.T, open opener) {
	srv, _, b := twoDevices(t, open, 120)
	evs, err := b.ListEvents(bg, dc.EventQuery{Confirmed: true})
	require.NoError(t, err)
	var victim *dc.Event
	for _, ev := range evs[len(evs)/3:] {
		if ev.Type == "update-individual" {
			victim = ev
			break
		}
	}
	require.NotNil(t, victim)
	bad := victim.Clone()
	bad.Data = map[string]any{"v": -1.0}
	rec, err := b.EntityRecord(bg, victim.EntityGUID)
	require.NoError(t, err)
	rec.Confirmed.Data["v"], rec.Current.Data["v"] = -1.0, -1.0
	require.NoError(t, b.Store().Commit(bg, &dc.Batch{UpdatedEvents: []*dc.Event{bad},
		Entities: []dc.EntityWrite{{Record: rec, ExpectRev: rec.Rev}}}))

	v := verify(t, b, srv)
	assert.True(t, v.Match)
	assert.True(t, v.Repaired)
	assert.Equal(t, victim.Seq, v.DivergedAt)
	assert.Equal(t, int(v.Cursor-victim.Seq+1), v.Refetched)
	assert.Equal(t, srv.root(v.Cursor), v.LocalRoot)
	assert.LessOrEqual(t, srv.requests(), 2+bitLen(v.Cursor), "a binary search: O(log n) requests")

	got, err := b.Store().Events(bg, []string{victim.GUID})
	require.NoError(t, err)
	assert.Equal(t, victim.Data, got[victim.GUID].Data, "the server's copy is back")
	fresh := newDevice(t, open)
	syncDevice(t, fresh, srv)
	assert.Equal(t, records(t, fresh), records(t, b))
	assert.True(t, verify(t, b, srv).Match)
}

// testVerifyRepairsSkippedEvent: a device that never stored one confirmed
// event (its cursor moved past it) is detected and repaired; its pending
// edit of the entity is rebased on the repaired state.
func testVerifyRepairsSkippedEvent(t *testing.T, open opener) {
	srv, a, _ := twoDevices(t, open, 60)
	// A last update on an individual, skipped by device c.
	ents, err := a.ListEntities(bg, client.EntityFilter{Type: dc.Individual})
	require.NoError(t, err)
	target := ents[0]
	_, err = a.SubmitForm(bg, client.Form{Type: "update-individual", EntityGUID: target.GUID, Data: map[string]any{"skipped": "yes"}})
	require.NoError(t, err)
	syncDevice(t, a, srv)
	record(t, a, rand.New(rand.NewPCG(3, 4)), 10)
	syncDevice(t, a, srv)
	var skipped int64
	for _, ev := range srv.events {
		if ev.Data["skipped"] == "yes" {
			skipped = ev.Seq
		}
	}
	require.NotZero(t, skipped)

	c := newDevice(t, open)
	syncDevice(t, c, dropping{Transport: srv, seq: skipped})
	cursor, err := c.Cursor(bg)
	require.NoError(t, err)
	require.Equal(t, int64(len(srv.events)), cursor)
	ent, err := c.Entity(bg, target.GUID)
	require.NoError(t, err)
	require.NotContains(t, ent.Data, "skipped")
	pending, err := c.SubmitForm(bg, client.Form{Type: "update-individual", EntityGUID: target.GUID, Data: map[string]any{"mine": 1}})
	require.NoError(t, err)

	v := verify(t, c, srv)
	assert.True(t, v.Match)
	assert.True(t, v.Repaired)
	assert.Equal(t, skipped, v.DivergedAt)
	assert.Equal(t, int(cursor-skipped+1), v.Refetched)
	assert.Equal(t, srv.root(cursor), v.LocalRoot)

	rec, err := c.EntityRecord(bg, target.GUID)
	require.NoError(t, err)
	assert.Equal(t, "yes", rec.Confirmed.Data["skipped"])
	assert.Equal(t, "yes", rec.Current.Data["skipped"], "the pending edit is rebased on the repaired state")
	assert.Equal(t, 1.0, rec.Current.Data["mine"])
	assert.Equal(t, []string{pending.GUID}, rec.Pending)

	syncDevice(t, c, srv) // pushes the pending edit
	syncDevice(t, a, srv)
	assert.Equal(t, records(t, a), records(t, c))
	assert.True(t, verify(t, c, srv).Match)
	assert.True(t, verify(t, a, srv).Match)
}

// testVerifyRebuildsTheRoot: a device without a stored root (one that
// pulled before digests existed) gets it from its events, which match.
func testVerifyRebuildsTheRoot(t *testing.T, open opener) {
	srv, a, _ := twoDevices(t, open, 30)
	require.NoError(t, a.Store().Commit(bg, &dc.Batch{Meta: map[string][]byte{"sync.root": nil}}))
	v := verify(t, a, srv)
	assert.True(t, v.Match)
	assert.True(t, v.Repaired)
	assert.Zero(t, v.DivergedAt)
	assert.Zero(t, v.Refetched)
	// Pulls keep it up to date again.
	record(t, a, rand.New(rand.NewPCG(5, 6)), 5)
	syncDevice(t, a, srv)
	v = verify(t, a, srv)
	assert.True(t, v.Match)
	assert.False(t, v.Repaired)
}

func bitLen(n int64) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}
