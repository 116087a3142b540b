package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/client/clienttest"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/store"
	"github.com/datacollect/datacollect/store/storetest"
)

var dupCtx = context.Background()

func TestDuplicatesOverMemory(t *testing.T) {
	testDuplicates(t, func(t *testing.T) dc.Store { return store.NewMemory() })
}

// testDuplicates runs the duplicate-detection tests against stores made by
// open (in memory here, IndexedDB in dup_js_test.go).
func testDuplicates(t *testing.T, open func(t *testing.T) dc.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) dc.Store)
	}{
		{"TwoDevices", testDupTwoDevices},
		{"ConfiguredKeys", testDupConfiguredKeys},
		{"RekeysOldEntities", testDupRekeysOld},
		{"Limit", testDupLimit},
		{"Conflicted", testDupConflicted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// dupServer is an in-memory sync server: it accepts every event, in order.
type dupServer struct {
	mu     sync.Mutex
	events []*dc.Event
	seen   map[string]int64
}

func (s *dupServer) Push(_ context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]int64{}
	}
	resp := &dc.PushResponse{}
	for _, e := range req.Events {
		if seq, ok := s.seen[e.GUID]; ok {
			resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushDuplicate, Seq: seq})
			continue
		}
		ev := e.Clone()
		ev.Seq, ev.SyncLevel, ev.LSeq = int64(len(s.events)+1), dc.Synced, 0
		s.events = append(s.events, ev)
		s.seen[ev.GUID] = ev.Seq
		resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushAccepted, Seq: ev.Seq})
	}
	return resp, nil
}

func (s *dupServer) Pull(_ context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &dc.PullResponse{NextCursor: q.Since}
	for _, e := range s.events[min(int(q.Since), len(s.events)):] {
		resp.Events = append(resp.Events, e.Clone())
		resp.NextCursor = e.Seq
	}
	return resp, nil
}

func (s *dupServer) Plan(context.Context, int64) (*dc.PlanResponse, error) {
	return &dc.PlanResponse{}, nil
}

func (s *dupServer) Report(context.Context, *dc.DeviceReport) error { return nil }

func create(t *testing.T, c *client.Client, data map[string]any) string {
	t.Helper()
	ev, err := c.SubmitForm(dupCtx, client.Form{Type: core.CreateIndividual, Data: data})
	require.NoError(t, err)
	return ev.EntityGUID
}

func submit(t *testing.T, c *client.Client, typ, entity string, data map[string]any) {
	t.Helper()
	_, err := c.SubmitForm(dupCtx, client.Form{Type: typ, EntityGUID: entity, Data: data})
	require.NoError(t, err)
}

func syncOK(t *testing.T, c *client.Client, srv *dupServer) client.SyncResult {
	t.Helper()
	r, err := c.Sync(dupCtx, srv, client.SyncOptions{})
	require.NoError(t, err)
	assert.Zero(t, r.Failed)
	return r
}

// dups returns the groups of c as "key: guid guid ..." lines.
func dups(t *testing.T, c *client.Client, limit int) []string {
	t.Helper()
	gs, err := c.Duplicates(dupCtx, limit)
	require.NoError(t, err)
	out := []string{}
	for _, g := range gs {
		s := g.Key + ":"
		for _, e := range g.Entities {
			s += " " + e.GUID
		}
		out = append(out, s)
	}
	return out
}

func testDupTwoDevices(t *testing.T, open func(t *testing.T) dc.Store) {
	srv := &dupServer{}
	a, b := clienttest.New(open(t)), clienttest.New(open(t))
	defer a.Close()
	defer b.Close()

	ana := create(t, a, map[string]any{"name": "Ana", "nationalId": "AB 123"})
	// Flagged on the device that recorded both, before any sync.
	other := create(t, a, map[string]any{"name": "Other", "nationalId": "X-1"})
	anna := create(t, b, map[string]any{"name": "Anna", "nationalId": "  ab   123 "})
	dead := create(t, b, map[string]any{"name": "Gone", "nationalId": "ab 123"})
	submit(t, b, core.DeleteEntity, dead, nil)
	assert.Empty(t, dups(t, a, 0))
	assert.Empty(t, dups(t, b, 0), "a tombstone is no duplicate")

	syncOK(t, a, srv)
	syncOK(t, b, srv)
	syncOK(t, a, srv)
	pair := fmt.Sprintf("individual|ab 123: %s %s", min(ana, anna), max(ana, anna))
	assert.Equal(t, []string{pair}, dups(t, a, 0))
	assert.Equal(t, []string{pair}, dups(t, b, 0))

	// Flagged duplicates block nothing: an unrelated event, and an update
	// of a flagged entity, sync.
	submit(t, a, core.UpdateIndividual, other, map[string]any{"phone": "555"})
	submit(t, a, core.UpdateIndividual, ana, map[string]any{"phone": "777"})
	r := syncOK(t, a, srv)
	assert.Equal(t, 2, r.Pushed)
	syncOK(t, b, srv)
	e, err := b.Entity(dupCtx, other)
	require.NoError(t, err)
	assert.Equal(t, "555", e.Data["phone"])

	// keep on one device: both entities list each other as distinct, and
	// once synced neither device flags the pair.
	submit(t, b, core.ResolveDuplicate, anna, map[string]any{"duplicateGuid": ana, "action": "keep"})
	assert.Empty(t, dups(t, b, 0))
	syncOK(t, b, srv)
	syncOK(t, a, srv)
	assert.Empty(t, dups(t, a, 0))
	e, err = a.Entity(dupCtx, ana)
	require.NoError(t, err)
	assert.Equal(t, []string{anna}, e.Distinct)

	// A third entity with the key is a duplicate of both again.
	third := create(t, a, map[string]any{"name": "A.", "nationalId": "AB123 "})
	assert.Empty(t, dups(t, a, 0), "another key: no inner space")
	submit(t, a, core.UpdateIndividual, third, map[string]any{"nationalId": "ab 123"})
	got := dups(t, a, 0)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], third)

	// merge: one live entity and a tombstone naming it.
	submit(t, a, core.ResolveDuplicate, ana, map[string]any{"duplicateGuid": third})
	assert.Empty(t, dups(t, a, 0))
	syncOK(t, a, srv)
	syncOK(t, b, srv)
	assert.Empty(t, dups(t, b, 0))
	e, err = b.Entity(dupCtx, third)
	require.NoError(t, err)
	assert.True(t, e.Deleted)
	assert.Equal(t, ana, e.Data["mergedInto"])
}

func testDupConfiguredKeys(t *testing.T, open func(t *testing.T) dc.Store) {
	c := clienttest.New(open(t))
	defer c.Close()
	p1 := create(t, c, map[string]any{"lastName": "Mwangi", "birthDate": "2001-02-03", "nationalId": "1"})
	p2 := create(t, c, map[string]any{"lastName": " MWANGI", "birthDate": "2001-02-03", "nationalId": "2"})
	p3 := create(t, c, map[string]any{"lastName": "Mwangi", "birthDate": "1999-01-01", "nationalId": "2"})
	create(t, c, map[string]any{"lastName": "Mwangi", "nationalId": "3"}) // no birth date: no key
	assert.Equal(t, []string{fmt.Sprintf("individual|2: %s %s", min(p2, p3), max(p2, p3))}, dups(t, c, 0))

	// Entities stored under the old keys are re-keyed.
	c.SetDupKeys(core.DupKeys{dc.Individual: {"lastName", "birthDate"}})
	assert.Equal(t, []string{"individual|mwangi|2001-02-03: " + p1 + " " + p2}, dups(t, c, 0))
	// New entities get the new keys.
	p5 := create(t, c, map[string]any{"lastName": "mwangi", "birthDate": "2001-02-03"})
	assert.Equal(t, []string{"individual|mwangi|2001-02-03: " + p1 + " " + p2 + " " + p5}, dups(t, c, 0))
	// No keys, no duplicates.
	c.SetDupKeys(nil)
	assert.Empty(t, dups(t, c, 0))
	rec, err := c.EntityRecord(dupCtx, p1)
	require.NoError(t, err)
	assert.Empty(t, rec.Current.DupKey)
}

func testDupRekeysOld(t *testing.T, open func(t *testing.T) dc.Store) {
	// Entities written before keys were indexed have none.
	s := open(t)
	require.NoError(t, s.Commit(dupCtx, &dc.Batch{Entities: []dc.EntityWrite{
		{Record: storetest.Record("p1", dc.Individual, map[string]any{"nationalId": "9"})},
		{Record: storetest.Record("p2", dc.Individual, map[string]any{"nationalId": 9.0})},
		{Record: storetest.Record("p3", dc.Individual, map[string]any{"nationalId": "8"})},
	}}))
	c := clienttest.New(s)
	defer c.Close()
	assert.Equal(t, []string{"individual|9: p1 p2"}, dups(t, c, 0))
	rec, err := c.EntityRecord(dupCtx, "p3")
	require.NoError(t, err)
	assert.Equal(t, "individual|8", rec.Current.DupKey)
	assert.Equal(t, int64(2), rec.Rev, "re-keyed once")
	assert.Equal(t, []string{"individual|9: p1 p2"}, dups(t, c, 0))
	rec, err = c.EntityRecord(dupCtx, "p3")
	require.NoError(t, err)
	assert.Equal(t, int64(2), rec.Rev, "not again")
}

func testDupLimit(t *testing.T, open func(t *testing.T) dc.Store) {
	c := clienttest.New(open(t))
	defer c.Close()
	for _, id := range []string{"c", "a", "b", "c", "a", "b", "d"} {
		create(t, c, map[string]any{"nationalId": id})
	}
	got := dups(t, c, 2)
	require.Len(t, got, 2)
	assert.Regexp(t, `^individual\|a: `, got[0])
	assert.Regexp(t, `^individual\|b: `, got[1])
	assert.Len(t, dups(t, c, 0), 3)
}

func testDupConflicted(t *testing.T, open func(t *testing.T) dc.Store) {
	s := open(t)
	r := storetest.Record("p1", dc.Individual, map[string]any{"name": "Ana"})
	r.Current.Conflicts = []dc.Conflict{{ID: "e2:name", Field: "name",
		Current: dc.ConflictSide{Value: "Ana"}, Incoming: dc.ConflictSide{Value: "Anna"}}}
	require.NoError(t, s.Commit(dupCtx, &dc.Batch{Entities: []dc.EntityWrite{{Record: r},
		{Record: storetest.Record("p2", dc.Individual, map[string]any{"name": "Ben"})}}}))
	c := clienttest.New(s)
	defer c.Close()
	es, err := c.Conflicted(dupCtx)
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, "p1", es[0].GUID)
	assert.Equal(t, "Anna", es[0].Conflicts[0].Incoming.Value)
}

// plainStore hides the store's duplicate-key index.
type plainStore struct{ dc.Store }

func TestDuplicatesNeedAnIndex(t *testing.T) {
	c := clienttest.New(plainStore{store.NewMemory()})
	defer c.Close()
	_, err := c.Duplicates(dupCtx, 0)
	assert.Equal(t, dc.EINTERNAL, dc.ErrorCode(err))
}
