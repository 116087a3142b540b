package core

import (
	"reflect"

	dc "github.com/datacollect/datacollect"
)

// Conflicts. The order of record is the server's sequence: every replica
// applies the confirmed events in that order, then its own pending events on
// top. Two events on one entity are concurrent when neither saw the other
// (Concurrent). When an event writes a field that a concurrent event wrote
// before it in that order, the event's strategy decides (the same way on
// every replica, so they all agree):
//
//   - merge (the default): fields written on one side only simply merge; a
//     field written on both sides goes to its resolver: "lww" (the default:
//     Later wins), "max", "min" (numbers) or "union" (lists).
//   - lww: the whole event wins or loses against the entity's last
//     concurrent update, by Later.
//   - manual: as merge with "lww", and the conflict stays open on the entity
//     (dc.Entity.Conflicts) until a resolve-conflict event settles it.
//
// A delete and a concurrent edit: the later one (Later) wins; a losing edit
// of a deleted entity changes nothing, a winning one brings it back.
// Every conflict met is audited (action "conflict").

// ResolveConflict is the event type that settles an open conflict:
// data {conflictId, value} (value null removes the field; for the field
// "deleted" it is true or false).
const ResolveConflict = "resolve-conflict"

// AuditConflict is the audit action of a conflict met while applying an
// event.
const AuditConflict = "conflict"

// Stamp returns the stamp an event leaves on what it writes.
func Stamp(ev *dc.Event) dc.Stamp {
	return dc.Stamp{HLC: hlcOf(ev), Event: ev.GUID, Device: ev.Device, Seq: ev.Seq, Base: ev.BaseVersion}
}

// Concurrent reports whether ev did not see the write stamped w: w was
// recorded on another device and was not yet confirmed (Seq <= ev.BaseSeq)
// when ev's device recorded ev. Writes of one device are never concurrent
// with each other (its events reach the server in the order it recorded
// them), and neither are events of devices that record no origin.
func Concurrent(ev *dc.Event, w dc.Stamp) bool {
	switch {
	case w.Event == "" || w.Event == ev.GUID:
		return false
	case w.Device == "" || ev.Device == "" || w.Device == ev.Device:
		return false
	case w.Seq > 0 && w.Seq <= ev.BaseSeq:
		return false
	}
	return true
}

// Later reports whether a wins over b by last-writer-wins: the later clock
// stamp, then the higher base version (it saw more), then the greater event
// guid (a deterministic tie-break).
func Later(a, b dc.Stamp) bool {
	if a.HLC != b.HLC {
		return a.HLC > b.HLC
	}
	if a.Base != b.Base {
		return a.Base > b.Base
	}
	return a.Event > b.Event
}

// strategy returns ev's conflict strategy.
func strategy(ev *dc.Event) string {
	switch ev.Strategy {
	case dc.StrategyLWW, dc.StrategyManual:
		return ev.Strategy
	}
	return dc.StrategyMerge
}

func setStamp(e *dc.Entity, key string, s dc.Stamp) {
	if e.Stamps == nil {
		e.Stamps = map[string]dc.Stamp{}
	}
	e.Stamps[key] = s
}

// writeField writes value (nil removes) to field k of e on behalf of ev,
// resolving a conflict with a concurrent earlier write.
func writeField(w *Working, ev *dc.Event, e *dc.Entity, k string, value any) {
	cur := e.Stamps[k]
	mine := Stamp(ev)
	old, had := e.Data[k]
	if !had {
		old = nil
	}
	if !Concurrent(ev, cur) {
		setValue(e, k, value)
		setStamp(e, k, mine)
		dropConflicts(e, k) // a write that saw the conflict settles it
		return
	}
	resolver := "lww"
	if r := ev.Resolvers[k]; r != "" && strategy(ev) == dc.StrategyMerge {
		resolver = r
	}
	win := Later(mine, cur)
	result, ok := resolve(resolver, old, value, win)
	if !ok { // the resolver does not apply to these values
		result = old
		if win {
			result = value
		}
	}
	winner := cur
	if win {
		winner = mine
	}
	w.conflict(e.GUID, k, old, value, result)
	if strategy(ev) == dc.StrategyManual {
		openConflict(e, ev, k, cur, old, value)
	}
	setValue(e, k, result)
	setStamp(e, k, winner)
}

// resolve merges two concurrent values of a field: old (already there) and
// value (the incoming event's); win says whether the incoming event is
// Later.
func resolve(resolver string, old, value any, win bool) (any, bool) {
	switch resolver {
	case "lww":
		if win {
			return value, true
		}
		return old, true
	case "max", "min":
		a, okA := old.(float64)
		b, okB := value.(float64)
		if !okA || !okB {
			return nil, false
		}
		if (resolver == "max") == (b > a) {
			return b, true
		}
		return a, true
	case "union":
		a, okA := old.([]any)
		b, okB := value.([]any)
		if !okA || !okB {
			return nil, false
		}
		out := append([]any(nil), a...)
		for _, x := range b {
			if !containsValue(out, x) {
				out = append(out, dc.CloneValue(x))
			}
		}
		return out, true
	}
	return nil, false
}

func containsValue(list []any, x any) bool {
	for _, y := range list {
		if reflect.DeepEqual(x, y) {
			return true
		}
	}
	return false
}

func setValue(e *dc.Entity, k string, v any) {
	if v == nil {
		delete(e.Data, k)
		return
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	e.Data[k] = dc.CloneValue(v)
}

// openConflict records an open conflict of the manual strategy on e,
// replacing an older one of the same field.
func openConflict(e *dc.Entity, ev *dc.Event, k string, cur dc.Stamp, old, value any) {
	dropConflicts(e, k)
	e.Conflicts = append(e.Conflicts, dc.Conflict{
		ID: ev.GUID + ":" + k, Field: k,
		Current:  dc.ConflictSide{Value: dc.CloneValue(old), Event: cur.Event, Device: cur.Device, HLC: cur.HLC},
		Incoming: dc.ConflictSide{Value: dc.CloneValue(value), Event: ev.GUID, Device: ev.Device, HLC: hlcOf(ev)},
	})
}

func dropConflicts(e *dc.Entity, k string) {
	if len(e.Conflicts) == 0 {
		return
	}
	kept := e.Conflicts[:0:0]
	for _, c := range e.Conflicts {
		if c.Field != k {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	e.Conflicts = kept
}

// deletedConflict handles an event that meets a concurrent delete or
// edit: ev (a delete or an edit) against the stamp other of the opposite
// kind. It returns whether ev wins, after recording the conflict.
func deletedConflict(w *Working, ev *dc.Event, e *dc.Entity, other dc.Stamp, deleting bool) bool {
	win := Later(Stamp(ev), other)
	before, after := !deleting, deleting
	result := before
	if win {
		result = after
	}
	w.conflict(e.GUID, "deleted", before, after, result)
	if strategy(ev) == dc.StrategyManual {
		openConflict(e, ev, "deleted", other, before, after)
	}
	return win
}

// applyResolveConflict settles an open conflict: the field gets the
// resolution's value. A conflict that is no longer open (another device
// settled it first, in the order of record) is left alone.
func applyResolveConflict(w *Working, ev *dc.Event) error {
	e, err := w.Get(ev.EntityGUID)
	if err != nil {
		return err
	}
	if e == nil {
		return dc.Errorf(dc.ENOTFOUND, "%s %s: entity %s does not exist", ev.Type, ev.GUID, ev.EntityGUID)
	}
	id, _ := ev.Data["conflictId"].(string)
	if id == "" {
		return invalid(ev, "data.conflictId is required")
	}
	var c *dc.Conflict
	for i := range e.Conflicts {
		if e.Conflicts[i].ID == id {
			c = &e.Conflicts[i]
		}
	}
	if c == nil {
		return nil // already settled
	}
	field, value := c.Field, ev.Data["value"]
	dropConflicts(e, field)
	if field == "deleted" {
		del, ok := value.(bool)
		if !ok {
			return invalid(ev, "the value of a deleted conflict must be true or false")
		}
		e.Deleted = del
		setStamp(e, "deleted", Stamp(ev))
		return w.Put(e)
	}
	setValue(e, field, value)
	setStamp(e, field, Stamp(ev))
	return w.Put(e)
}
