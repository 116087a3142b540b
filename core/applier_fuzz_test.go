package core_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// fuzzState returns the small fixed state FuzzApply applies events to: two
// people, a household holding one of them and a sub-group, and a tombstone.
func fuzzState() core.MapEntities {
	ts := "2026-11-25T08:00:00.000Z"
	return core.MapEntities{
		"p1": {GUID: "p1", Type: dc.Individual, Version: 1, Data: map[string]any{"name": "Amina", "nationalId": "AB 1"}, LastUpdated: ts, SyncLevel: dc.Synced},
		"p2": {GUID: "p2", Type: dc.Individual, Version: 2, Data: map[string]any{"name": "Juma", "age": 30.0}, LastUpdated: ts, SyncLevel: dc.Synced},
		"g1": {GUID: "g1", Type: dc.Group, Version: 1, Data: map[string]any{"name": "Mwangi"}, MemberIDs: []string{"p2", "g2"}, LastUpdated: ts, SyncLevel: dc.Synced},
		"g2": {GUID: "g2", Type: dc.Group, Version: 1, Data: map[string]any{"name": "Sub"}, MemberIDs: []string{}, LastUpdated: ts, SyncLevel: dc.Synced},
		"d1": {GUID: "d1", Type: dc.Individual, Version: 3, Data: map[string]any{"name": "Gone"}, LastUpdated: ts, SyncLevel: dc.Synced, Deleted: true},
	}
}

// fuzzEntities are the entity guids an event may be about: the state's and
// one that does not exist.
var fuzzEntities = []string{"p1", "p2", "g1", "g2", "d1", "new1"}

// FuzzApply applies a built-in event of any type, about any entity, with any
// JSON data, to a fixed state: it must never panic; on error nothing in the
// working set changes, and the base state is never modified.
func FuzzApply(f *testing.F) {
	a := core.NewApplier()
	types := a.Types()
	index := func(typ string) uint8 {
		for i, t := range types {
			if t == typ {
				return uint8(i)
			}
		}
		f.Fatalf("no type %s", typ)
		return 0
	}
	for _, s := range []struct {
		typ, entity, data string
	}{
		{core.CreateIndividual, "new1", `{"name":"Ada","nationalId":"X 9"}`},
		{core.UpdateIndividual, "p1", `{"name":"Amina M","nationalId":null}`},
		{core.CreateGroup, "new1", `{"name":"H","members":[{"name":"A"},{"guid":"p1"},{"type":"group","members":[{"name":"B"}]}]}`},
		{core.UpdateGroup, "g1", `{"name":"M2"}`},
		{core.AddMember, "g1", `{"members":[{"guid":"p1"},{"name":"C"}]}`},
		{core.RemoveMember, "g1", `{"memberId":"p2"}`},
		{core.DeleteEntity, "g1", `{}`},
		{core.ResolveDuplicate, "p1", `{"duplicateGuid":"p2","action":"merge"}`},
		{core.ResolveConflict, "p1", `{"field":"name","value":"Z"}`},
	} {
		for i, g := range fuzzEntities {
			if g == s.entity {
				f.Add(index(s.typ), uint8(i), []byte(s.data))
			}
		}
	}
	f.Fuzz(func(t *testing.T, typ, entity uint8, data []byte) {
		ev := &dc.Event{
			GUID: "ev1", EntityGUID: fuzzEntities[int(entity)%len(fuzzEntities)], Type: types[int(typ)%len(types)],
			Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u1", SyncLevel: dc.Local,
		}
		if err := json.Unmarshal(data, &ev.Data); err != nil {
			return
		}
		state := fuzzState()
		n := 0
		if err := a.Prepare(ev, func() string { n++; return fmt.Sprintf("auto%d", n) }); err != nil {
			return
		}
		w := core.NewWorking(state)
		_, err := a.Apply(w, ev)
		if err != nil && len(w.Changes()) != 0 {
			t.Fatalf("%s %s %s: %v, yet changed %d entities", ev.Type, ev.EntityGUID, data, err, len(w.Changes()))
		}
		if !reflect.DeepEqual(state, fuzzState()) {
			t.Fatalf("%s %s %s modified the base state", ev.Type, ev.EntityGUID, data)
		}
	})
}
