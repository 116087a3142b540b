package standin

import (
	"strings"
)

// writeMethods are the ORM methods that change data.
var writeMethods = map[string]string{"create": "create", "write": "modify", "unlink": "delete"}

// call runs one ORM method for user uid (rw: may write). A call that
// changed data calls persist before returning; on error (of the call or of
// persist) nothing changed.
func (e *engine) call(uid int, rw bool, modelName, method string, args []any, kw map[string]any, persist func() error) (any, *Error) {
	m, err := e.model(modelName)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(method, "_") {
		return nil, newErr(ErrAccessError, "Private methods (such as '%s.%s') cannot be called remotely.", modelName, method)
	}
	if op, ok := writeMethods[method]; ok && !rw {
		return nil, accessError(m, op)
	}
	arg := func(i int, name string) any {
		if v, ok := kw[name]; ok {
			return v
		}
		if i >= 0 && i < len(args) {
			return args[i]
		}
		return nil
	}
	switch method {
	case "search", "search_read", "search_count":
		domainIdx := 0
		if _, ok := kw["domain"]; ok {
			domainIdx = -1
		}
		var fields any
		offI, limI, ordI := 1, 2, 3
		if method == "search_read" {
			fields = arg(1, "fields")
			offI, limI, ordI = 2, 3, 4
		}
		if method == "search_count" {
			offI, ordI = -1, -1
			limI = 1
		}
		ids, err := e.search(m, arg(domainIdx, "domain"), arg(offI, "offset"), arg(limI, "limit"), arg(ordI, "order"))
		if err != nil {
			return nil, err
		}
		switch {
		case method == "search_count" || (method == "search" && truthy(arg(4, "count"))):
			return len(ids), nil
		case method == "search":
			return ids, nil
		}
		fl, ok := stringList(fields)
		if !ok {
			return nil, newErr(ErrValue, "Invalid fields: %s", pyRepr(fields))
		}
		rows, err := e.read(m, ids, fl)
		return rows, err
	case "read":
		ids, ok := idList(arg(0, "ids"))
		if !ok {
			return nil, newErr(ErrValue, "Invalid ids: %s", pyRepr(arg(0, "ids")))
		}
		fl, ok := stringList(arg(1, "fields"))
		if !ok {
			return nil, newErr(ErrValue, "Invalid fields: %s", pyRepr(arg(1, "fields")))
		}
		var missing []int
		for _, id := range ids {
			if _, ok := e.tables[m.name].get(id); !ok {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, missingError(m.name, missing, uid)
		}
		rows, err := e.read(m, ids, fl)
		return rows, err
	case "create", "write", "unlink":
		t := e.begin(uid)
		res, err := e.mutate(t, m, method, arg, uid)
		if err == nil {
			err = t.validate()
		}
		if err == nil && t.changed() && persist != nil {
			if perr := persist(); perr != nil {
				err = newErr(ErrOS, "cannot save the data: %v", perr)
			}
		}
		if err != nil {
			t.rollback()
			return nil, err
		}
		return res, nil
	case "fields_get":
		return e.fieldsGet(m), nil
	case "check_access_rights":
		op, _ := arg(0, "operation").(string)
		if verb, ok := writeMethods[op]; ok && !rw {
			if truthy(arg(1, "raise_exception")) || arg(1, "raise_exception") == nil {
				return nil, accessError(m, verb)
			}
			return false, nil
		}
		return true, nil
	}
	return nil, newErr(ErrAttribute, "The method '%s.%s' does not exist", modelName, method)
}

func (e *engine) mutate(t *tx, m *model, method string, arg func(int, string) any, uid int) (any, *Error) {
	switch method {
	case "create":
		v := arg(0, "vals_list")
		if one, ok := v.(map[string]any); ok {
			return t.create(m, one)
		}
		list, ok := v.([]any)
		if !ok {
			return nil, newErr(ErrValue, "create: expected a dict or a list of dicts, got %s", pyRepr(v))
		}
		ids := make([]int, 0, len(list))
		for _, item := range list {
			vals, ok := item.(map[string]any)
			if !ok {
				return nil, newErr(ErrValue, "create: expected a dict, got %s", pyRepr(item))
			}
			id, err := t.create(m, vals)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, nil
	case "write":
		ids, ok := idList(arg(0, "ids"))
		vals, ok2 := arg(1, "vals").(map[string]any)
		if !ok || !ok2 {
			return nil, newErr(ErrType, "write() takes ids and a dict of values")
		}
		if err := t.write(m, ids, vals); err != nil {
			return nil, err
		}
		return true, nil
	default:
		ids, ok := idList(arg(0, "ids"))
		if !ok {
			return nil, newErr(ErrType, "unlink() takes a list of ids")
		}
		if err := t.unlink(m, ids); err != nil {
			return nil, err
		}
		return true, nil
	}
}

// search returns the ids matching domain, ordered and sliced.
func (e *engine) search(m *model, domain, offset, limit, orderSpec any) ([]int, *Error) {
	n, err := e.parseDomain(m, domain)
	if err != nil {
		return nil, err
	}
	spec := m.defaultOrder
	if s, ok := orderSpec.(string); ok && strings.TrimSpace(s) != "" {
		spec = s
	}
	keys, err := parseOrder(m, spec)
	if err != nil {
		return nil, err
	}
	tb := e.tables[m.name]
	var ids []int
	for _, id := range tb.ids {
		if e.match(m, n, id, tb.recs[id]) {
			ids = append(ids, id)
		}
	}
	e.sortIDs(m, ids, keys)
	if off, ok := asInt(offset); ok && off > 0 {
		if off >= len(ids) {
			ids = nil
		} else {
			ids = ids[off:]
		}
	}
	if lim, ok := asInt(limit); ok && lim > 0 && lim < len(ids) {
		ids = ids[:lim]
	}
	if ids == nil {
		ids = []int{}
	}
	return ids, nil
}

func (e *engine) fieldsGet(m *model) map[string]any {
	out := map[string]any{}
	for _, fn := range m.fieldNames() {
		f := m.fields[fn]
		d := map[string]any{"type": kindNames[f.kind], "string": f.label, "required": f.required,
			"readonly": f.readonly, "store": !f.computed || f.name == "id"}
		if f.comodel != "" && f.kind != kSelection {
			d["relation"] = f.comodel
		}
		if f.inverse != "" {
			d["relation_field"] = f.inverse
		}
		if f.kind == kSelection {
			var sel []any
			tb := e.tables[f.comodel]
			for _, id := range tb.ids {
				v, _ := tb.recs[id]["value"].(string)
				sel = append(sel, []any{v, v})
			}
			d["selection"] = sel
		}
		out[fn] = d
	}
	return out
}

func stringList(v any) ([]string, bool) {
	if v == nil || v == false {
		return nil, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// idList accepts an id or a list of ids.
func idList(v any) ([]int, bool) {
	if n, ok := asInt(v); ok {
		return []int{n}, true
	}
	if v == nil {
		return nil, false
	}
	return intList(v)
}
