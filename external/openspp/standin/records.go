package standin

import (
	"slices"
	"sort"
	"time"
)

// engine holds the schema and the data; every method expects the
// server's mutex held.
type engine struct {
	models map[string]*model
	tables map[string]*table
	now    func() time.Time
}

// DatetimeFormat is Odoo's naive UTC datetime format (second precision).
const DatetimeFormat = "2006-01-02 15:04:05"

// DateFormat is Odoo's date format.
const DateFormat = "2006-01-02"

func (e *engine) nowString() string { return e.now().UTC().Format(DatetimeFormat) }

func newEngine(models map[string]*model, now func() time.Time) *engine {
	e := &engine{models: models, tables: map[string]*table{}, now: now}
	for name, m := range models {
		e.tables[name] = &table{nextID: m.firstID, recs: map[int]rec{}}
	}
	return e
}

func (e *engine) model(name string) (*model, *Error) {
	m, ok := e.models[name]
	if !ok {
		return nil, newErr(ErrUser, "Object %s doesn't exist", name)
	}
	return m, nil
}

// displayName is a record's display_name ("" when it has none).
func (e *engine) displayName(m *model, id int) string {
	r, ok := e.tables[m.name].get(id)
	if !ok {
		return ""
	}
	f := m.fields[m.recName]
	v := r[m.recName]
	if f.kind == kMany2one {
		if rid, ok := v.(int); ok {
			return e.displayName(e.models[f.comodel], rid)
		}
		return ""
	}
	s, _ := v.(string)
	return s
}

// related returns the ids a relational field of record id refers to.
func (e *engine) related(m *model, f *field, id int, r rec) []int {
	switch f.kind {
	case kMany2one:
		if v, ok := r[f.name].(int); ok {
			return []int{v}
		}
		return nil
	case kMany2many:
		ids, _ := r[f.name].([]int)
		return ids
	case kOne2many:
		tb := e.tables[f.comodel]
		var ids []int
		for _, cid := range tb.ids {
			if v, ok := tb.recs[cid][f.inverse].(int); ok && v == id {
				ids = append(ids, cid)
			}
		}
		return ids
	}
	return nil
}

// value renders one field as Odoo's read does.
func (e *engine) value(m *model, f *field, id int, r rec) any {
	switch f.name {
	case "id":
		return id
	case "display_name":
		if s := e.displayName(m, id); s != "" {
			return s
		}
		return false
	}
	switch f.kind {
	case kBool:
		b, _ := r[f.name].(bool)
		return b
	case kInt:
		n, _ := r[f.name].(int)
		return n
	case kMany2one:
		v, ok := r[f.name].(int)
		if !ok {
			return false
		}
		name := e.displayName(e.models[f.comodel], v)
		return []any{v, name}
	case kOne2many, kMany2many:
		ids := e.related(m, f, id, r)
		if ids == nil {
			ids = []int{}
		}
		return slices.Clone(ids)
	default:
		s, _ := r[f.name].(string)
		if s == "" {
			return false
		}
		return s
	}
}

// read renders records; fields nil or empty means every field.
func (e *engine) read(m *model, ids []int, fields []string) ([]map[string]any, *Error) {
	if len(fields) == 0 {
		fields = m.fieldNames()
	}
	for _, fn := range fields {
		if _, ok := m.fields[fn]; !ok {
			return nil, invalidField(m.name, fn)
		}
	}
	tb := e.tables[m.name]
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		r, ok := tb.get(id)
		if !ok {
			continue
		}
		row := map[string]any{"id": id}
		for _, fn := range fields {
			row[fn] = e.value(m, m.fields[fn], id, r)
		}
		out = append(out, row)
	}
	return out, nil
}

// create creates one record and returns its id.
func (t *tx) create(m *model, vals map[string]any) (int, *Error) {
	if err := t.checkFields(m, vals); err != nil {
		return 0, err
	}
	id := t.newID(m.name)
	k := tkey{m.name, id}
	t.before(k)
	r := rec{"create_date": t.now, "write_date": t.now, "create_uid": t.uid, "write_uid": t.uid}
	t.e.tables[m.name].insert(id, r)
	if err := t.assign(m, id, vals); err != nil {
		return 0, err
	}
	return id, nil
}

// write updates records; every record gets a new write_date.
func (t *tx) write(m *model, ids []int, vals map[string]any) *Error {
	if err := t.checkFields(m, vals); err != nil {
		return err
	}
	var missing []int
	for _, id := range ids {
		if _, ok := t.e.tables[m.name].get(id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return missingError(m.name, missing, t.uid)
	}
	for _, id := range ids {
		if err := t.assign(m, id, vals); err != nil {
			return err
		}
	}
	return nil
}

// unlink deletes records, cascading to the one2many children whose
// inverse field is required (memberships, registrant IDs).
func (t *tx) unlink(m *model, ids []int) *Error {
	tb := t.e.tables[m.name]
	for _, id := range ids {
		r, ok := tb.get(id)
		if !ok {
			return missingError(m.name, []int{id}, t.uid)
		}
		for _, fn := range m.fieldNames() {
			f := m.fields[fn]
			if f.kind != kOne2many {
				continue
			}
			cm := t.e.models[f.comodel]
			if err := t.unlink(cm, t.e.related(m, f, id, r)); err != nil {
				return err
			}
		}
		t.before(tkey{m.name, id})
		tb.remove(id)
	}
	// Clear dangling references (Postgres ON DELETE SET NULL / many2many rows).
	for _, om := range t.e.models {
		for _, fn := range om.fieldNames() {
			f := om.fields[fn]
			if f.comodel != m.name || (f.kind != kMany2one && f.kind != kMany2many) || f.computed {
				continue
			}
			otb := t.e.tables[om.name]
			for _, oid := range otb.ids {
				r := otb.recs[oid]
				switch v := r[fn].(type) {
				case int:
					if slices.Contains(ids, v) {
						t.before(tkey{om.name, oid})
						delete(otb.recs[oid], fn)
					}
				case []int:
					if slices.ContainsFunc(v, func(x int) bool { return slices.Contains(ids, x) }) {
						t.before(tkey{om.name, oid})
						otb.recs[oid][fn] = slices.DeleteFunc(slices.Clone(v), func(x int) bool { return slices.Contains(ids, x) })
					}
				}
			}
		}
	}
	return nil
}

func (t *tx) checkFields(m *model, vals map[string]any) *Error {
	names := make([]string, 0, len(vals))
	for fn := range vals {
		names = append(names, fn)
	}
	sort.Strings(names)
	for _, fn := range names {
		if _, ok := m.fields[fn]; !ok {
			return invalidField(m.name, fn)
		}
	}
	return nil
}

// assign stores vals into record id (which exists), scalar fields first,
// then the x2many commands, and stamps write_date.
func (t *tx) assign(m *model, id int, vals map[string]any) *Error {
	k := tkey{m.name, id}
	t.before(k)
	tb := t.e.tables[m.name]
	names := make([]string, 0, len(vals))
	for fn := range vals {
		names = append(names, fn)
	}
	sort.Slice(names, func(i, j int) bool {
		xi, xj := m.fields[names[i]].x2many(), m.fields[names[j]].x2many()
		if xi != xj {
			return !xi
		}
		return names[i] < names[j]
	})
	for _, fn := range names {
		f := m.fields[fn]
		if f.readonly {
			continue
		}
		if f.x2many() {
			if err := t.commands(m, f, id, vals[fn]); err != nil {
				return err
			}
			continue
		}
		v, err := t.convert(m, f, vals[fn])
		if err != nil {
			return err
		}
		r := tb.recs[id]
		if v == nil {
			delete(r, fn)
		} else {
			r[fn] = v
		}
	}
	r := tb.recs[id]
	r["write_date"] = t.now
	r["write_uid"] = t.uid
	return nil
}
