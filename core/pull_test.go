package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// A page holding an event type this applier does not know fails with
// EVERSION (update the app), other divergences with EINTERNAL.
func TestDivergedError(t *testing.T) {
	a := core.NewApplier()
	known := &dc.Event{GUID: "e1", EntityGUID: "p1", Type: core.CreateIndividual, Data: map[string]any{"name": "A"},
		Timestamp: "2026-11-25T08:00:00.000Z", SyncLevel: dc.Synced, Seq: 1}
	unknown := &dc.Event{GUID: "e2", EntityGUID: "p1", Type: "from-the-future", Data: map[string]any{"x": 1.0},
		Timestamp: "2026-11-25T08:00:01.000Z", SyncLevel: dc.Synced, Seq: 2}
	plan, err := a.PlanPull(mapSource{}, []*dc.Event{known, unknown})
	require.NoError(t, err)
	err = plan.DivergedError("pull")
	require.Equal(t, dc.EVERSION, dc.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), `"from-the-future"`)

	orphan := &dc.Event{GUID: "e3", EntityGUID: "p9", Type: core.UpdateIndividual, Data: map[string]any{"x": 1.0},
		Timestamp: "2026-11-25T08:00:02.000Z", SyncLevel: dc.Synced, Seq: 3}
	plan, err = a.PlanPull(mapSource{}, []*dc.Event{orphan})
	require.NoError(t, err)
	require.Equal(t, dc.EINTERNAL, dc.ErrorCode(plan.DivergedError("pull")))
	require.NoError(t, (&core.PullPlan{}).DivergedError("pull"))
}
