package core_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

func TestPlanPushKeepsEntityOrderInOneLane(t *testing.T) {
	var evs []*dc.Event
	add := func(guid, entity string, data map[string]any) {
		evs = append(evs, &dc.Event{GUID: guid, EntityGUID: entity, Type: "x", Data: data})
	}
	for i := 0; i < 10; i++ {
		add(fmt.Sprintf("c%d", i), fmt.Sprintf("p%d", i), map[string]any{"n": i})
	}
	add("u3", "p3", nil)
	add("g", "hh", map[string]any{"members": []any{map[string]any{"guid": "p5"}, map[string]any{"guid": "p7"}}})
	add("u7", "p7", nil)
	lanes := core.PlanPush(evs, 2, 3)
	assert.Len(t, lanes, 3)
	laneOf := map[string]int{}
	pos := map[string]int{}
	total := 0
	for li, lane := range lanes {
		i := 0
		for _, b := range lane {
			assert.LessOrEqual(t, len(b), 2)
			for _, e := range b {
				laneOf[e.GUID] = li
				pos[e.GUID] = i
				i++
				total++
			}
		}
	}
	assert.Equal(t, len(evs), total, "every event exactly once")
	assert.Equal(t, laneOf["c3"], laneOf["u3"])
	assert.Less(t, pos["c3"], pos["u3"])
	// p5, p7 and hh are one component through the household.
	assert.Equal(t, laneOf["c5"], laneOf["g"])
	assert.Equal(t, laneOf["c7"], laneOf["g"])
	assert.Equal(t, laneOf["g"], laneOf["u7"])
	assert.Less(t, pos["c7"], pos["g"])
	assert.Less(t, pos["g"], pos["u7"])
	assert.Equal(t, lanes, core.PlanPush(evs, 2, 3), "deterministic")
	assert.Nil(t, core.PlanPush(nil, 100, 5))
	one := core.PlanPush(evs, 100, 1)
	assert.Len(t, one, 1)
	assert.Len(t, one[0], 1)
	assert.Equal(t, evs, one[0][0], "one lane keeps the local order")
}
