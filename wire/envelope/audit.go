package envelope

import (
	"context"

	dc "github.com/datacollect/datacollect"
)

// Audit entries travel with the events they record (PullResponse.Audit),
// and their field changes hold the same personal data as the events'.
// They are sealed the same way: the envelope of an entry's Changes is the
// envelope of a pseudo-event whose Data is {"changes": [{field, old, new},
// ...]}, GUID the entry's guid, EntityGUID its entity and Type
// "audit:"+Action, so that an entry's changes cannot be moved to another
// entry, entity or action, nor mistaken for an event's data.

const auditType = "audit:"

func auditEvent(a *dc.AuditEntry) *dc.Event {
	return &dc.Event{GUID: a.GUID, EntityGUID: a.EntityGUID, Type: auditType + a.Action}
}

// SealAudit returns entries with their Changes sealed (shallow copies,
// SealedChanges set and Changes nil); entries is not changed. Entries
// without changes and nil ones are passed as they are.
func (c *Codec) SealAudit(ctx context.Context, entries []*dc.AuditEntry) ([]*dc.AuditEntry, error) {
	out := make([]*dc.AuditEntry, len(entries))
	var evs []*dc.Event
	var idx []int
	for i, a := range entries {
		out[i] = a
		if a == nil || len(a.Changes) == 0 || len(a.SealedChanges) > 0 {
			continue
		}
		list := make([]any, len(a.Changes))
		for j, ch := range a.Changes {
			list[j] = map[string]any{"field": ch.Field, "old": ch.Old, "new": ch.New}
		}
		ev := auditEvent(a)
		ev.Data = map[string]any{"changes": list}
		evs = append(evs, ev)
		idx = append(idx, i)
	}
	if len(evs) == 0 {
		return out, nil
	}
	sealed, err := c.SealEvents(ctx, evs)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		cp := *entries[i]
		cp.SealedChanges, cp.Changes = sealed[j].Sealed, nil
		out[i] = &cp
	}
	return out, nil
}

// OpenAudit opens, in place, the sealed changes of entries. An envelope
// that fails is ECRYPTO, and then no entry is changed.
func (c *Codec) OpenAudit(ctx context.Context, entries []*dc.AuditEntry) error {
	var evs []*dc.Event
	var idx []int
	for i, a := range entries {
		if a == nil || len(a.SealedChanges) == 0 {
			continue
		}
		if len(a.Changes) != 0 {
			return dc.Errorf(ECRYPTO, "audit entry %d (%s): sealed changes must not come with plain ones", i, a.GUID)
		}
		ev := auditEvent(a)
		ev.Sealed = a.SealedChanges
		evs = append(evs, ev)
		idx = append(idx, i)
	}
	if len(evs) == 0 {
		return nil
	}
	if err := c.OpenEvents(ctx, evs); err != nil {
		return err
	}
	changes := make([][]dc.FieldChange, len(evs))
	for j, ev := range evs {
		list, ok := ev.Data["changes"].([]any)
		if !ok {
			return dc.Errorf(ECRYPTO, "audit entry %s: sealed changes are not a list", entries[idx[j]].GUID)
		}
		chs := make([]dc.FieldChange, len(list))
		for k, x := range list {
			m, ok := x.(map[string]any)
			f, _ := m["field"].(string)
			if !ok || f == "" {
				return dc.Errorf(ECRYPTO, "audit entry %s: a sealed change has no field", entries[idx[j]].GUID)
			}
			chs[k] = dc.FieldChange{Field: f, Old: m["old"], New: m["new"]}
		}
		changes[j] = chs
	}
	for j, i := range idx {
		entries[i].Changes, entries[i].SealedChanges = changes[j], nil
	}
	return nil
}
