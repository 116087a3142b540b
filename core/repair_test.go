package core_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// mapSource is a replica's stored state for the planners.
type mapSource struct {
	records map[string]*dc.EntityRecord
	events  map[string]*dc.Event
}

func (s mapSource) Records(guids []string) (map[string]*dc.EntityRecord, error) {
	out := map[string]*dc.EntityRecord{}
	for _, g := range guids {
		if r := s.records[g]; r != nil {
			out[g] = r.Clone()
		}
	}
	return out, nil
}

func (s mapSource) Events(guids []string) (map[string]*dc.Event, error) {
	out := map[string]*dc.Event{}
	for _, g := range guids {
		if e := s.events[g]; e != nil {
			out[g] = e.Clone()
		}
	}
	return out, nil
}

func confirmedEvent(seq int64, guid, typ, entity string, data map[string]any) *dc.Event {
	return &dc.Event{GUID: guid, EntityGUID: entity, Type: typ, Data: data, Seq: seq, LSeq: seq,
		SyncLevel: dc.Synced, UserID: "u1", Timestamp: "2026-11-25T10:00:00.000Z"}
}

// replay returns the entities that events build from nothing.
func replay(t *testing.T, a *core.Applier, events ...*dc.Event) map[string]*dc.Entity {
	t.Helper()
	w := core.NewWorking(core.MapEntities{})
	for _, ev := range events {
		_, err := a.Apply(w, ev.Clone())
		require.NoError(t, err)
	}
	out := map[string]*dc.Entity{}
	for _, ch := range w.Changes() {
		out[ch.After.GUID] = ch.After
	}
	return out
}

// TestPlanRepair: a replica that lacks event 2 and holds another content
// for event 4 gets both from the server; the entities they touch are
// rebuilt, and a pending edit is rebased on top.
func TestPlanRepair(t *testing.T) {
	a := core.NewApplier()
	server := []*dc.Event{
		confirmedEvent(1, "e1", "create-individual", "p1", map[string]any{"name": "Ana"}),
		confirmedEvent(2, "e2", "update-individual", "p1", map[string]any{"a": 1.0}),
		confirmedEvent(3, "e3", "create-individual", "p2", map[string]any{"name": "Ben"}),
		confirmedEvent(4, "e4", "update-individual", "p2", map[string]any{"b": 2.0}),
	}
	tampered := server[3].Clone()
	tampered.Data = map[string]any{"b": 3.0}
	local := []*dc.Event{server[0], server[2], tampered}
	pending := &dc.Event{GUID: "l1", EntityGUID: "p1", Type: "update-individual", Data: map[string]any{"c": 3.0},
		SyncLevel: dc.Local, UserID: "u1", Timestamp: "2026-11-25T10:00:00.000Z", LSeq: 10}

	wrong := replay(t, a, local...)
	withPending := replay(t, a, append(append([]*dc.Event{}, local...), pending)...)
	src := mapSource{records: map[string]*dc.EntityRecord{
		"p1": {GUID: "p1", Confirmed: wrong["p1"], Current: withPending["p1"], Pending: []string{"l1"}, Rev: 3},
		"p2": {GUID: "p2", Confirmed: wrong["p2"], Current: wrong["p2"], Rev: 5},
	}, events: map[string]*dc.Event{"l1": pending}}
	for _, ev := range local {
		src.events[ev.GUID] = ev
	}
	// Roots match up to 1, differ from 2 on (the replica has no event 2).
	plan, err := a.PlanRepair(src, local, server[1:], 2)
	require.NoError(t, err)

	require.Len(t, plan.New, 1)
	assert.Equal(t, "e2", plan.New[0].GUID)
	require.Len(t, plan.Confirmed, 1, "e3 is identical: not rewritten")
	assert.Equal(t, "e4", plan.Confirmed[0].GUID)
	assert.Equal(t, map[string]any{"b": 2.0}, plan.Confirmed[0].Data, "the server's copy wins")
	assert.Equal(t, int64(4), plan.Confirmed[0].LSeq, "the local order stays")
	assert.Empty(t, plan.Dropped)
	assert.Empty(t, plan.Diverged)
	assert.Empty(t, plan.Failed)

	right := replay(t, a, server...)
	recs := map[string]dc.EntityWrite{}
	for _, w := range plan.Records {
		recs[w.Record.GUID] = w
	}
	require.Len(t, recs, 2)
	assert.Equal(t, int64(3), recs["p1"].ExpectRev)
	assert.Equal(t, right["p1"], recs["p1"].Record.Confirmed)
	assert.Equal(t, map[string]any{"name": "Ana", "a": 1.0, "c": 3.0}, recs["p1"].Record.Current.Data, "pending edit rebased")
	assert.Equal(t, []string{"l1"}, recs["p1"].Record.Pending)
	assert.Equal(t, right["p2"], recs["p2"].Record.Confirmed)
	assert.Equal(t, right["p2"], recs["p2"].Record.Current)
}

// TestPlanRepairDropsForeignEvents: an event the replica holds at a
// sequence number where the server holds another leaves the confirmed
// history, and what it built is undone.
func TestPlanRepairDropsForeignEvents(t *testing.T) {
	a := core.NewApplier()
	server := []*dc.Event{
		confirmedEvent(1, "e1", "create-individual", "p1", map[string]any{"name": "Ana"}),
		confirmedEvent(2, "e2", "update-individual", "p1", map[string]any{"a": 1.0}),
	}
	foreign := confirmedEvent(2, "x", "create-individual", "p9", map[string]any{"name": "Ghost"})
	local := []*dc.Event{server[0], foreign}
	wrong := replay(t, a, local...)
	src := mapSource{records: map[string]*dc.EntityRecord{
		"p1": {GUID: "p1", Confirmed: wrong["p1"], Current: wrong["p1"], Rev: 1},
		"p9": {GUID: "p9", Confirmed: wrong["p9"], Current: wrong["p9"], Rev: 1},
	}, events: map[string]*dc.Event{"e1": server[0], "x": foreign}}
	plan, err := a.PlanRepair(src, local, server[1:], 2)
	require.NoError(t, err)
	require.Len(t, plan.New, 1)
	assert.Equal(t, "e2", plan.New[0].GUID)
	require.Len(t, plan.Dropped, 1)
	assert.Equal(t, "x", plan.Dropped[0].GUID)
	recs := map[string]*dc.EntityRecord{}
	for _, w := range plan.Records {
		recs[w.Record.GUID] = w.Record
	}
	assert.Equal(t, replay(t, a, server...)["p1"], recs["p1"].Confirmed)
	require.Contains(t, recs, "p9", "the entity the foreign event built is rewritten")
	assert.Nil(t, recs["p9"].Confirmed, "it has no confirmed state any more")
}
