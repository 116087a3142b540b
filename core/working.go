package core

import (
	dc "github.com/datacollect/datacollect"
)

// Entities is where a Working set reads entities it has not seen yet. It
// returns nil, nil for an entity that does not exist. Implementations may do
// I/O (a store read); the core itself never does.
type Entities interface {
	Entity(guid string) (*dc.Entity, error)
}

// MapEntities is an Entities backed by a map (missing keys are absent).
type MapEntities map[string]*dc.Entity

// Entity implements Entities.
func (m MapEntities) Entity(guid string) (*dc.Entity, error) { return m[guid], nil }

// Working is a copy-on-write overlay of entities that events are applied to.
// It records, per entity, the state before the first change, so that the
// caller can write exactly what changed and audit it. An event whose
// application fails is rolled back entirely.
type Working struct {
	base    Entities
	cur     map[string]*dc.Entity // nil value: known not to exist
	before  map[string]*dc.Entity // state when first loaded (nil: absent)
	touched []string              // guids changed, in first-change order
	changed map[string]bool
	journal []undo // changes of the event being applied
}

type undo struct {
	guid    string
	prev    *dc.Entity
	changed bool // whether guid was already in changed before
}

// NewWorking returns an empty overlay over base.
func NewWorking(base Entities) *Working {
	return &Working{
		base:    base,
		cur:     map[string]*dc.Entity{},
		before:  map[string]*dc.Entity{},
		changed: map[string]bool{},
	}
}

// Get returns a copy of the entity's current state in the overlay, or nil if
// it does not exist. Mutating the copy changes nothing until Put.
func (w *Working) Get(guid string) (*dc.Entity, error) {
	e, err := w.load(guid)
	if err != nil {
		return nil, err
	}
	return e.Clone(), nil
}

func (w *Working) load(guid string) (*dc.Entity, error) {
	if e, ok := w.cur[guid]; ok {
		return e, nil
	}
	e, err := w.base.Entity(guid)
	if err != nil {
		return nil, err
	}
	e = e.Clone()
	w.cur[guid] = e
	w.before[guid] = e.Clone()
	return e, nil
}

// Put sets the entity's new state in the overlay. It takes ownership of e:
// the caller must not modify e afterwards (Get returns copies to modify).
func (w *Working) Put(e *dc.Entity) error {
	prev, err := w.load(e.GUID)
	if err != nil {
		return err
	}
	w.journal = append(w.journal, undo{guid: e.GUID, prev: prev, changed: w.changed[e.GUID]})
	w.cur[e.GUID] = e
	if !w.changed[e.GUID] {
		w.changed[e.GUID] = true
		w.touched = append(w.touched, e.GUID)
	}
	return nil
}

// begin starts a new event's journal.
func (w *Working) begin() { w.journal = w.journal[:0] }

// rollback undoes every Put since begin.
func (w *Working) rollback() {
	for i := len(w.journal) - 1; i >= 0; i-- {
		u := w.journal[i]
		w.cur[u.guid] = u.prev
		if !u.changed && w.changed[u.guid] {
			delete(w.changed, u.guid)
			w.touched = w.touched[:len(w.touched)-1]
		}
	}
	w.journal = w.journal[:0]
}

// eventChanges returns the distinct guids Put since begin, in order, with the
// state each had before this event.
func (w *Working) eventChanges() (guids []string, prev map[string]*dc.Entity) {
	prev = map[string]*dc.Entity{}
	for _, u := range w.journal {
		if _, ok := prev[u.guid]; !ok {
			prev[u.guid] = u.prev
			guids = append(guids, u.guid)
		}
	}
	return guids, prev
}

// Change is an entity's state before the overlay changed it (nil if it did
// not exist) and after.
type Change struct {
	Before *dc.Entity
	After  *dc.Entity
}

// Changes returns every changed entity, in first-change order.
func (w *Working) Changes() []Change {
	out := make([]Change, 0, len(w.touched))
	for _, g := range w.touched {
		out = append(out, Change{Before: w.before[g], After: w.cur[g]})
	}
	return out
}

// Entity implements Entities, so that one overlay can be the base of
// another (pending events replayed over confirmed state).
func (w *Working) Entity(guid string) (*dc.Entity, error) { return w.Get(guid) }

// Touched reports whether the overlay changed guid.
func (w *Working) Touched(guid string) bool { return w.changed[guid] }
