package standin

import "slices"

// commands applies an x2many value: a list of commands or a list of ids
// (which means "replace by these").
func (t *tx) commands(m *model, f *field, id int, v any) *Error {
	cm := t.e.models[f.comodel]
	bad := func(c any) *Error {
		return newErr(ErrValue, "Wrong value for %s.%s: %s", m.name, f.name, pyRepr(c))
	}
	if v == nil || v == false {
		return t.setRelated(m, f, id, nil)
	}
	list, ok := v.([]any)
	if !ok {
		return bad(v)
	}
	if len(list) > 0 {
		if _, isInt := asInt(list[0]); isInt {
			ids, ok := intList(list)
			if !ok {
				return bad(v)
			}
			return t.setRelated(m, f, id, ids)
		}
	}
	for _, c := range list {
		cmd, ok := c.([]any)
		if !ok || len(cmd) == 0 {
			return bad(c)
		}
		op, ok := asInt(cmd[0])
		if !ok {
			return bad(c)
		}
		arg := func(i int) any {
			if i < len(cmd) {
				return cmd[i]
			}
			return nil
		}
		cid, _ := asInt(arg(1))
		switch op {
		case 0: // create
			vals, ok := arg(2).(map[string]any)
			if !ok {
				return bad(c)
			}
			if f.kind == kOne2many {
				vals = withKey(vals, f.inverse, id)
			}
			newID, err := t.create(cm, vals)
			if err != nil {
				return err
			}
			if f.kind == kMany2many {
				t.link(m, f, id, newID)
			}
		case 1: // update
			vals, ok := arg(2).(map[string]any)
			if !ok {
				return bad(c)
			}
			if err := t.write(cm, []int{cid}, vals); err != nil {
				return err
			}
		case 2: // delete
			if err := t.unlink(cm, []int{cid}); err != nil {
				return err
			}
		case 3: // unlink
			if err := t.unlinkRelated(m, f, id, cid); err != nil {
				return err
			}
		case 4: // link
			if _, ok := t.e.tables[cm.name].get(cid); !ok {
				return missingError(cm.name, []int{cid}, t.uid)
			}
			if f.kind == kOne2many {
				if err := t.write(cm, []int{cid}, map[string]any{f.inverse: id}); err != nil {
					return err
				}
			} else {
				t.link(m, f, id, cid)
			}
		case 5: // clear
			if err := t.setRelated(m, f, id, nil); err != nil {
				return err
			}
		case 6: // replace
			ids, ok := intList(arg(2))
			if !ok {
				return bad(c)
			}
			if err := t.setRelated(m, f, id, ids); err != nil {
				return err
			}
		default:
			return bad(c)
		}
	}
	return nil
}

func (t *tx) link(m *model, f *field, id, cid int) {
	t.before(tkey{m.name, id})
	r := t.e.tables[m.name].recs[id]
	ids, _ := r[f.name].([]int)
	if !slices.Contains(ids, cid) {
		ids = append(slices.Clone(ids), cid)
		slices.Sort(ids)
	}
	r[f.name] = ids
}

// unlinkRelated removes cid from the relation; a one2many child whose
// inverse is required is deleted, as Odoo does.
func (t *tx) unlinkRelated(m *model, f *field, id, cid int) *Error {
	cm := t.e.models[f.comodel]
	if f.kind == kMany2many {
		t.before(tkey{m.name, id})
		r := t.e.tables[m.name].recs[id]
		ids, _ := r[f.name].([]int)
		r[f.name] = slices.DeleteFunc(slices.Clone(ids), func(x int) bool { return x == cid })
		return nil
	}
	if cm.fields[f.inverse].required {
		return t.unlink(cm, []int{cid})
	}
	return t.write(cm, []int{cid}, map[string]any{f.inverse: false})
}

// setRelated makes ids the whole relation.
func (t *tx) setRelated(m *model, f *field, id int, ids []int) *Error {
	cm := t.e.models[f.comodel]
	for _, cid := range ids {
		if _, ok := t.e.tables[cm.name].get(cid); !ok {
			return missingError(cm.name, []int{cid}, t.uid)
		}
	}
	if f.kind == kMany2many {
		t.before(tkey{m.name, id})
		s := slices.Clone(ids)
		slices.Sort(s)
		t.e.tables[m.name].recs[id][f.name] = slices.Compact(s)
		return nil
	}
	r := t.e.tables[m.name].recs[id]
	for _, cur := range t.e.related(m, f, id, r) {
		if !slices.Contains(ids, cur) {
			if err := t.unlinkRelated(m, f, id, cur); err != nil {
				return err
			}
		}
	}
	for _, cid := range ids {
		if v, _ := t.e.tables[cm.name].recs[cid][f.inverse].(int); v != id {
			if err := t.write(cm, []int{cid}, map[string]any{f.inverse: id}); err != nil {
				return err
			}
		}
	}
	return nil
}

func withKey(vals map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(vals)+1)
	for key, val := range vals {
		out[key] = val
	}
	out[k] = v
	return out
}
