package core

import (
	"errors"
	"sort"

	dc "github.com/datacollect/datacollect"
)

// Source is where the pull planner reads a replica's stored state. The
// client backs it with its store; reads happen before the commit, which is
// optimistic (the records' revisions are its preconditions).
type Source interface {
	// Records returns the stored entity records among guids.
	Records(guids []string) (map[string]*dc.EntityRecord, error)
	// Events returns the stored events among guids (with LSeq).
	Events(guids []string) (map[string]*dc.Event, error)
}

// PullPlan is what applying one pulled page changes on a replica.
type PullPlan struct {
	// New are remote events to store.
	New []*dc.Event
	// Confirmed are this replica's own events that the page confirmed,
	// updated with their sequence number and sync level.
	Confirmed []*dc.Event
	// Records are the entity records to write, with the revision each had
	// when read (0: absent) as the commit's precondition.
	Records []dc.EntityWrite
	// Failed are pending local events that no longer apply on top of the
	// confirmed state (e.g. their entity was deleted remotely).
	Failed []FailedEvent
	// Diverged are page events that did not apply to the confirmed state.
	// It stays empty while every replica runs the same applier.
	Diverged []FailedEvent
	// Conflicts counts the conflicts the page's remote events met (and
	// resolved by their strategy) on the confirmed state; those of the
	// replica's own events were reported by the server when it pushed them.
	Conflicts int
}

// FailedEvent is an event and why it could not apply.
type FailedEvent struct {
	Event *dc.Event
	Err   error
}

// PlanPull computes how a replica applies one page of confirmed events (in
// sequence order, all above the replica's cursor): every page event is
// applied to the confirmed states in sequence order; then, for each entity
// whose local pending events are not simply a prefix of what the page
// confirmed, the pending events are replayed on top (a rebase), in local
// order. Same page and state in, same plan out: the function is pure.
func (a *Applier) PlanPull(src Source, page []*dc.Event) (*PullPlan, error) {
	p := &planner{a: a, src: src, records: NewCache(src.Records), plan: &PullPlan{}}
	return p.run(page)
}

// PlanRebase recomputes the entities guids after some of their pending
// events were refused (they carry a Failure): each gets its confirmed state
// with its other pending events replayed on top, in local order. Pending
// events that no longer apply are in the plan's Failed.
func (a *Applier) PlanRebase(src Source, guids []string) (*PullPlan, error) {
	p := &planner{a: a, src: src, records: NewCache(src.Records), plan: &PullPlan{}}
	if err := p.records.Load(guids); err != nil {
		return nil, err
	}
	needs := map[string]bool{}
	for _, g := range guids {
		if p.records.Peek(g) != nil {
			needs[g] = true
		}
	}
	out := map[string]*dc.EntityRecord{}
	if err := p.rebase(NewWorking(confirmedLayer{p}), needs, map[string]bool{}, out); err != nil {
		return nil, err
	}
	p.write(out)
	return p.plan, nil
}

// write adds the records of out to the plan, each with the revision it had
// when read (0: absent) as the commit's precondition.
func (p *planner) write(out map[string]*dc.EntityRecord) {
	for _, g := range dc.SortedKeys(out) {
		var rev int64
		if r := p.records.Peek(g); r != nil {
			rev = r.Rev
		}
		p.plan.Records = append(p.plan.Records, dc.EntityWrite{Record: out[g], ExpectRev: rev})
	}
}

type planner struct {
	a       *Applier
	src     Source
	records *Cache[*dc.EntityRecord] // nil value: absent
	plan    *PullPlan
}

// confirmedLayer shows the stored confirmed states.
type confirmedLayer struct{ p *planner }

func (l confirmedLayer) Entity(guid string) (*dc.Entity, error) {
	r, err := l.p.records.Get(guid)
	if r == nil || err != nil {
		return nil, err
	}
	return r.Confirmed, nil
}

func (p *planner) run(page []*dc.Event) (*PullPlan, error) {
	guids := make([]string, len(page))
	inPage := make(map[string]bool, len(page))
	for i, ev := range page {
		guids[i] = ev.GUID
		inPage[ev.GUID] = true
	}
	known, err := p.src.Events(guids)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, ev := range page {
		refs = append(refs, Refs(ev)...)
	}
	if err := p.records.Load(refs); err != nil {
		return nil, err
	}

	// 1. The page on the confirmed states, in sequence order.
	confirmed := NewWorking(confirmedLayer{p})
	pageTouch := map[string][]string{} // entity -> page events that changed it
	remote := map[string]bool{}
	for _, ev := range page {
		level := ev.SyncLevel
		if level == dc.Local || level == "" {
			level = dc.Synced
		}
		if k := known[ev.GUID]; k != nil {
			// The server's copy is the record (it stamps the user); the
			// local insertion order stays.
			own := ev.Clone()
			own.SyncLevel, own.LSeq, own.Failure = level, k.LSeq, nil
			p.plan.Confirmed = append(p.plan.Confirmed, own)
		} else {
			c := ev.Clone()
			c.SyncLevel = level
			p.plan.New = append(p.plan.New, c)
			remote[ev.GUID] = true
		}
		applied := ev.Clone()
		applied.SyncLevel = level
		audit, err := p.a.Apply(confirmed, applied)
		if err != nil {
			p.plan.Diverged = append(p.plan.Diverged, FailedEvent{Event: applied, Err: err})
			continue
		}
		if known[ev.GUID] == nil { // an own event's conflicts came with its push result
			p.plan.Conflicts += CountConflicts(audit)
		}
		for _, a := range audit {
			if t := pageTouch[a.EntityGUID]; len(t) == 0 || t[len(t)-1] != ev.GUID {
				pageTouch[a.EntityGUID] = append(t, ev.GUID)
			}
		}
		// An own event that changed nothing, or less than it did when it
		// was recorded (a conflict already settled, a member added to a
		// household deleted meanwhile), still leaves the pending lists of
		// every entity it could have touched.
		if known[ev.GUID] != nil {
			for _, g := range append(Refs(ev), p.a.NewGUIDs(ev)...) {
				if t := pageTouch[g]; len(t) == 0 || t[len(t)-1] != ev.GUID {
					pageTouch[g] = append(t, ev.GUID)
				}
			}
		}
	}

	// 2. Entities whose pending events the page consumed as a prefix keep
	// their current state; the others are rebased.
	touched := dc.SortedKeys(pageTouch)
	if err := p.records.Load(touched); err != nil {
		return nil, err
	}
	out := map[string]*dc.EntityRecord{}
	needs := map[string]bool{}
	for _, g := range touched {
		rec := p.records.Peek(g)
		var pend []string
		if rec != nil {
			pend = rec.Pending
		}
		pt := pageTouch[g]
		if isPrefix(pt, pend) {
			after, _ := confirmed.Get(g)
			nr := &dc.EntityRecord{GUID: g, Confirmed: after, Current: after, Pending: remaining(pend, inPage)}
			if len(nr.Pending) > 0 && rec != nil && rec.Current != nil {
				nr.Current = rec.Current.Clone()
			}
			out[g] = nr
			continue
		}
		needs[g] = true
	}
	if err := p.rebase(confirmed, needs, inPage, out); err != nil {
		return nil, err
	}
	p.write(out)
	return p.plan, nil
}

// rebase replays, in local order over the new confirmed states, every
// pending event of the entities in needs, growing needs until it holds every
// entity those events touch.
func (p *planner) rebase(confirmed *Working, needs map[string]bool, inPage map[string]bool, out map[string]*dc.EntityRecord) error {
	if len(needs) == 0 {
		return nil
	}
	events := map[string]*dc.Event{}
	for {
		// Close needs over the pending events' references.
		for grew := true; grew; {
			grew = false
			if err := p.records.Load(dc.SortedKeys(needs)); err != nil {
				return err
			}
			var want []string
			for _, g := range dc.SortedKeys(needs) {
				if r := p.records.Peek(g); r != nil {
					for _, e := range remaining(r.Pending, inPage) {
						if _, ok := events[e]; !ok {
							want = append(want, e)
						}
					}
				}
			}
			if len(want) == 0 {
				break
			}
			got, err := p.src.Events(want)
			if err != nil {
				return err
			}
			for _, e := range want {
				ev := got[e]
				events[e] = ev
				if ev == nil {
					continue
				}
				for _, h := range append(Refs(ev), p.a.NewGUIDs(ev)...) {
					if !needs[h] {
						needs[h] = true
						grew = true
					}
				}
			}
		}
		// Replay in local order.
		var order []*dc.Event
		for _, ev := range events {
			if ev != nil {
				order = append(order, ev)
			}
		}
		sort.Slice(order, func(i, j int) bool { return order[i].LSeq < order[j].LSeq })
		replay := NewWorking(confirmed)
		var failed []FailedEvent
		applied := map[string]bool{}
		escaped := false
		for _, ev := range order {
			if ev.Failure != nil {
				continue // refused: it no longer counts
			}
			audit, err := p.a.Apply(replay, ev.Clone())
			if err != nil {
				failed = append(failed, FailedEvent{Event: ev, Err: err})
				continue
			}
			applied[ev.GUID] = true
			for _, a := range audit {
				if !needs[a.EntityGUID] {
					needs[a.EntityGUID] = true
					escaped = true
				}
			}
		}
		if escaped {
			continue // an event reached an entity outside the set: widen it
		}
		p.plan.Failed = append(p.plan.Failed, failed...)
		for _, g := range dc.SortedKeys(needs) {
			rec := p.records.Peek(g)
			conf, err := confirmed.Get(g)
			if err != nil {
				return err
			}
			nr := &dc.EntityRecord{GUID: g, Confirmed: conf}
			if rec != nil {
				for _, e := range remaining(rec.Pending, inPage) {
					if applied[e] {
						nr.Pending = append(nr.Pending, e)
					}
				}
			}
			switch cur, _ := replay.Get(g); {
			case replay.Touched(g):
				nr.Current = cur
			case conf != nil:
				nr.Current = conf
			case rec != nil:
				// Nothing makes it any more (only refused or superseded
				// events did): the record goes, as on every other replica.
			default:
				continue
			}
			if rec == nil && !confirmed.Touched(g) && !replay.Touched(g) {
				continue
			}
			out[g] = nr
		}
		return nil
	}
}

// isPrefix reports whether page lists exactly the first len(page) entries
// of pending.
func isPrefix(page, pending []string) bool {
	if len(page) > len(pending) {
		return false
	}
	for i := range page {
		if page[i] != pending[i] {
			return false
		}
	}
	return true
}

// remaining returns pending without the guids in done.
func remaining(pending []string, done map[string]bool) []string {
	var out []string
	for _, g := range pending {
		if !done[g] {
			out = append(out, g)
		}
	}
	return out
}

// DivergedError is the error of a page whose confirmed events did not all
// apply here: EVERSION when one has a type this applier does not know (the
// server runs a newer version: update the app), else EINTERNAL. what names
// the operation (e.g. "pull").
func (p *PullPlan) DivergedError(what string) error {
	if len(p.Diverged) == 0 {
		return nil
	}
	for _, f := range p.Diverged {
		var u *unknownTypeError
		if errors.As(f.Err, &u) {
			return dc.Errorf(dc.EVERSION, "%s: the server sent an event of type %q, which this version of the app does not know: update the app",
				what, u.typ)
		}
	}
	return dc.Errorf(dc.EINTERNAL, "%s: %d confirmed events did not apply here (first: %v)", what, len(p.Diverged), p.Diverged[0].Err)
}
