package server

import (
	"context"
	"fmt"
	"sort"
	"strings"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/external"
)

// pull reads pages after the stored cursor until none is left; each page's
// records become events in one push, and the cursor is saved only after
// it.
func (r *extRun) pull(ctx context.Context) error {
	st, err := r.es.ExternalState(ctx, r.app)
	if err != nil {
		return err
	}
	cursor := st.PullCursor
	r.progress("pull", 0, 0)
	for {
		if err := r.renew(ctx); err != nil {
			return err
		}
		page, err := r.a.Pull(ctx, cursor, r.cfg.PageSize)
		if err != nil {
			r.s.metrics.externalPulled.WithLabelValues(external.Code(err)).Inc()
			return fmt.Errorf("pull: %w", err)
		}
		r.sum.Pulled += len(page.Records)
		r.s.metrics.externalPulled.WithLabelValues("ok").Add(float64(len(page.Records)))
		if err := r.applyPage(ctx, page.Records); err != nil {
			return err
		}
		if page.Next != cursor {
			if err := r.es.SetExternalPullCursor(ctx, r.app, page.Next); err != nil {
				return err
			}
			cursor = page.Next
		}
		r.progress("pull", r.sum.Pulled, 0)
		if !page.More || len(page.Records) == 0 {
			return nil
		}
	}
}

// pageState resolves records to entities while a page is turned into
// events: the entities created by earlier records of the page are not in
// the store yet.
type pageState struct {
	r       *extRun
	ctx     context.Context
	created map[string]string     // external id → guid of an entity the page creates
	ents    map[string]*dc.Entity // guid → entity read from the store
}

// byExternalID returns the guid of the entity linked to external id ext,
// or "".
func (p *pageState) byExternalID(ext string) (string, error) {
	if g := p.created[ext]; g != "" {
		return g, nil
	}
	if e, err := p.entity(p.r.newGUID(ext)); err != nil || e != nil {
		if e != nil {
			return e.GUID, nil
		}
		return "", err
	}
	e, err := p.r.es.EntityByExternalID(p.ctx, p.r.app, ext)
	if err != nil || e == nil {
		return "", err
	}
	p.ents[e.GUID] = e
	return e.GUID, nil
}

func (p *pageState) entity(guid string) (*dc.Entity, error) {
	if e, ok := p.ents[guid]; ok {
		return e, nil
	}
	e, err := p.r.s.store.Entity(p.ctx, p.r.app, guid)
	if err != nil {
		return nil, err
	}
	p.ents[guid] = e
	return e, nil
}

// newGUID is the guid of the entity a record created in the external
// system becomes: the same on every pull.
func (r *extRun) newGUID(ext string) string { return externalUUID("entity", r.app, r.cfg.Adapter, ext) }

// applyPage turns the page's records into events (individuals first, so a
// group finds the members of its page) and pushes them in one call.
func (r *extRun) applyPage(ctx context.Context, recs []*external.Record) error {
	sorted := append([]*external.Record(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return sorted[i].Type != dc.Group && sorted[j].Type == dc.Group
	})
	p := &pageState{r: r, ctx: ctx, created: map[string]string{}, ents: map[string]*dc.Entity{}}
	var events []*dc.Event
	owner := map[string]int{} // event guid → record index
	for i, rec := range sorted {
		evs, err := r.recordEvents(p, rec)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			owner[ev.GUID] = i
		}
		events = append(events, evs...)
	}
	if len(events) == 0 {
		return nil
	}
	results, err := r.s.Push(ctx, r.app, r.user, events)
	if err != nil {
		return err
	}
	applied := map[int]bool{}
	for _, res := range results {
		switch res.Status {
		case dc.PushAccepted, dc.PushConflict:
			applied[owner[res.GUID]] = true
		case dc.PushRejected:
			r.sum.note("record %s: event %s refused: %s %s", sorted[owner[res.GUID]].ExternalID, res.GUID, res.Code, res.Message)
		}
	}
	r.sum.Applied += len(applied)
	return nil
}

// recordEvents returns the events that bring the record's entity here up
// to the record: nothing for an echo of what the entity holds.
func (r *extRun) recordEvents(p *pageState, rec *external.Record) ([]*dc.Event, error) {
	if rec == nil || rec.ExternalID == "" {
		return nil, nil
	}
	data, err := dc.NormalizeMap(rec.Data)
	if err != nil {
		r.sum.note("record %s: %v", rec.ExternalID, err)
		return nil, nil
	}
	var e *dc.Entity
	if rec.GUID != "" {
		if e, err = p.entity(rec.GUID); err != nil {
			return nil, err
		}
	}
	if e == nil {
		g, err := p.byExternalID(rec.ExternalID)
		if err != nil {
			return nil, err
		}
		if g != "" && p.created[rec.ExternalID] == "" {
			if e, err = p.entity(g); err != nil {
				return nil, err
			}
		} else if g != "" {
			return nil, nil // a record twice in one page
		}
	}
	stamp := rec.UpdatedAt
	ts := dc.FormatTime(r.s.now())
	if t, err := dc.ParseTime(rec.UpdatedAt); err == nil {
		ts = dc.FormatTime(t)
	}
	mk := func(kind, entity, typ string, d map[string]any) *dc.Event {
		return &dc.Event{GUID: externalUUID(kind, r.app, r.cfg.Adapter, rec.ExternalID, stamp),
			EntityGUID: entity, Type: typ, Data: d, Timestamp: ts, SyncLevel: dc.Synced}
	}
	members, err := r.members(p, rec)
	if err != nil {
		return nil, err
	}
	if e == nil { // created in the external system
		guid := r.newGUID(rec.ExternalID)
		typ := core.CreateIndividual
		if rec.Type == dc.Group {
			typ = core.CreateGroup
			if len(members) > 0 {
				list := make([]any, len(members))
				for i, m := range members {
					list[i] = map[string]any{"guid": m}
				}
				data["members"] = list
			}
		}
		if len(data) == 0 {
			r.sum.note("record %s has no data", rec.ExternalID)
			return nil, nil
		}
		p.created[rec.ExternalID] = guid
		link := r.linkEvent(guid, rec.ExternalID, "pull "+stamp, r.s.now())
		link.Timestamp = ts
		return []*dc.Event{mk("create", guid, typ, data), link}, nil
	}
	if e.Deleted {
		r.sum.note("record %s: entity %s is deleted here", rec.ExternalID, e.GUID)
		return nil, nil
	}
	var out []*dc.Event
	diff := map[string]any{}
	for k, v := range data {
		if !sameValue(k, e.Data[k], v) {
			diff[k] = v
		}
	}
	if len(diff) > 0 {
		typ := core.UpdateIndividual
		if e.Type == dc.Group {
			typ = core.UpdateGroup
		}
		ev := mk("update", e.GUID, typ, diff)
		ev.BaseVersion = e.Version
		out = append(out, ev)
	}
	if e.Type == dc.Group && rec.Type == dc.Group {
		var add []any
		for _, m := range members {
			if !e.HasMember(m) && m != e.GUID {
				add = append(add, map[string]any{"guid": m})
			}
		}
		if len(add) > 0 {
			out = append(out, mk("add-member", e.GUID, core.AddMember, map[string]any{"members": add}))
		}
		// Members linked to the external system but no longer listed
		// there left the group; unlinked ones were never sent.
		keep := map[string]bool{}
		for _, m := range members {
			keep[m] = true
		}
		for _, m := range e.MemberIDs {
			me, err := p.entity(m)
			if err != nil {
				return nil, err
			}
			if me != nil && me.ExternalID != "" && !keep[m] {
				out = append(out, mk("remove-member:"+m, e.GUID, core.RemoveMember, map[string]any{"memberId": m}))
			}
		}
	}
	if len(out) > 0 || e.ExternalID != rec.ExternalID {
		link := r.linkEvent(e.GUID, rec.ExternalID, "pull "+stamp, r.s.now())
		link.Timestamp = ts
		out = append(out, link)
	}
	return out, nil
}

// members maps a group record's members to entity guids; members not known
// here are skipped with a note (they come with a later page, and the
// group's next change links them).
func (r *extRun) members(p *pageState, rec *external.Record) ([]string, error) {
	if rec.Type != dc.Group {
		return nil, nil
	}
	var out []string
	for _, m := range rec.MemberExternalIDs {
		g, err := p.byExternalID(m)
		if err != nil {
			return nil, err
		}
		if g == "" {
			r.sum.note("record %s: member %s is not known here yet", rec.ExternalID, m)
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

// sameValue compares a pulled value with the entity's leniently: numbers
// by value, the gender without case (OpenSPP capitalises it), strings
// without surrounding space.
func sameValue(key string, have, got any) bool {
	if dc.EqualValues(have, got) {
		return true
	}
	hs, ok1 := have.(string)
	gs, ok2 := got.(string)
	if !ok1 || !ok2 {
		return false
	}
	hs, gs = strings.TrimSpace(hs), strings.TrimSpace(gs)
	if key == "gender" {
		return strings.EqualFold(hs, gs)
	}
	return hs == gs
}
