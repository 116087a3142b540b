package core

import (
	dc "github.com/datacollect/datacollect"
)

// RepairPlan is what repairing a replica's confirmed history changes: the
// events and entity records to write so that the replica holds the
// server's events up to its cursor, and the entity states they build.
type RepairPlan struct {
	// New are the server's events the replica lacked; Confirmed the
	// server's copies of events the replica held otherwise (another
	// content or sequence number, or not confirmed), with the replica's
	// LSeq; Records the entity records rebuilt (their confirmed state
	// replayed from the corrected history, their pending events rebased on
	// top); Failed the pending events that no longer apply; Diverged the
	// server's events that did not apply (empty while every replica runs
	// the same applier).
	PullPlan
	// Dropped are the replica's confirmed events in the repaired range that
	// the server does not hold there (the replica's copies, unchanged).
	// They are no longer part of the confirmed history: the caller marks
	// them (a later pull confirms them again if the server holds them at a
	// later sequence number).
	Dropped []*dc.Event
}

// PlanRepair plans how a replica whose confirmed history differs from the
// server's from sequence number from on repairs it. local are the
// replica's confirmed events with Seq up to its cursor, in Seq order;
// server are the server's events with Seq from from to the same cursor, in
// Seq order (the replica and the server agree on every event below from,
// which is what a matching digest root proves).
//
// Every confirmed event below from, then the server's events, are applied
// in sequence order to a Working over an empty source: that is the
// confirmed history the replica should have had, and the confirmed state
// of every entity it builds. The records rewritten are those of the
// entities that the server's events or the replica's own copies of the
// range touch; each gets its rebuilt confirmed state, and its pending
// events replayed on top exactly as a pull rebases them. The function is
// pure: its only reads are src's.
func (a *Applier) PlanRepair(src Source, local, server []*dc.Event, from int64) (*RepairPlan, error) {
	prefix := NewWorking(MapEntities{})
	var tail []*dc.Event // the replica's events from from on
	for _, ev := range local {
		if ev.Seq >= from {
			tail = append(tail, ev)
			continue
		}
		// A confirmed event that did not apply did not apply anywhere.
		_, _ = a.Apply(prefix, confirmedCopy(ev))
	}

	plan := &RepairPlan{}
	touched := map[string]bool{}
	touch := func(ev *dc.Event, audit []*dc.AuditEntry) {
		touched[ev.EntityGUID] = true
		for _, e := range audit {
			touched[e.EntityGUID] = true
		}
	}
	fixed := NewWorking(prefix)
	inServer := make(map[string]bool, len(server))
	guids := make([]string, 0, len(server)+len(tail))
	for _, ev := range server {
		inServer[ev.GUID] = true
		guids = append(guids, ev.GUID)
		applied := confirmedCopy(ev)
		audit, err := a.Apply(fixed, applied)
		if err != nil {
			plan.Diverged = append(plan.Diverged, FailedEvent{Event: applied, Err: err})
			continue
		}
		touch(ev, audit)
	}
	wrong := NewWorking(prefix)
	for _, ev := range tail {
		guids = append(guids, ev.GUID)
		audit, err := a.Apply(wrong, confirmedCopy(ev))
		if err == nil {
			touch(ev, audit)
		} else {
			touched[ev.EntityGUID] = true
		}
	}

	known, err := src.Events(guids)
	if err != nil {
		return nil, err
	}
	for _, ev := range server {
		k := known[ev.GUID]
		switch {
		case k == nil:
			plan.New = append(plan.New, confirmedCopy(ev))
		case k.Seq != ev.Seq || k.Failure != nil || k.SyncLevel == dc.Local || k.SyncLevel == "" || EventHash(k) != EventHash(ev):
			c := confirmedCopy(ev)
			c.LSeq = k.LSeq
			plan.Confirmed = append(plan.Confirmed, c)
		}
	}
	for _, ev := range tail {
		if !inServer[ev.GUID] {
			plan.Dropped = append(plan.Dropped, ev)
		}
	}

	// The records: rebuilt confirmed states, pending events rebased.
	p := &planner{a: a, src: src, records: NewCache(src.Records), plan: &plan.PullPlan}
	out := map[string]*dc.EntityRecord{}
	if err := p.rebase(fixed, touched, inServer, out); err != nil {
		return nil, err
	}
	for _, g := range dc.SortedKeys(out) {
		var rev int64
		if r := p.records.Peek(g); r != nil {
			rev = r.Rev
		}
		plan.Records = append(plan.Records, dc.EntityWrite{Record: out[g], ExpectRev: rev})
	}
	return plan, nil
}

// confirmedCopy returns a copy of a confirmed event as the confirmed
// history holds it: SYNCED (unless EXTERNAL), without a failure.
func confirmedCopy(ev *dc.Event) *dc.Event {
	c := ev.Clone()
	if c.SyncLevel != dc.External {
		c.SyncLevel = dc.Synced
	}
	c.Failure = nil
	return c
}
