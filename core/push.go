package core

import (
	dc "github.com/datacollect/datacollect"
)

// PlanPush splits pending events (in local order) into at most lanes lanes
// of batches of at most batchSize events. Events that share an entity (by
// Refs) are in the same lane, in their local order, so lanes can be sent
// concurrently while the batches of one lane are sent one after the other:
// no event of an entity overtakes an earlier one. Lanes are balanced by
// event count; the result is deterministic.
func PlanPush(events []*dc.Event, batchSize, lanes int) [][][]*dc.Event {
	if batchSize <= 0 {
		batchSize = 100
	}
	if lanes <= 0 {
		lanes = 1
	}
	// Union-find over entity guids: events referring to a common entity
	// belong to one component.
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok {
			parent[x] = x
			return x
		}
		if p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[rb] = ra
		}
	}
	for _, ev := range events {
		refs := Refs(ev)
		for _, r := range refs[1:] {
			union(refs[0], r)
		}
		find(refs[0])
	}
	// Components in order of first appearance, with their events in order.
	var order []string
	comps := map[string][]*dc.Event{}
	for _, ev := range events {
		root := find(ev.EntityGUID)
		if _, ok := comps[root]; !ok {
			order = append(order, root)
		}
		comps[root] = append(comps[root], ev)
	}
	if lanes > len(order) {
		lanes = len(order)
	}
	if lanes == 0 {
		return nil
	}
	// Greedy balancing: each component goes to the lane with fewest events
	// (ties to the lowest lane); inside a lane events keep the local order.
	laneOf := map[string]int{}
	sizes := make([]int, lanes)
	for _, root := range order {
		best := 0
		for i := 1; i < lanes; i++ {
			if sizes[i] < sizes[best] {
				best = i
			}
		}
		laneOf[root] = best
		sizes[best] += len(comps[root])
	}
	laneEvents := make([][]*dc.Event, lanes)
	for _, ev := range events {
		l := laneOf[find(ev.EntityGUID)]
		laneEvents[l] = append(laneEvents[l], ev)
	}
	out := make([][][]*dc.Event, 0, lanes)
	for _, evs := range laneEvents {
		var batches [][]*dc.Event
		for len(evs) > 0 {
			n := min(batchSize, len(evs))
			batches = append(batches, evs[:n:n])
			evs = evs[n:]
		}
		out = append(out, batches)
	}
	return out
}
