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
//
// Entities in the overlay are never modified in place: Get returns copies,
// Put stores a new value. (Maps are costly in WebAssembly, where Go hashes
// strings in software, so the overlay keeps one map.)
type Working struct {
	base    Entities
	slots   map[string]*slot
	touched []string // guids changed, in first-change order
	journal []undo   // changes of the event being applied
	notes   []conflictNote
}

// conflictNote is a conflict met by the event being applied.
type conflictNote struct {
	entity, field             string
	current, incoming, result any
}

// conflict records a conflict the event being applied met on a field of
// an entity: the value there, the event's, and the one kept.
func (w *Working) conflict(entity, field string, current, incoming, result any) {
	w.notes = append(w.notes, conflictNote{entity, field, dc.CloneValue(current), dc.CloneValue(incoming), dc.CloneValue(result)})
}

type slot struct {
	cur     *dc.Entity // nil: does not exist
	before  *dc.Entity // state when first loaded
	changed bool
}

type undo struct {
	guid    string
	prev    *dc.Entity
	changed bool // whether guid was already changed before
}

// NewWorking returns an empty overlay over base.
func NewWorking(base Entities) *Working {
	return &Working{base: base, slots: map[string]*slot{}}
}

// Get returns a copy of the entity's current state in the overlay, or nil if
// it does not exist. Mutating the copy changes nothing until Put.
func (w *Working) Get(guid string) (*dc.Entity, error) {
	e, err := w.Peek(guid)
	if err != nil {
		return nil, err
	}
	return e.Clone(), nil
}

// Peek returns the entity's current state in the overlay without copying
// it: the caller must not modify it.
func (w *Working) Peek(guid string) (*dc.Entity, error) {
	s, err := w.slot(guid)
	if err != nil {
		return nil, err
	}
	return s.cur, nil
}

func (w *Working) slot(guid string) (*slot, error) {
	if s, ok := w.slots[guid]; ok {
		return s, nil
	}
	e, err := w.base.Entity(guid)
	if err != nil {
		return nil, err
	}
	// The base's entity is shared, never modified: Put replaces it.
	s := &slot{cur: e, before: e}
	w.slots[guid] = s
	return s, nil
}

// Put sets the entity's new state in the overlay. It takes ownership of e:
// the caller must not modify e afterwards (Get returns copies to modify).
func (w *Working) Put(e *dc.Entity) error {
	s, err := w.slot(e.GUID)
	if err != nil {
		return err
	}
	w.journal = append(w.journal, undo{guid: e.GUID, prev: s.cur, changed: s.changed})
	s.cur = e
	if !s.changed {
		s.changed = true
		w.touched = append(w.touched, e.GUID)
	}
	return nil
}

// begin starts a new event's journal.
func (w *Working) begin() { w.journal, w.notes = w.journal[:0], w.notes[:0] }

// rollback undoes every Put since begin.
func (w *Working) rollback() {
	for i := len(w.journal) - 1; i >= 0; i-- {
		u := w.journal[i]
		s := w.slots[u.guid]
		s.cur = u.prev
		if !u.changed && s.changed {
			s.changed = false
			w.touched = w.touched[:len(w.touched)-1]
		}
	}
	w.journal, w.notes = w.journal[:0], w.notes[:0]
}

// eventChange is an entity the event being applied changed, and its state
// before the event.
type eventChange struct {
	guid string
	prev *dc.Entity
}

// eventChanges returns the distinct guids Put since begin, in order, with
// the state each had before this event.
func (w *Working) eventChanges() []eventChange {
	out := make([]eventChange, 0, len(w.journal))
	for _, u := range w.journal {
		dup := false
		for _, c := range out {
			if c.guid == u.guid {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, eventChange{guid: u.guid, prev: u.prev})
		}
	}
	return out
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
		s := w.slots[g]
		out = append(out, Change{Before: s.before, After: s.cur})
	}
	return out
}

// Entity implements Entities, so that one overlay can be the base of
// another (pending events replayed over confirmed state).
func (w *Working) Entity(guid string) (*dc.Entity, error) { return w.Peek(guid) }

// Touched reports whether the overlay changed guid.
func (w *Working) Touched(guid string) bool {
	s, ok := w.slots[guid]
	return ok && s.changed
}
