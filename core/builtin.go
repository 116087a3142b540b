package core

import (
	dc "github.com/datacollect/datacollect"
)

// Built-in event type names.
const (
	CreateIndividual = "create-individual"
	UpdateIndividual = "update-individual"
	CreateGroup      = "create-group"
	UpdateGroup      = "update-group"
	AddMember        = "add-member"
	RemoveMember     = "remove-member"
	DeleteEntity     = "delete-entity"
	ResolveDuplicate = "resolve-duplicate"
)

func builtinTypes() map[string]EventType {
	return map[string]EventType{
		CreateIndividual: {Creates: true, Apply: applyCreateIndividual},
		UpdateIndividual: {Apply: updater(dc.Individual)},
		CreateGroup:      {Creates: true, Prepare: prepareMembers, Apply: applyCreateGroup},
		UpdateGroup:      {Apply: updater(dc.Group)},
		AddMember:        {Prepare: prepareMembers, Apply: applyAddMember},
		RemoveMember:     {Apply: applyRemoveMember},
		DeleteEntity:     {EmptyData: true, Apply: applyDelete},
		ResolveDuplicate: {Apply: applyResolveDuplicate},
		ResolveConflict:  {Apply: applyResolveConflict},
		LinkExternal:     linkExternalType,
	}
}

// Creates reports whether events of type typ create their entity.
func (a *Applier) Creates(typ string) bool { return a.types[typ].Creates }

// prepareMembers gives every new member (at any depth) a guid, so that every
// replica creates the same entities.
func prepareMembers(ev *dc.Event, newGUID func() string) error {
	_, ok := ev.Data["members"]
	if !ok {
		if ev.Type == AddMember {
			return invalid(ev, "data.members is required")
		}
		return nil
	}
	// Guids are written into the members: work on a copy of the caller's data.
	ev.Data = dc.CloneMap(ev.Data)
	return prepareList(ev, ev.Data["members"], newGUID, 0)
}

func prepareList(ev *dc.Event, raw any, newGUID func() string, depth int) error {
	list, ok := raw.([]any)
	if !ok {
		return invalid(ev, "members must be a list")
	}
	if ev.Type == AddMember && depth == 0 && len(list) == 0 {
		return invalid(ev, "data.members is empty")
	}
	for i, m := range list {
		mm, ok := m.(map[string]any)
		if !ok {
			return invalid(ev, "member %d is not an object", i)
		}
		if g, ok := mm["guid"]; !ok || g == "" {
			mm["guid"] = newGUID()
		}
		if sub, ok := mm["members"]; ok {
			if err := prepareList(ev, sub, newGUID, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func applyCreateIndividual(w *Working, ev *dc.Event) error {
	return create(w, ev, ev.EntityGUID, dc.Individual, ev.Data)
}

func applyCreateGroup(w *Working, ev *dc.Event) error {
	data := dc.CloneMap(ev.Data)
	members := data["members"]
	delete(data, "members")
	if err := create(w, ev, ev.EntityGUID, dc.Group, data); err != nil {
		return err
	}
	if members == nil {
		return nil
	}
	return addMembers(w, ev, ev.EntityGUID, members)
}

// create adds a new entity, failing with EEXISTS if the guid is taken.
func create(w *Working, ev *dc.Event, guid string, typ dc.EntityType, data map[string]any) error {
	old, err := w.Peek(guid)
	if err != nil {
		return err
	}
	if old != nil {
		return dc.Errorf(dc.EEXISTS, "%s %s: entity %s already exists", ev.Type, ev.GUID, guid)
	}
	// Event data are immutable once prepared, and the overlay never modifies
	// an entity in place: the new entity may share the event's data map.
	return w.Put(&dc.Entity{GUID: guid, Type: typ, Data: data})
}

// live returns an existing, not deleted entity of the given type.
func live(w *Working, ev *dc.Event, guid string, typ dc.EntityType) (*dc.Entity, error) {
	e, err := w.Get(guid)
	if err != nil {
		return nil, err
	}
	return checkLive(ev, e, guid, typ)
}

// checkLive checks that e (the entity guid, or nil) exists, is not deleted
// and is of type typ ("" for any).
func checkLive(ev *dc.Event, e *dc.Entity, guid string, typ dc.EntityType) (*dc.Entity, error) {
	if e == nil {
		return nil, dc.Errorf(dc.ENOTFOUND, "%s %s: entity %s does not exist", ev.Type, ev.GUID, guid)
	}
	if e.Deleted {
		return nil, invalid(ev, "entity %s is deleted", guid)
	}
	if typ != "" && e.Type != typ {
		return nil, invalid(ev, "entity %s is of type %s, not %s", guid, e.Type, typ)
	}
	return e, nil
}

// updater returns the Apply of update-individual / update-group: a delta
// merge where a null value removes the field, with conflicts resolved by the
// event's strategy (see conflict.go).
func updater(typ dc.EntityType) func(*Working, *dc.Event) error {
	return func(w *Working, ev *dc.Event) error {
		if _, ok := ev.Data["members"]; ok {
			return invalid(ev, "members cannot be updated; use add-member and remove-member")
		}
		e, lost, err := editable(w, ev, typ)
		if err != nil || lost {
			return err
		}
		if strategy(ev) == dc.StrategyLWW {
			// The whole event wins or loses against the last concurrent
			// update of the entity.
			if last := e.Stamps[""]; Concurrent(ev, last) && !Later(Stamp(ev), last) {
				for _, k := range dc.SortedKeys(ev.Data) {
					w.conflict(e.GUID, k, e.Data[k], ev.Data[k], e.Data[k])
				}
				return nil
			}
			for _, k := range dc.SortedKeys(ev.Data) {
				if cur := e.Stamps[k]; Concurrent(ev, cur) {
					w.conflict(e.GUID, k, e.Data[k], ev.Data[k], ev.Data[k])
				}
				setValue(e, k, ev.Data[k])
				setStamp(e, k, Stamp(ev))
			}
		} else {
			for _, k := range dc.SortedKeys(ev.Data) {
				writeField(w, ev, e, k, ev.Data[k])
			}
		}
		if last := e.Stamps[""]; !Concurrent(ev, last) || Later(Stamp(ev), last) {
			setStamp(e, "", Stamp(ev))
		}
		return w.Put(e)
	}
}

// editable returns the live entity ev edits. An edit of an entity deleted
// by a concurrent event is a conflict, the later one wins: a losing edit
// changes nothing (lost; under manual the conflict stays open), a winning
// one brings the entity back. An edit that saw the delete is refused.
func editable(w *Working, ev *dc.Event, typ dc.EntityType) (e *dc.Entity, lost bool, err error) {
	if e, err = w.Get(ev.EntityGUID); err != nil {
		return nil, false, err
	}
	if e != nil && e.Deleted {
		del := e.Stamps["deleted"]
		if !Concurrent(ev, del) {
			return nil, false, invalid(ev, "entity %s is deleted", e.GUID)
		}
		if !deletedConflict(w, ev, e, del, false) {
			if strategy(ev) == dc.StrategyManual {
				return nil, true, w.Put(e) // the open conflict
			}
			return nil, true, nil
		}
		e.Deleted = false
		setStamp(e, "deleted", Stamp(ev))
		if err := w.Put(e); err != nil {
			return nil, false, err
		}
	}
	e, err = checkLive(ev, e, ev.EntityGUID, typ)
	return e, false, err
}

func applyAddMember(w *Working, ev *dc.Event) error {
	if _, lost, err := editable(w, ev, dc.Group); err != nil || lost {
		return err
	}
	list, ok := ev.Data["members"].([]any)
	if !ok || len(list) == 0 {
		return invalid(ev, "data.members must be a non-empty list")
	}
	return addMembers(w, ev, ev.EntityGUID, list)
}

// addMembers creates (or links, for a bare {guid} of an existing entity)
// every member of the list and appends it to the group's members.
func addMembers(w *Working, ev *dc.Event, groupGUID string, raw any) error {
	list, ok := raw.([]any)
	if !ok {
		return invalid(ev, "members must be a list")
	}
	for i, m := range list {
		mm, ok := m.(map[string]any)
		if !ok {
			return invalid(ev, "member %d is not an object", i)
		}
		guid, _ := mm["guid"].(string)
		if guid == "" {
			return invalid(ev, "member %d has no guid", i)
		}
		if guid == groupGUID {
			return invalid(ev, "a group cannot be its own member")
		}
		typ := dc.Individual
		if t, ok := mm["type"]; ok {
			switch t {
			case string(dc.Individual):
			case string(dc.Group):
				typ = dc.Group
			default:
				return invalid(ev, "member %d has unknown type %v", i, t)
			}
		}
		data := map[string]any{}
		for k, v := range mm {
			if k != "guid" && k != "type" && k != "members" {
				data[k] = dc.CloneValue(v)
			}
		}
		existing, err := w.Get(guid)
		if err != nil {
			return err
		}
		switch {
		case existing != nil && len(data) > 0:
			return dc.Errorf(dc.EEXISTS, "%s %s: member %s already exists", ev.Type, ev.GUID, guid)
		case existing != nil:
			if existing.Deleted {
				return invalid(ev, "member %s is deleted", guid)
			}
			if existing.Type == dc.Group {
				if err := checkNoCycle(w, ev, groupGUID, guid); err != nil {
					return err
				}
			}
		case len(data) == 0 && mm["members"] == nil:
			return invalid(ev, "member %d has no data", i)
		default:
			if err := create(w, ev, guid, typ, data); err != nil {
				return err
			}
			if sub, ok := mm["members"]; ok {
				if typ != dc.Group {
					return invalid(ev, "member %d is of type individual but has members", i)
				}
				if err := addMembers(w, ev, guid, sub); err != nil {
					return err
				}
			}
		}
		g, err := w.Get(groupGUID)
		if err != nil {
			return err
		}
		if g.HasMember(guid) {
			continue
		}
		g.MemberIDs = append(g.MemberIDs, guid)
		if err := w.Put(g); err != nil {
			return err
		}
	}
	return nil
}

// checkNoCycle fails if group is reachable from member's sub-groups.
func checkNoCycle(w *Working, ev *dc.Event, group, member string) error {
	seen := map[string]bool{}
	stack := []string{member}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if g == group {
			return invalid(ev, "adding %s to %s would make a cycle", member, group)
		}
		if seen[g] {
			continue
		}
		seen[g] = true
		e, err := w.Get(g)
		if err != nil {
			return err
		}
		if e != nil && e.Type == dc.Group {
			stack = append(stack, e.MemberIDs...)
		}
	}
	return nil
}

func applyRemoveMember(w *Working, ev *dc.Event) error {
	g, lost, err := editable(w, ev, dc.Group)
	if err != nil || lost {
		return err
	}
	id, _ := ev.Data["memberId"].(string)
	if id == "" {
		return invalid(ev, "data.memberId is required")
	}
	if !g.HasMember(id) {
		return dc.Errorf(dc.ENOTFOUND, "%s %s: %s is not a member of %s", ev.Type, ev.GUID, id, g.GUID)
	}
	kept := g.MemberIDs[:0:0]
	for _, m := range g.MemberIDs {
		if m != id {
			kept = append(kept, m)
		}
	}
	g.MemberIDs = kept
	return w.Put(g)
}

// applyDelete tombstones the entity; a group's sub-groups cascade. A delete
// concurrent with a later edit loses (see conflict.go).
func applyDelete(w *Working, ev *dc.Event) error {
	root, err := live(w, ev, ev.EntityGUID, "")
	if err != nil {
		return err
	}
	if last := root.Stamps[""]; Concurrent(ev, last) && !deletedConflict(w, ev, root, last, true) {
		if strategy(ev) == dc.StrategyManual {
			return w.Put(root) // the open conflict
		}
		return nil
	}
	seen := map[string]bool{}
	stack := []string{ev.EntityGUID}
	for len(stack) > 0 {
		guid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[guid] {
			continue
		}
		seen[guid] = true
		e, err := w.Get(guid)
		if err != nil {
			return err
		}
		if e == nil || e.Deleted {
			continue
		}
		e.Deleted = true
		setStamp(e, "deleted", Stamp(ev))
		if guid == root.GUID {
			e.Conflicts = root.Conflicts
		}
		if err := w.Put(e); err != nil {
			return err
		}
		if e.Type == dc.Group {
			for i := len(e.MemberIDs) - 1; i >= 0; i-- {
				m, err := w.Get(e.MemberIDs[i])
				if err != nil {
					return err
				}
				if m != nil && m.Type == dc.Group {
					stack = append(stack, m.GUID)
				}
			}
		}
	}
	return nil
}

// applyResolveDuplicate resolves a potential duplicate pair: with action
// "merge" (the default) the entity keeps its fields, gains the fields only the
// duplicate has (and a group its members), and the duplicate becomes a
// tombstone whose data.mergedInto names the survivor; with "keep" both stay,
// each listing the other in Distinct, so the decision replicates and neither
// is flagged as a duplicate of the other again.
func applyResolveDuplicate(w *Working, ev *dc.Event) error {
	kept, err := live(w, ev, ev.EntityGUID, "")
	if err != nil {
		return err
	}
	dupGUID, _ := ev.Data["duplicateGuid"].(string)
	if dupGUID == "" || dupGUID == kept.GUID {
		return invalid(ev, "data.duplicateGuid must name another entity")
	}
	dup, err := live(w, ev, dupGUID, kept.Type)
	if err != nil {
		return err
	}
	action, _ := ev.Data["action"].(string)
	switch action {
	case "keep":
		declare := func(e *dc.Entity, other string) {
			for _, g := range e.Distinct {
				if g == other {
					return
				}
			}
			e.Distinct = append(e.Distinct, other)
		}
		declare(kept, dup.GUID)
		declare(dup, kept.GUID)
		if err := w.Put(kept); err != nil {
			return err
		}
		return w.Put(dup)
	case "", "merge":
	default:
		return invalid(ev, "data.action must be \"merge\" or \"keep\"")
	}
	if kept.Data == nil {
		kept.Data = map[string]any{}
	}
	for _, k := range dc.SortedKeys(dup.Data) {
		if _, ok := kept.Data[k]; !ok {
			kept.Data[k] = dc.CloneValue(dup.Data[k])
		}
	}
	for _, m := range dup.MemberIDs {
		if !kept.HasMember(m) && m != kept.GUID {
			kept.MemberIDs = append(kept.MemberIDs, m)
		}
	}
	if err := w.Put(kept); err != nil {
		return err
	}
	dup.Deleted = true
	if dup.Data == nil {
		dup.Data = map[string]any{}
	}
	dup.Data["mergedInto"] = kept.GUID
	return w.Put(dup)
}
