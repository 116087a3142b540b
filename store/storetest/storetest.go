// Package storetest is the conformance suite of the client Store contract
// (datacollect.Store). Every implementation runs it: the in-memory store
// natively, the IndexedDB store in headless Chromium.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

// NewStore opens a fresh, empty store for one test. The suite closes it.
type NewStore func(t *testing.T) dc.Store

// Run runs the whole conformance suite against stores made by open.
func Run(t *testing.T, open NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s dc.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NewEventExistsConflicts", testNewEventExists},
		{"DuplicateInBatchConflicts", testDuplicateInBatch},
		{"EntityRevisions", testEntityRevisions},
		{"GoneRecordIsDeleted", testGoneRecord},
		{"FailedPreconditionWritesNothing", testFailedPreconditionWritesNothing},
		{"ListEventsOrderAndFilters", testListEvents},
		{"UpdatedEventsMoveIndexes", testUpdatedEvents},
		{"ConfirmedBySeq", testConfirmedBySeq},
		{"FailedEvents", testFailedEvents},
		{"ListEntitiesFilters", testListEntities},
		{"EntitiesByDupKey", testDupKey},
		{"ConflictedEntities", testConflicted},
		{"AuditNewestFirst", testAudit},
		{"Meta", testMeta},
		{"ValuesRoundTrip", testValues},
		{"ManyRecords", testMany},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// Event returns a test event.
func Event(guid, entity string, level dc.SyncLevel, data map[string]any) *dc.Event {
	return &dc.Event{
		GUID: guid, EntityGUID: entity, Type: "create-individual", Data: data,
		Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u1", SyncLevel: level,
	}
}

// Record returns a test entity record with no confirmed state.
func Record(guid string, typ dc.EntityType, data map[string]any) *dc.EntityRecord {
	return &dc.EntityRecord{GUID: guid, Current: &dc.Entity{
		GUID: guid, Type: typ, Version: 1, Data: data,
		LastUpdated: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Local,
	}}
}

func commit(t *testing.T, s dc.Store, b *dc.Batch) {
	t.Helper()
	require.NoError(t, s.Commit(ctx, b))
}

func testRoundTrip(t *testing.T, s dc.Store) {
	ev := Event("e1", "p1", dc.Local, map[string]any{"name": "Ana", "age": 31.0})
	ev.BaseVersion = 0
	rec := Record("p1", dc.Individual, map[string]any{"name": "Ana", "age": 31.0})
	rec.Confirmed = rec.Current.Clone()
	rec.Confirmed.SyncLevel = dc.Synced
	audit := &dc.AuditEntry{GUID: "e1:p1", Timestamp: ev.Timestamp, UserID: "u1", Action: ev.Type,
		EventGUID: "e1", EntityGUID: "p1", Changes: []dc.FieldChange{{Field: "name", New: "Ana"}}}
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{ev}, Entities: []dc.EntityWrite{{Record: rec}},
		Audit: []*dc.AuditEntry{audit}})

	evs, err := s.Events(ctx, []string{"e1", "missing"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	got := evs["e1"]
	assert.Positive(t, got.LSeq)
	got.LSeq = 0
	want := ev.Clone()
	want.LSeq = 0
	assert.Equal(t, want, got)

	recs, err := s.Entities(ctx, []string{"p1", "missing"})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, int64(1), recs["p1"].Rev)
	assert.Equal(t, rec.Current, recs["p1"].Current)
	assert.Equal(t, rec.Confirmed, recs["p1"].Confirmed)

	as, err := s.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	require.Len(t, as, 1)
	assert.Positive(t, as[0].ID)
	assert.Equal(t, "e1:p1", as[0].GUID)
	assert.Equal(t, []dc.FieldChange{{Field: "name", New: "Ana"}}, as[0].Changes)
}

func testNewEventExists(t *testing.T, s dc.Store) {
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{Event("e1", "p1", dc.Local, map[string]any{"a": "1"})}})
	err := s.Commit(ctx, &dc.Batch{
		NewEvents: []*dc.Event{Event("e2", "p2", dc.Local, map[string]any{"a": "2"}), Event("e1", "p1", dc.Local, map[string]any{"a": "x"})},
		Entities:  []dc.EntityWrite{{Record: Record("p2", dc.Individual, map[string]any{"a": "2"})}},
	})
	require.Error(t, err)
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	evs, err := s.Events(ctx, []string{"e1", "e2"})
	require.NoError(t, err)
	assert.Len(t, evs, 1, "a failed batch writes nothing")
	assert.Equal(t, "1", evs["e1"].Data["a"])
	recs, err := s.Entities(ctx, []string{"p2"})
	require.NoError(t, err)
	assert.Empty(t, recs)
}

func testDuplicateInBatch(t *testing.T, s dc.Store) {
	err := s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{
		Event("e1", "p1", dc.Local, map[string]any{"a": "1"}), Event("e1", "p1", dc.Local, map[string]any{"a": "1"})}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Zero(t, n)
}

func testEntityRevisions(t *testing.T, s dc.Store) {
	r := Record("p1", dc.Individual, map[string]any{"v": 1.0})
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: r}}})
	// Creating again conflicts.
	err := s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: r}}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	// Writing at the right revision succeeds and bumps it.
	r2 := Record("p1", dc.Individual, map[string]any{"v": 2.0})
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: r2, ExpectRev: 1}}})
	// A stale revision conflicts.
	r3 := Record("p1", dc.Individual, map[string]any{"v": 3.0})
	err = s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: r3, ExpectRev: 1}}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	recs, err := s.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	assert.Equal(t, int64(2), recs["p1"].Rev)
	assert.Equal(t, 2.0, recs["p1"].Current.Data["v"])
	// A write expecting an existing record that is absent conflicts too.
	err = s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: Record("p9", dc.Individual, map[string]any{"v": 1.0}), ExpectRev: 3}}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
}

func testFailedPreconditionWritesNothing(t *testing.T, s dc.Store) {
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: Record("p1", dc.Individual, map[string]any{"v": 1.0})}}})
	err := s.Commit(ctx, &dc.Batch{
		NewEvents: []*dc.Event{Event("e1", "p2", dc.Local, map[string]any{"a": "1"})},
		Entities: []dc.EntityWrite{
			{Record: Record("p2", dc.Individual, map[string]any{"v": 1.0})},
			{Record: Record("p1", dc.Individual, map[string]any{"v": 9.0}), ExpectRev: 7},
		},
		Audit: []*dc.AuditEntry{{GUID: "a1", Action: "x"}},
		Meta:  map[string][]byte{"k": []byte("v")},
	})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Zero(t, n)
	recs, err := s.Entities(ctx, []string{"p1", "p2"})
	require.NoError(t, err)
	assert.Len(t, recs, 1)
	assert.Equal(t, 1.0, recs["p1"].Current.Data["v"])
	as, err := s.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	assert.Empty(t, as)
	_, ok, err := s.Meta(ctx, "k")
	require.NoError(t, err)
	assert.False(t, ok)
}

func testListEvents(t *testing.T, s dc.Store) {
	// Commit in an order that is neither guid nor entity order.
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{
		Event("z1", "pB", dc.Local, map[string]any{"n": 1.0}),
		Event("a2", "pA", dc.Synced, map[string]any{"n": 2.0}),
	}})
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{
		Event("m3", "pB", dc.Local, map[string]any{"n": 3.0}),
		Event("b4", "pA", dc.Local, map[string]any{"n": 4.0}),
	}})
	guids := func(evs []*dc.Event) string {
		var g []string
		for _, e := range evs {
			g = append(g, e.GUID)
		}
		return strings.Join(g, ",")
	}
	all, err := s.ListEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Equal(t, "z1,a2,m3,b4", guids(all), "insertion order")
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i].LSeq, all[i-1].LSeq)
	}
	byEntity, err := s.ListEvents(ctx, dc.EventQuery{EntityGUID: "pB"})
	require.NoError(t, err)
	assert.Equal(t, "z1,m3", guids(byEntity))
	local, err := s.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Equal(t, "z1,m3,b4", guids(local))
	both, err := s.ListEvents(ctx, dc.EventQuery{EntityGUID: "pA", SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Equal(t, "b4", guids(both))
	limited, err := s.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local, Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, "z1,m3", guids(limited))
	n, err := s.CountEvents(ctx, dc.EventQuery{SyncLevel: dc.Local, Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = s.CountEvents(ctx, dc.EventQuery{EntityGUID: "pA"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func testUpdatedEvents(t *testing.T, s dc.Store) {
	ev := Event("e1", "p1", dc.Local, map[string]any{"a": "1"})
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{ev}})
	got, err := s.Events(ctx, []string{"e1"})
	require.NoError(t, err)
	up := got["e1"]
	up.SyncLevel = dc.Synced
	up.Seq = 42
	commit(t, s, &dc.Batch{UpdatedEvents: []*dc.Event{up}})
	local, err := s.CountEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Zero(t, local)
	synced, err := s.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Synced})
	require.NoError(t, err)
	require.Len(t, synced, 1)
	assert.Equal(t, int64(42), synced[0].Seq)
	assert.Equal(t, got["e1"].LSeq, synced[0].LSeq, "an update keeps the insertion order")
	// Updating an unknown event fails with ENOTFOUND and writes nothing,
	// not even the update of a known event in the same batch.
	known := synced[0].Clone()
	known.Seq = 43
	err = s.Commit(ctx, &dc.Batch{UpdatedEvents: []*dc.Event{known,
		Event("nope", "p1", dc.Synced, map[string]any{"a": "1"})}})
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err), "%v", err)
	evs, err := s.Events(ctx, []string{"e1", "nope"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, synced[0], evs["e1"], "the known event is unchanged")
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func testConfirmedBySeq(t *testing.T, s dc.Store) {
	mk := func(guid string, seq int64) *dc.Event {
		e := Event(guid, "p", dc.Synced, map[string]any{"a": guid})
		e.Seq = seq
		if seq == 0 {
			e.SyncLevel = dc.Local
		}
		return e
	}
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{mk("a", 30), mk("b", 0), mk("c", 10), mk("d", 20)}})
	evs, err := s.ListEvents(ctx, dc.EventQuery{Confirmed: true})
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.Equal(t, []int64{10, 20, 30}, []int64{evs[0].Seq, evs[1].Seq, evs[2].Seq})
	evs, err = s.ListEvents(ctx, dc.EventQuery{Confirmed: true, AfterSeq: 10, Limit: 1})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "d", evs[0].GUID)
	n, err := s.CountEvents(ctx, dc.EventQuery{Confirmed: true, AfterSeq: 15})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func testListEntities(t *testing.T, s dc.Store) {
	g := Record("g1", dc.Group, map[string]any{"name": "H"})
	g.Current.MemberIDs = []string{"p2", "p1"}
	p1 := Record("p1", dc.Individual, map[string]any{"name": "A"})
	p2 := Record("p2", dc.Individual, map[string]any{"name": "B"})
	p2.Current.ExternalID = "X-9"
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: p2}, {Record: g}, {Record: p1}}})
	all, err := s.ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, []string{"g1", "p1", "p2"}, []string{all[0].GUID, all[1].GUID, all[2].GUID})
	assert.Equal(t, []string{"p2", "p1"}, all[0].Current.MemberIDs)
	ind, err := s.ListEntities(ctx, dc.EntityQuery{Type: dc.Individual})
	require.NoError(t, err)
	assert.Len(t, ind, 2)
	lim, err := s.ListEntities(ctx, dc.EntityQuery{Type: dc.Individual, Limit: 1})
	require.NoError(t, err)
	require.Len(t, lim, 1)
	assert.Equal(t, "p1", lim[0].GUID)
	ext, err := s.ListEntities(ctx, dc.EntityQuery{ExternalID: "X-9"})
	require.NoError(t, err)
	require.Len(t, ext, 1)
	assert.Equal(t, "p2", ext[0].GUID)
	// Changing the type index on update.
	p1b := p1.Clone()
	p1b.Current.ExternalID = "X-1"
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: p1b, ExpectRev: 1}}})
	ext, err = s.ListEntities(ctx, dc.EntityQuery{ExternalID: "X-1"})
	require.NoError(t, err)
	require.Len(t, ext, 1)
	assert.Equal(t, "p1", ext[0].GUID)
}

func testAudit(t *testing.T, s dc.Store) {
	for i := 1; i <= 5; i++ {
		ent := "p1"
		if i%2 == 0 {
			ent = "p2"
		}
		commit(t, s, &dc.Batch{Audit: []*dc.AuditEntry{{GUID: fmt.Sprintf("a%d", i), Action: "x", EntityGUID: ent,
			Changes: []dc.FieldChange{{Field: "n", Old: float64(i - 1), New: float64(i)}}}}})
	}
	as, err := s.Audit(ctx, dc.AuditQuery{Limit: 2})
	require.NoError(t, err)
	require.Len(t, as, 2)
	assert.Equal(t, "a5", as[0].GUID)
	assert.Equal(t, "a4", as[1].GUID)
	assert.Greater(t, as[0].ID, as[1].ID)
	p2, err := s.Audit(ctx, dc.AuditQuery{EntityGUID: "p2"})
	require.NoError(t, err)
	require.Len(t, p2, 2)
	assert.Equal(t, "a4", p2[0].GUID)
	assert.Equal(t, []dc.FieldChange{{Field: "n", Old: 3.0, New: 4.0}}, p2[0].Changes)
}

func testMeta(t *testing.T, s dc.Store) {
	_, ok, err := s.Meta(ctx, "cursor")
	require.NoError(t, err)
	assert.False(t, ok)
	commit(t, s, &dc.Batch{Meta: map[string][]byte{"cursor": []byte("17"), "other": {0, 1, 2}}})
	v, ok, err := s.Meta(ctx, "cursor")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []byte("17"), v)
	v, _, err = s.Meta(ctx, "other")
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 2}, v)
	commit(t, s, &dc.Batch{Meta: map[string][]byte{"cursor": nil}})
	_, ok, err = s.Meta(ctx, "cursor")
	require.NoError(t, err)
	assert.False(t, ok)
}

func testValues(t *testing.T, s dc.Store) {
	data := map[string]any{
		"str":    "héllo wörld 👋 ✓",
		"num":    -12.5,
		"int":    42.0,
		"big":    9007199254740991.0,
		"bool":   true,
		"null":   nil,
		"list":   []any{"a", 1.0, false, nil, map[string]any{"x": "y"}},
		"nested": map[string]any{"deep": map[string]any{"deeper": []any{1.0, 2.0}}},
		"empty":  "",
	}
	commit(t, s, &dc.Batch{
		NewEvents: []*dc.Event{Event("e1", "p1", dc.Local, data)},
		Entities:  []dc.EntityWrite{{Record: Record("p1", dc.Individual, data)}},
	})
	evs, err := s.Events(ctx, []string{"e1"})
	require.NoError(t, err)
	assert.Equal(t, data, evs["e1"].Data)
	recs, err := s.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	assert.Equal(t, data, recs["p1"].Current.Data)
	assert.Nil(t, recs["p1"].Confirmed)
}

func testMany(t *testing.T, s dc.Store) {
	const n = 1500
	b := &dc.Batch{}
	for i := 0; i < n; i++ {
		guid := fmt.Sprintf("p%05d", i)
		b.NewEvents = append(b.NewEvents, Event("e"+guid, guid, dc.Local, map[string]any{"i": float64(i)}))
		b.Entities = append(b.Entities, dc.EntityWrite{Record: Record(guid, dc.Individual, map[string]any{"i": float64(i)})})
		b.Audit = append(b.Audit, &dc.AuditEntry{GUID: "a" + guid, Action: "create-individual", EntityGUID: guid})
	}
	commit(t, s, b)
	c, err := s.CountEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Equal(t, n, c)
	ents, err := s.ListEntities(ctx, dc.EntityQuery{Type: dc.Individual})
	require.NoError(t, err)
	require.Len(t, ents, n)
	assert.Equal(t, "p00000", ents[0].GUID)
	assert.Equal(t, float64(n-1), ents[n-1].Current.Data["i"])
	guids := make([]string, 0, n)
	for i := 0; i < n; i += 3 {
		guids = append(guids, fmt.Sprintf("p%05d", i))
	}
	recs, err := s.Entities(ctx, guids)
	require.NoError(t, err)
	assert.Len(t, recs, len(guids))
}

func testClosed(t *testing.T, s dc.Store) {
	require.NoError(t, s.Close())
	_, err := s.Events(ctx, []string{"x"})
	assert.Equal(t, dc.ECLOSED, dc.ErrorCode(err))
	err = s.Commit(ctx, &dc.Batch{Meta: map[string][]byte{"k": []byte("v")}})
	assert.Equal(t, dc.ECLOSED, dc.ErrorCode(err))
}

func testFailedEvents(t *testing.T, s dc.Store) {
	commit(t, s, &dc.Batch{NewEvents: []*dc.Event{
		Event("f1", "pA", dc.Local, nil), Event("f2", "pB", dc.Local, nil), Event("f3", "pC", dc.Local, nil),
	}})
	n, err := s.CountEvents(ctx, dc.EventQuery{Failed: true})
	require.NoError(t, err)
	assert.Zero(t, n, "nothing failed yet")
	got, err := s.Events(ctx, []string{"f1", "f3"})
	require.NoError(t, err)
	f1, f3 := got["f1"], got["f3"]
	f1.Failure = &dc.Failure{Code: dc.EINVALID, Message: "name is required"}
	f3.Failure = &dc.Failure{Code: dc.ENOTFOUND, Message: "gone"}
	commit(t, s, &dc.Batch{UpdatedEvents: []*dc.Event{f3, f1}})
	failed, err := s.ListEvents(ctx, dc.EventQuery{Failed: true})
	require.NoError(t, err)
	require.Len(t, failed, 2)
	assert.Equal(t, "f1", failed[0].GUID, "local order")
	assert.Equal(t, "name is required", failed[0].Failure.Message)
	assert.Equal(t, "f3", failed[1].GUID)
	n, err = s.CountEvents(ctx, dc.EventQuery{Failed: true, SyncLevel: dc.Synced})
	require.NoError(t, err)
	assert.Equal(t, 2, n, "other filters are ignored")
	limited, err := s.ListEvents(ctx, dc.EventQuery{Failed: true, Limit: 1})
	require.NoError(t, err)
	assert.Len(t, limited, 1)

	// Retrying clears the failure: the event leaves the failed set.
	f1.Failure = nil
	commit(t, s, &dc.Batch{UpdatedEvents: []*dc.Event{f1}})
	failed, err = s.ListEvents(ctx, dc.EventQuery{Failed: true})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Equal(t, "f3", failed[0].GUID)
	n, err = s.CountEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Equal(t, 3, n, "failed events stay LOCAL")
}

// DupKeyCounter is implemented by stores that can list the duplicate keys
// shared by several entities from their index (both stores of this module).
type DupKeyCounter interface {
	DupKeyCounts(ctx context.Context) (map[string]int, error)
}

func guidsOf(recs []*dc.EntityRecord) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.GUID)
	}
	return out
}

func testDupKey(t *testing.T, s dc.Store) {
	rec := func(guid, key string) *dc.EntityRecord {
		r := Record(guid, dc.Individual, map[string]any{"nationalId": guid})
		r.Current.DupKey = key
		return r
	}
	byKey := func(key string, limit int) []string {
		t.Helper()
		recs, err := s.ListEntities(ctx, dc.EntityQuery{DupKey: key, Type: dc.Group, ExternalID: "x", Limit: limit})
		require.NoError(t, err)
		return guidsOf(recs)
	}
	counts := func() map[string]int {
		t.Helper()
		c, ok := s.(DupKeyCounter)
		if !ok {
			return nil
		}
		n, err := c.DupKeyCounts(ctx)
		require.NoError(t, err)
		return n
	}
	// Written in an order that is not guid order; p4 has no key.
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{
		{Record: rec("p3", "individual|2")}, {Record: rec("p2", "individual|1")},
		{Record: rec("p1", "individual|1")}, {Record: rec("p4", "")},
	}})
	assert.Equal(t, []string{"p1", "p2"}, byKey("individual|1", 0), "by guid; other filters ignored")
	assert.Equal(t, []string{"p1"}, byKey("individual|1", 1))
	assert.Equal(t, []string{"p3"}, byKey("individual|2", 0))
	assert.Equal(t, []string{}, byKey("individual|9", 0))
	if _, ok := s.(DupKeyCounter); ok {
		assert.Equal(t, map[string]int{"individual|1": 2}, counts(), "keys of one entity are left out")
	}
	// The key is kept with the record.
	recs, err := s.Entities(ctx, []string{"p1", "p4"})
	require.NoError(t, err)
	assert.Equal(t, "individual|1", recs["p1"].Current.DupKey)
	assert.Equal(t, "", recs["p4"].Current.DupKey)
	all, err := s.ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	assert.Equal(t, "individual|1", all[0].Current.DupKey)
	assert.Equal(t, rec("p1", "individual|1").Current, all[0].Current)

	// A failed commit leaves the index as it was.
	err = s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{
		{Record: rec("p4", "individual|1"), ExpectRev: 1}, {Record: rec("p1", "individual|1")}}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	assert.Equal(t, []string{"p1", "p2"}, byKey("individual|1", 0))

	// Writes move records between keys, and out of the index.
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{
		{Record: rec("p2", "individual|2"), ExpectRev: 1}, {Record: rec("p1", ""), ExpectRev: 1},
		{Record: rec("p4", "individual|2"), ExpectRev: 1}}})
	assert.Equal(t, []string{}, byKey("individual|1", 0))
	assert.Equal(t, []string{"p2", "p3", "p4"}, byKey("individual|2", 0))
	if _, ok := s.(DupKeyCounter); ok {
		assert.Equal(t, map[string]int{"individual|2": 3}, counts())
	}
	// A deleted entity has no key (core.DupKeys.Key): it leaves the index.
	del := rec("p3", "")
	del.Current.Deleted = true
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: del, ExpectRev: 1}}})
	assert.Equal(t, []string{"p2", "p4"}, byKey("individual|2", 0))
	// Keys are compared exactly: the writer normalises them.
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: rec("p5", "Individual|2")}}})
	assert.Equal(t, []string{"p2", "p4"}, byKey("individual|2", 0))
	assert.Equal(t, []string{"p5"}, byKey("Individual|2", 0))
}

func testConflicted(t *testing.T, s dc.Store) {
	conflict := dc.Conflict{ID: "e2:name", Field: "name",
		Current:  dc.ConflictSide{Value: "Ana", Event: "e1", Device: "A", HLC: "h1"},
		Incoming: dc.ConflictSide{Value: "Anna", Event: "e2", Device: "B", HLC: "h2"}}
	rec := func(guid string, conflicts ...dc.Conflict) *dc.EntityRecord {
		r := Record(guid, dc.Individual, map[string]any{"name": "Ana"})
		r.Current.Conflicts = conflicts
		return r
	}
	list := func(limit int) []string {
		t.Helper()
		recs, err := s.ListEntities(ctx, dc.EntityQuery{Conflicted: true, Type: dc.Group, Limit: limit})
		require.NoError(t, err)
		return guidsOf(recs)
	}
	assert.Equal(t, []string{}, list(0))
	// The confirmed state's conflicts do not count: only the current's.
	onlyConfirmed := rec("p0")
	onlyConfirmed.Confirmed = rec("p0", conflict).Current
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{
		{Record: rec("p3", conflict)}, {Record: rec("p2")}, {Record: rec("p1", conflict, conflict)},
		{Record: onlyConfirmed}}})
	assert.Equal(t, []string{"p1", "p3"}, list(0), "by guid; other filters ignored")
	assert.Equal(t, []string{"p1"}, list(1))
	recs, err := s.ListEntities(ctx, dc.EntityQuery{Conflicted: true})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, []dc.Conflict{conflict, conflict}, recs[0].Current.Conflicts)
	// Resolving the conflicts takes the entity out; a new one puts it in.
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{
		{Record: rec("p1"), ExpectRev: 1}, {Record: rec("p2", conflict), ExpectRev: 1}}})
	assert.Equal(t, []string{"p2", "p3"}, list(0))
}

// testGoneRecord: writing a record with no state left deletes it, under the
// same revision precondition as any write.
func testGoneRecord(t *testing.T, s dc.Store) {
	r := Record("g1", dc.Individual, map[string]any{"name": "Gone"})
	r.Current.DupKey = "individual|x"
	r.Current.Conflicts = []dc.Conflict{{ID: "c1", Field: "name"}}
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: r}, {Record: Record("k1", dc.Individual, map[string]any{"name": "Kept"})}}})
	err := s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: &dc.EntityRecord{GUID: "g1"}, ExpectRev: 7}}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err), "a stale revision deletes nothing")
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: &dc.EntityRecord{GUID: "g1"}, ExpectRev: 1}}})
	got, err := s.Entities(ctx, []string{"g1", "k1"})
	require.NoError(t, err)
	assert.NotContains(t, got, "g1")
	assert.Contains(t, got, "k1")
	all, err := s.ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	require.Len(t, all, 1)
	for _, q := range []dc.EntityQuery{{DupKey: "individual|x"}, {Conflicted: true}, {Type: dc.Individual}} {
		l, err := s.ListEntities(ctx, q)
		require.NoError(t, err)
		for _, rec := range l {
			assert.NotEqual(t, "g1", rec.GUID, "%+v", q)
		}
	}
	// The guid can be created again.
	commit(t, s, &dc.Batch{Entities: []dc.EntityWrite{{Record: Record("g1", dc.Individual, map[string]any{"name": "Again"})}}})
}
