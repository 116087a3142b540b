package openspp

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
)

// Push upserts the entities as res.partner records, individuals (and any
// other non-group type) first, then groups, so that a group finds the
// external ids of members pushed in the same batch. Each entity is looked
// up first — by its ExternalID or by the guid field — and written when
// found, created otherwise, so a retry after a lost answer never creates a
// duplicate. A group's memberships and an entity's national ID are
// written in the same call as the partner (one Odoo transaction): the
// record is either fully written or not at all.
//
// Per-entity errors: EVALIDATION (refused by OpenSPP or not mappable),
// EACCESS, ENETWORK (retryable), EPENDING (retryable: a member is not in
// OpenSPP yet; push it first). EAUTH and ECONFIG are batch-wide: they
// fail the entities not yet pushed without further calls. A deleted
// entity (tombstone) is not sent: its result carries the ExternalID it
// has, if any.
func (a *Adapter) Push(ctx context.Context, entities []*dc.Entity, lookup external.Lookup) []external.PushResult {
	results := make([]external.PushResult, len(entities))
	for i, e := range entities {
		if e != nil {
			results[i].GUID = e.GUID
		}
	}
	order := make([]int, 0, len(entities))
	for i, e := range entities {
		if e != nil && e.Type != dc.Group {
			order = append(order, i)
		}
	}
	for i, e := range entities {
		if e == nil || e.Type == dc.Group {
			order = append(order, i)
		}
	}
	r, err := a.ready(ctx)
	if err != nil {
		fe := external.AsError(err)
		for i := range results {
			results[i].Err = fe
		}
		return results
	}
	known := map[string]string{} // guid → external id pushed in this batch
	var fatal *external.Error
	for _, i := range order {
		e := entities[i]
		switch {
		case fatal != nil:
			results[i].Err = fatal
			continue
		case ctx.Err() != nil:
			results[i].Err = external.Errorf(external.ENETWORK, "push: %v", ctx.Err())
			continue
		case e == nil:
			results[i].Err = external.Errorf(external.EVALIDATION, "nil entity")
			continue
		}
		ext, created, err := a.pushOne(ctx, e, r, known, lookup)
		if err != nil {
			results[i].Err = external.AsError(err)
			if c := results[i].Err.Code; c == external.EAUTH || c == external.ECONFIG {
				fatal = results[i].Err
			}
			continue
		}
		results[i].ExternalID, results[i].Created = ext, created
		if ext != "" {
			known[e.GUID] = ext
		}
	}
	return results
}

// existing is the remote state of a pushed entity.
type existing struct {
	id          int
	memberships map[int]int // individual partner id → membership id
	regIDs      map[int]int // id type id → reg id id
	regValues   map[int]string
}

// pushOne upserts one entity and returns its external id.
func (a *Adapter) pushOne(ctx context.Context, e *dc.Entity, r *refs, known map[string]string, lookup external.Lookup) (string, bool, error) {
	var members []int
	if e.Type == dc.Group && !e.Deleted {
		ids, err := a.memberIDs(ctx, e, known, lookup)
		if err != nil {
			return "", false, err
		}
		members = ids
	}
	vals, err := a.mapToExternal(e, r)
	if err != nil && !e.Deleted {
		if ee := external.AsError(err); ee.Code == external.EVALIDATION && r.genders != nil {
			if nr := a.refreshGenders(ctx, r); nr != r {
				vals, err = a.mapToExternal(e, nr)
				r = nr
			}
		}
		if err != nil {
			return "", false, err
		}
	}
	cur, err := a.find(ctx, e)
	if err != nil {
		return "", false, err
	}
	if e.Deleted {
		if cur == nil {
			return "", false, nil
		}
		return strconv.Itoa(cur.id), false, nil
	}
	if e.Type == dc.Group {
		vals["group_membership_ids"] = membershipCommands(cur, members)
	}
	if cmds := a.regIDCommands(e, r, cur); cmds != nil {
		vals["reg_ids"] = cmds
	}
	if cur == nil {
		res, err := a.c.execute(ctx, partnerModel, "create", []any{vals}, nil)
		if err != nil {
			return "", false, fmt.Errorf("create %s: %w", e.GUID, err)
		}
		id, ok := res.(int)
		if !ok {
			return "", false, external.Errorf(external.EREMOTE, "create %s: unexpected answer %v", e.GUID, res)
		}
		return strconv.Itoa(id), true, nil
	}
	if _, err := a.c.execute(ctx, partnerModel, "write", []any{[]int{cur.id}, vals}, nil); err != nil {
		return "", false, fmt.Errorf("write %s (res.partner %d): %w", e.GUID, cur.id, err)
	}
	return strconv.Itoa(cur.id), false, nil
}

// memberIDs resolves a group's members to partner ids: from this batch,
// from lookup, or else by the guid field in OpenSPP (a member pushed whose
// id was not recorded); it fails with EPENDING when one is not in OpenSPP
// yet. Deleted members are left out.
func (a *Adapter) memberIDs(ctx context.Context, e *dc.Entity, known map[string]string, lookup external.Lookup) ([]int, error) {
	exts := make([]string, len(e.MemberIDs))
	var missing []any
	for i, guid := range e.MemberIDs {
		ext := known[guid]
		if ext == "" && lookup != nil {
			if m, ok := lookup(guid); ok && m != nil {
				if m.Deleted {
					exts[i] = "-"
					continue
				}
				ext = m.ExternalID
			}
		}
		exts[i] = ext
		if ext == "" {
			missing = append(missing, guid)
		}
	}
	found := map[string]string{}
	if len(missing) > 0 {
		rows, err := a.c.searchRead(ctx, partnerModel, []any{[]any{a.guidField, "in", missing}}, []string{"id", a.guidField}, "id asc", 0)
		if err != nil {
			return nil, fmt.Errorf("look up members of %s: %w", e.GUID, err)
		}
		for _, r := range rows {
			if g := str(r[a.guidField]); found[g] == "" {
				id, _ := r["id"].(int)
				found[g] = strconv.Itoa(id)
			}
		}
	}
	var ids []int
	for i, guid := range e.MemberIDs {
		ext := exts[i]
		if ext == "-" {
			continue
		}
		if ext == "" {
			ext = found[guid]
		}
		if ext == "" {
			return nil, &external.Error{Code: external.EPENDING, Retryable: true,
				Message: fmt.Sprintf("group %s: member %s is not in OpenSPP yet (push it first)", e.GUID, guid)}
		}
		id, err := strconv.Atoi(ext)
		if err != nil || id <= 0 {
			return nil, external.Errorf(external.EVALIDATION, "group %s: member %s has external id %q, not an OpenSPP id", e.GUID, guid, ext)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// find looks the entity's partner up by ExternalID or guid field and
// reads its memberships and IDs; nil when there is none.
func (a *Adapter) find(ctx context.Context, e *dc.Entity) (*existing, error) {
	domain := []any{[]any{a.guidField, "=", e.GUID}}
	extID, _ := strconv.Atoi(e.ExternalID)
	if extID > 0 {
		domain = []any{"|", []any{"id", "=", extID}, []any{a.guidField, "=", e.GUID}}
	}
	// Archived records are found too: a push must not duplicate them.
	rows, err := a.c.searchRead(ctx, partnerModel, domain, []string{"id", "group_membership_ids", "reg_ids"}, "id asc", 0)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", e.GUID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	row := rows[0]
	for _, r := range rows {
		if id, _ := r["id"].(int); id == extID {
			row = r
		}
	}
	cur := &existing{memberships: map[int]int{}, regIDs: map[int]int{}, regValues: map[int]string{}}
	cur.id, _ = row["id"].(int)
	if ms := intList(row["group_membership_ids"]); len(ms) > 0 {
		mrows, err := a.c.read(ctx, membershipModel, ms, []string{"individual"})
		if err != nil {
			return nil, fmt.Errorf("read memberships of %s: %w", e.GUID, err)
		}
		for _, m := range mrows {
			mid, _ := m["id"].(int)
			cur.memberships[many2oneID(m["individual"])] = mid
		}
	}
	if rs := intList(row["reg_ids"]); len(rs) > 0 && e.Data[a.idKey] != nil {
		rrows, err := a.c.read(ctx, regIDModel, rs, []string{"id_type", "value"})
		if err != nil {
			return nil, fmt.Errorf("read IDs of %s: %w", e.GUID, err)
		}
		for _, rr := range rrows {
			rid, _ := rr["id"].(int)
			t := many2oneID(rr["id_type"])
			cur.regIDs[t] = rid
			cur.regValues[t] = str(rr["value"])
		}
	}
	return cur, nil
}

// membershipCommands returns the one2many commands making the group's
// members exactly members: [0,0,{individual}] for new members, [2,id]
// (delete the membership) for members no longer in the group.
func membershipCommands(cur *existing, members []int) []any {
	cmds := []any{}
	var have map[int]int
	if cur != nil {
		have = cur.memberships
	}
	for _, m := range members {
		if _, ok := have[m]; !ok {
			cmds = append(cmds, []any{0, 0, map[string]any{"individual": m}})
		}
	}
	ind := make([]int, 0, len(have))
	for i := range have {
		ind = append(ind, i)
	}
	slices.Sort(ind)
	for _, i := range ind {
		if !slices.Contains(members, i) {
			cmds = append(cmds, []any{2, have[i], 0})
		}
	}
	return cmds
}

// regIDCommands returns the reg_ids commands writing the national ID, or
// nil when there is nothing to write.
func (a *Adapter) regIDCommands(e *dc.Entity, r *refs, cur *existing) []any {
	v, ok := e.Data[a.idKey]
	if !ok || v == nil || r.idTypeID == 0 {
		return nil
	}
	value := fmt.Sprint(v)
	if value == "" {
		return nil
	}
	if cur != nil {
		if rid, ok := cur.regIDs[r.idTypeID]; ok {
			if cur.regValues[r.idTypeID] == value {
				return nil
			}
			return []any{[]any{1, rid, map[string]any{"value": value}}}
		}
	}
	return []any{[]any{0, 0, map[string]any{"id_type": r.idTypeID, "value": value}}}
}

func intList(v any) []int {
	l, _ := v.([]any)
	out := make([]int, 0, len(l))
	for _, x := range l {
		if n, ok := x.(int); ok {
			out = append(out, n)
		}
	}
	return out
}

// many2oneID returns the id of a many2one value ([id, name], id or false).
func many2oneID(v any) int {
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			n, _ := x[0].(int)
			return n
		}
	case int:
		return x
	}
	return 0
}
