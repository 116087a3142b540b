package syncjs

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/jsonx"
)

// sameJSON checks that ours and encoding/json's encoding of the views mean
// the same to a JSON parser.
func sameJSON(t *testing.T, ours []byte, view any) {
	t.Helper()
	want, err := json.Marshal(view)
	require.NoError(t, err)
	var a, b any
	require.NoError(t, json.Unmarshal(ours, &a), "%s", ours)
	require.NoError(t, json.Unmarshal(want, &b))
	assert.Equal(t, b, a)
}

func TestJSONWriterMatchesViews(t *testing.T) {
	data := map[string]any{"s": "q\"uo\\te\n\t\x01 é 😀 <>&", "n": -1.5e-7, "i": 42.0, "big": 1e21, "b": true, "z": nil,
		"l": []any{"a", 1.0, nil, map[string]any{"k": []any{}}}, "m": map[string]any{}}
	evs := []*dc.Event{
		{GUID: "e1", EntityGUID: "p", Type: "create-individual", Data: data, Timestamp: "t", UserID: "u", SyncLevel: dc.Local},
		{GUID: "e2", EntityGUID: "p", Type: "delete-entity", Timestamp: "t", SyncLevel: dc.Synced, Seq: 7, BaseVersion: 3,
			Failure: &dc.Failure{Code: "EINVALID", Message: "no \"way\""}},
	}
	sameJSON(t, appendEventsJSON(nil, evs), viewEvents(evs))
	ens := []*dc.Entity{
		{GUID: "g", Type: dc.Group, Version: 2, Data: data, MemberIDs: []string{"a", "b"}, ExternalID: "X", LastUpdated: "t", SyncLevel: dc.Synced, Deleted: true},
		{GUID: "g2", Type: dc.Group, LastUpdated: "t", SyncLevel: dc.Local},
		{GUID: "p", Type: dc.Individual, Version: 1, Data: map[string]any{"a": "b"}, LastUpdated: "t", SyncLevel: dc.Local},
	}
	sameJSON(t, appendEntitiesJSON(nil, ens), viewEntities(ens))
	sameJSON(t, appendEntityJSON(nil, ens[1]), viewEntity(ens[1]))
	// Invalid UTF-8 becomes U+FFFD, as encoding/json does.
	sameJSON(t, jsonx.AppendString(nil, "a\xffb"), "a\xffb")
}
