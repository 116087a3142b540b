package core_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/scenario"
)

// TestApplierScenarios runs testdata/applier/*.txt. Commands:
//
//	apply type=T entity=E [guid=G] [ts=RFC3339]   input: the event's data as JSON
//	show entity=E
//
// apply prints each entity the event changed, or the error; show prints one.
func TestApplierScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/applier", applierRunner(dc.Local, show, ""))
}

// applierRunner runs scenario files of apply and show commands (see
// TestApplierScenarios; apply also takes level=LOCAL|SYNCED|EXTERNAL):
// level is the events' default sync level, view prints an entity, and
// empty is what an apply that changed nothing prints.
func applierRunner(level dc.SyncLevel, view func(*dc.Entity) string, empty string) func(t *testing.T) func(*scenario.Command) string {
	return func(t *testing.T) func(*scenario.Command) string {
		a := core.NewApplier()
		state := core.MapEntities{}
		n := 0
		newGUID := func() string { n++; return fmt.Sprintf("auto%d", n) }
		return func(c *scenario.Command) string {
			switch c.Name {
			case "apply":
				ev := &dc.Event{
					GUID: c.Arg("guid", newGUID()), EntityGUID: c.Arg("entity", ""), Type: c.Arg("type", ""),
					Timestamp: c.Arg("ts", "2026-11-25T10:00:00.000Z"), UserID: "u",
					SyncLevel: dc.SyncLevel(c.Arg("level", string(level))),
				}
				if c.Input != "" {
					if err := json.Unmarshal([]byte(c.Input), &ev.Data); err != nil {
						return "bad input: " + err.Error()
					}
				}
				if err := a.Prepare(ev, newGUID); err != nil {
					return "error " + err.Error()
				}
				w := core.NewWorking(state)
				audit, err := a.Apply(w, ev)
				if err != nil {
					return "error " + err.Error()
				}
				var out []string
				for _, ch := range w.Changes() {
					state[ch.After.GUID] = ch.After
					out = append(out, view(ch.After))
				}
				for _, e := range audit {
					var fields []string
					for _, f := range e.Changes {
						fields = append(fields, f.Field)
					}
					out = append(out, fmt.Sprintf("audit %s %s [%s]", e.EntityGUID, e.Action, strings.Join(fields, " ")))
				}
				if len(out) == 0 {
					return empty
				}
				return strings.Join(out, "\n")
			case "show":
				e := state[c.Arg("entity", "")]
				if e == nil {
					return "none"
				}
				return view(e)
			}
			return "unknown command " + c.Name
		}
	}
}

func show(e *dc.Entity) string {
	data, _ := json.Marshal(e.Data)
	s := fmt.Sprintf("%s %s v%d %s", e.GUID, e.Type, e.Version, data)
	if len(e.MemberIDs) > 0 {
		s += " members=" + strings.Join(e.MemberIDs, ",")
	}
	if e.Deleted {
		s += " deleted"
	}
	if len(e.Distinct) > 0 {
		s += " distinct=" + strings.Join(e.Distinct, ",")
	}
	return s
}

func TestApplyIsAtomicPerEvent(t *testing.T) {
	a := core.NewApplier()
	state := core.MapEntities{"g": {GUID: "g", Type: dc.Group, Version: 1, Data: map[string]any{"name": "H"}}}
	w := core.NewWorking(state)
	// The second member is invalid (not an object): the first must not be created.
	ev := &dc.Event{GUID: "e", EntityGUID: "g", Type: core.AddMember, Timestamp: "2026-11-25T10:00:00Z",
		SyncLevel: dc.Local, Data: map[string]any{"members": []any{map[string]any{"guid": "m1", "name": "A"}, "oops"}}}
	_, err := a.Apply(w, ev)
	require.Error(t, err)
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
	assert.Empty(t, w.Changes())
	m1, err := w.Get("m1")
	require.NoError(t, err)
	assert.Nil(t, m1)
}

func TestRegisterCustomType(t *testing.T) {
	a := core.NewApplier()
	err := a.Register("tag-individual", core.EventType{Apply: func(w *core.Working, ev *dc.Event) error {
		e, err := w.Get(ev.EntityGUID)
		if err != nil || e == nil {
			return dc.Errorf(dc.ENOTFOUND, "no entity")
		}
		e.Data["tag"] = ev.Data["tag"]
		return w.Put(e)
	}})
	require.NoError(t, err)
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(a.Register("tag-individual", core.EventType{Apply: func(*core.Working, *dc.Event) error { return nil }})))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(a.Register(core.CreateGroup, core.EventType{Apply: func(*core.Working, *dc.Event) error { return nil }})))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(a.Register("x", core.EventType{})))
	state := core.MapEntities{"p": {GUID: "p", Type: dc.Individual, Version: 3, Data: map[string]any{"name": "A"}}}
	w := core.NewWorking(state)
	audit, err := a.Apply(w, &dc.Event{GUID: "e", EntityGUID: "p", Type: "tag-individual", Timestamp: "2026-11-25T10:00:00Z",
		SyncLevel: dc.Local, Data: map[string]any{"tag": "vip"}})
	require.NoError(t, err)
	ch := w.Changes()
	require.Len(t, ch, 1)
	assert.Equal(t, int64(4), ch[0].After.Version)
	assert.Equal(t, "vip", ch[0].After.Data["tag"])
	require.Len(t, audit, 1)
	assert.Equal(t, []dc.FieldChange{{Field: "tag", New: "vip"}}, audit[0].Changes)
	assert.Contains(t, a.Types(), "tag-individual")
}

func TestDeterministic(t *testing.T) {
	// The same events applied on two replicas give identical entities.
	evs := []*dc.Event{
		{GUID: "e1", EntityGUID: "g", Type: core.CreateGroup, Data: map[string]any{"name": "H", "members": []any{
			map[string]any{"guid": "a", "name": "A", "age": 3},
			map[string]any{"guid": "s", "type": "group", "name": "Sub", "members": []any{map[string]any{"guid": "b", "name": "B"}}},
		}}},
		{GUID: "e2", EntityGUID: "a", Type: core.UpdateIndividual, Data: map[string]any{"age": 4, "x": map[string]any{"k": []any{1, "2"}}}},
		{GUID: "e3", EntityGUID: "g", Type: core.DeleteEntity},
	}
	run := func() core.MapEntities {
		a := core.NewApplier()
		state := core.MapEntities{}
		for _, ev := range evs {
			ev := ev.Clone()
			ev.Timestamp, ev.SyncLevel = "2026-11-25T10:00:00.000Z", dc.Synced
			w := core.NewWorking(state)
			_, err := a.Apply(w, ev)
			require.NoError(t, err)
			for _, ch := range w.Changes() {
				state[ch.After.GUID] = ch.After
			}
		}
		return state
	}
	r1, r2 := run(), run()
	assert.Equal(t, r1, r2)
	assert.True(t, r1["s"].Deleted, "sub-groups cascade")
	assert.False(t, r1["a"].Deleted, "individual members stay")
	assert.Equal(t, 4.0, r1["a"].Data["age"], "numbers are normalised to float64")
}
