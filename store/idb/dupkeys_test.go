//go:build js && wasm

package idbstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
	"github.com/datacollect/datacollect/store/storetest"
)

// TestUpgradeFromVersion2 opens a database of schema version 2 whose entity
// records lack the fields of the version 3 indexes, and checks that the
// upgrade indexes the entities with open conflicts without losing anything.
func TestUpgradeFromVersion2(t *testing.T) {
	name := dbName(t)
	t.Cleanup(func() { _ = idbstore.Delete(ctx, name) })
	v2, err := idbstore.OpenV2(ctx, name)
	require.NoError(t, err)
	conflicted := storetest.Record("p1", dc.Individual, map[string]any{"name": "Ana", "nationalId": "7"})
	conflicted.Current.Conflicts = []dc.Conflict{{ID: "e2:name", Field: "name",
		Current: dc.ConflictSide{Value: "Ana", Event: "e1"}, Incoming: dc.ConflictSide{Value: "Anna", Event: "e2"}}}
	conflicted.Current.DupKey = "individual|7"
	plain := storetest.Record("p2", dc.Individual, map[string]any{"name": "Ben", "nationalId": "7"})
	plain.Current.DupKey = "individual|7"
	require.NoError(t, v2.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: conflicted}, {Record: plain}}}))
	require.NoError(t, idbstore.StripEntityIndexFields(v2))
	require.NoError(t, v2.Close())

	s, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s.Close()
	recs, err := s.ListEntities(ctx, dc.EntityQuery{Conflicted: true})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "p1", recs[0].GUID)
	assert.Equal(t, conflicted.Current.Conflicts, recs[0].Current.Conflicts)
	assert.Equal(t, int64(2), recs[0].Rev, "rewritten once")
	_, ok, err := s.Meta(ctx, "idb.migrate.conflicted")
	require.NoError(t, err)
	assert.False(t, ok, "the migration marker is cleared")
	// Duplicate keys are the client's to set again (client.Duplicates
	// re-keys stale entities): the old records have none.
	byKey, err := s.ListEntities(ctx, dc.EntityQuery{DupKey: "individual|7"})
	require.NoError(t, err)
	assert.Empty(t, byKey)
	all, err := s.ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, map[string]any{"name": "Ben", "nationalId": "7"}, all[1].Current.Data)
	assert.Equal(t, int64(1), all[1].Rev, "entities without conflicts are not rewritten")
}

// TestDupKeyCountsManyKeys walks an index of many keys, most held once.
func TestDupKeyCountsManyKeys(t *testing.T) {
	s, _ := openNew(t)
	b := &dc.Batch{}
	for i := 0; i < 500; i++ {
		r := storetest.Record(string(rune('a'+i%26))+string(rune('A'+i/26)), dc.Individual, map[string]any{"i": float64(i)})
		r.Current.DupKey = "k" + string(rune('0'+i%250/25)) + string(rune('0'+i%25))
		b.Entities = append(b.Entities, dc.EntityWrite{Record: r})
	}
	require.NoError(t, s.Commit(ctx, b))
	n, err := s.DupKeyCounts(ctx)
	require.NoError(t, err)
	assert.Len(t, n, 250)
	for k, c := range n {
		assert.Equal(t, 2, c, k)
	}
}
