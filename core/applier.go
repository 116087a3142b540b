// Package core is the pure, deterministic heart of DataCollect: the event
// applier shared by every replica (browser and server), and the sync
// decisions built on it. It does no I/O, reads no clock and never touches
// syscall/js: everything it needs comes in as arguments.
package core

import (
	"fmt"
	"slices"
	"strings"

	dc "github.com/datacollect/datacollect"
)

// EventType defines how one type of event is prepared and applied.
type EventType struct {
	// Prepare, if set, completes a new event before it is stored, e.g. by
	// giving new members guids. It runs once, on the device that records the
	// event, so that Apply is deterministic on every replica.
	Prepare func(ev *dc.Event, newGUID func() string) error
	// Apply validates ev against the current state and applies it to w. It
	// returns an *dc.Error with code EINVALID (or ENOTFOUND) when the event
	// cannot apply; the applier then rolls back everything it did.
	Apply func(w *Working, ev *dc.Event) error
	// Creates marks types that create their entity: a recorder may then
	// generate the entity guid when the caller gives none.
	Creates bool
	// EmptyData allows events of this type without data.
	EmptyData bool
	// Level, if set, is the sync level of the entities an event of this
	// type changes once the event is no longer LOCAL (link-external makes
	// its entity EXTERNAL).
	Level dc.SyncLevel
}

// Applier applies events to entities. One Applier holds the built-in event
// types and any custom ones registered from Go. It is safe for concurrent
// use once registration is done.
type Applier struct {
	types map[string]EventType
}

// NewApplier returns an Applier with the built-in event types.
func NewApplier() *Applier {
	a := &Applier{types: map[string]EventType{}}
	for name, t := range builtinTypes() {
		a.types[name] = t
	}
	return a
}

// Register adds a custom event type. It fails with EINVALID if the name is
// empty, already registered, or t has no Apply.
func (a *Applier) Register(name string, t EventType) error {
	if name == "" || t.Apply == nil {
		return dc.Errorf(dc.EINVALID, "event type needs a name and an Apply function")
	}
	if _, ok := a.types[name]; ok {
		return dc.Errorf(dc.EINVALID, "event type %q is already registered", name)
	}
	a.types[name] = t
	return nil
}

// Types returns the registered type names, sorted.
func (a *Applier) Types() []string {
	return dc.SortedKeys(a.types)
}

// Known reports whether typ is registered.
func (a *Applier) Known(typ string) bool {
	_, ok := a.types[typ]
	return ok
}

// Prepare validates the envelope of a new event (guid, entity, type,
// timestamp, data) and runs its type's Prepare. It normalises Data.
func (a *Applier) Prepare(ev *dc.Event, newGUID func() string) error {
	t, err := a.check(ev)
	if err != nil {
		return err
	}
	if t.Prepare != nil {
		if err := t.Prepare(ev, newGUID); err != nil {
			return err
		}
	}
	return nil
}

func (a *Applier) check(ev *dc.Event) (EventType, error) {
	t, ok := a.types[ev.Type]
	switch {
	case ev.Type == "":
		return t, dc.Errorf(dc.EINVALID, "event has no type")
	case !ok:
		return t, unknownType(ev.Type)
	case ev.GUID == "":
		return t, dc.Errorf(dc.EINVALID, "event has no guid")
	case ev.EntityGUID == "":
		return t, dc.Errorf(dc.EINVALID, "%s event has no entityGuid", ev.Type)
	case !ev.SyncLevel.Valid():
		return t, dc.Errorf(dc.EINVALID, "event has an invalid syncLevel %q", ev.SyncLevel)
	case len(ev.Data) == 0 && !t.EmptyData:
		return t, dc.Errorf(dc.EINVALID, "%s event has no data", ev.Type)
	}
	if _, err := dc.ParseTime(ev.Timestamp); err != nil {
		return t, err
	}
	data, err := dc.NormalizeMap(ev.Data)
	if err != nil {
		return t, err
	}
	ev.Data = data
	return t, nil
}

// Apply applies ev to w: it validates the event, runs its type's Apply, then
// stamps every entity it changed with a new version, the event's timestamp
// and sync level. On error nothing in w changes. It returns the audit
// entries describing the change, one per entity changed.
func (a *Applier) Apply(w *Working, ev *dc.Event) ([]*dc.AuditEntry, error) {
	t, err := a.check(ev)
	if err != nil {
		return nil, err
	}
	w.begin()
	if err := t.Apply(w, ev); err != nil {
		w.rollback()
		return nil, err
	}
	changes := w.eventChanges()
	audit := make([]*dc.AuditEntry, 0, len(changes))
	for _, ch := range changes {
		g := ch.guid
		e := w.slots[g].cur
		if e == nil {
			continue
		}
		before := ch.prev
		if before != nil {
			e.Version = before.Version + 1
		} else {
			e.Version = 1
		}
		e.LastUpdated = ev.Timestamp
		e.SyncLevel = ev.SyncLevel
		if t.Level != "" && ev.SyncLevel != dc.Local {
			e.SyncLevel = t.Level
		}
		audit = append(audit, &dc.AuditEntry{
			GUID:       ev.GUID + ":" + g,
			Timestamp:  ev.Timestamp,
			UserID:     ev.UserID,
			Action:     ev.Type,
			EventGUID:  ev.GUID,
			EntityGUID: g,
			Changes:    Diff(before, e),
		})
	}
	for _, n := range w.notes {
		audit = append(audit, &dc.AuditEntry{
			GUID:       ev.GUID + ":conflict:" + n.entity + ":" + n.field,
			Timestamp:  ev.Timestamp,
			UserID:     ev.UserID,
			Action:     AuditConflict,
			EventGUID:  ev.GUID,
			EntityGUID: n.entity,
			Changes: []dc.FieldChange{
				{Field: n.field, Old: n.current, New: n.incoming},
				{Field: n.field + " (kept)", Old: nil, New: n.result},
			},
		})
	}
	w.journal, w.notes = w.journal[:0], w.notes[:0]
	return audit, nil
}

// CountConflicts returns how many of an Apply's audit entries record
// conflicts.
func CountConflicts(audit []*dc.AuditEntry) int {
	n := 0
	for _, a := range audit {
		if a.Action == AuditConflict {
			n++
		}
	}
	return n
}

// Diff lists the fields that differ between two states of an entity (before
// may be nil), sorted by field name. Member lists and the tombstone appear as
// the fields "memberIds" and "deleted".
func Diff(before, after *dc.Entity) []dc.FieldChange {
	var out []dc.FieldChange
	var bd map[string]any
	if before != nil {
		bd = before.Data
	}
	if len(bd) == 0 {
		// A creation: every field is new (one pass over the map: lookups
		// are costly in WebAssembly).
		out = make([]dc.FieldChange, 0, len(after.Data)+1)
		for k, v := range after.Data {
			out = append(out, dc.FieldChange{Field: k, New: v})
		}
		slices.SortFunc(out, func(a, b dc.FieldChange) int { return strings.Compare(a.Field, b.Field) })
		return appendStructural(out, before, after)
	}
	keys := map[string]bool{}
	for k := range bd {
		keys[k] = true
	}
	for k := range after.Data {
		keys[k] = true
	}
	for _, k := range dc.SortedKeys(keys) {
		o, n := bd[k], after.Data[k]
		if !dc.EqualValues(o, n) {
			out = append(out, dc.FieldChange{Field: k, Old: o, New: n})
		}
	}
	return appendStructural(out, before, after)
}

// appendStructural adds the member list and tombstone changes, keeping out
// sorted by field.
func appendStructural(out []dc.FieldChange, before, after *dc.Entity) []dc.FieldChange {
	var bm []string
	bdel := false
	if before != nil {
		bm, bdel = before.MemberIDs, before.Deleted
	}
	if !equalStrings(bm, after.MemberIDs) {
		out = append(out, dc.FieldChange{Field: "memberIds", Old: stringsAny(bm), New: stringsAny(after.MemberIDs)})
	}
	if bdel != after.Deleted {
		out = append(out, dc.FieldChange{Field: "deleted", Old: bdel, New: after.Deleted})
	}
	slices.SortStableFunc(out, func(a, b dc.FieldChange) int { return strings.Compare(a.Field, b.Field) })
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func stringsAny(s []string) any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Refs returns the entity guids an event refers to (its entity, its members,
// the entity it resolves a duplicate with), so a caller can load them in one
// read before applying. Applying may still read more (cascades).
func Refs(ev *dc.Event) []string {
	refs := []string{ev.EntityGUID}
	var walk func(members any)
	walk = func(members any) {
		list, _ := members.([]any)
		for _, m := range list {
			if mm, ok := m.(map[string]any); ok {
				if g, ok := mm["guid"].(string); ok && g != "" {
					refs = append(refs, g)
				}
				walk(mm["members"])
			}
		}
	}
	walk(ev.Data["members"])
	for _, k := range []string{"memberId", "duplicateGuid"} {
		if g, ok := ev.Data[k].(string); ok && g != "" {
			refs = append(refs, g)
		}
	}
	return refs
}

// NewGUIDs returns the entity guids that ev creates if it applies: the
// entity of a creating type, and every member given with fields (a bare
// {guid} links an existing entity instead). A recorder may assume these are
// absent without reading them, as long as its commit fails if one exists.
func (a *Applier) NewGUIDs(ev *dc.Event) []string {
	var out []string
	if a.Creates(ev.Type) {
		out = append(out, ev.EntityGUID)
	}
	var walk func(members any)
	walk = func(members any) {
		list, _ := members.([]any)
		for _, m := range list {
			mm, ok := m.(map[string]any)
			if !ok {
				continue
			}
			g, _ := mm["guid"].(string)
			bare := true
			for k := range mm {
				if k != "guid" {
					bare = false
					break
				}
			}
			if g != "" && !bare {
				out = append(out, g)
			}
			walk(mm["members"])
		}
	}
	walk(ev.Data["members"])
	return out
}

func invalid(ev *dc.Event, format string, args ...any) error {
	return dc.Errorf(dc.EINVALID, "%s %s: %s", ev.Type, ev.GUID, fmt.Sprintf(format, args...))
}

// unknownTypeError is the EINVALID error of an event whose type is not
// registered; PullPlan.DivergedError tells it from other failures.
type unknownTypeError struct {
	err *dc.Error
	typ string
}

func (e *unknownTypeError) Error() string { return e.err.Error() }
func (e *unknownTypeError) Unwrap() error { return e.err }

func unknownType(typ string) error {
	return &unknownTypeError{err: dc.Errorf(dc.EINVALID, "unknown event type %q", typ), typ: typ}
}
