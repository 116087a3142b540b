package standin

import (
	"sort"
	"strings"
)

type orderKey struct {
	field *field
	desc  bool
	nulls string // "", "first", "last"
}

// parseOrder parses "write_date asc, id desc nulls last".
func parseOrder(m *model, spec string) ([]orderKey, *Error) {
	bad := func() *Error {
		return newErr(ErrValue, "Invalid \"order\" specified (%s). A valid \"order\" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)", spec)
	}
	var keys []orderKey
	for _, part := range strings.Split(spec, ",") {
		words := strings.Fields(strings.ToLower(part))
		if len(words) == 0 {
			continue
		}
		f, ok := m.fields[words[0]]
		if !ok {
			// Field names are case sensitive; look the original up.
			return nil, invalidField(m.name, strings.Fields(part)[0])
		}
		if f.x2many() {
			return nil, bad()
		}
		k := orderKey{field: f}
		rest := words[1:]
		if len(rest) > 0 && (rest[0] == "asc" || rest[0] == "desc") {
			k.desc = rest[0] == "desc"
			rest = rest[1:]
		}
		if len(rest) == 2 && rest[0] == "nulls" && (rest[1] == "first" || rest[1] == "last") {
			k.nulls = rest[1]
			rest = nil
		}
		if len(rest) > 0 {
			return nil, bad()
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// sortIDs orders ids by keys, then by id so the result is deterministic.
// NULLs sort last ascending and first descending, as in PostgreSQL;
// many2one fields sort by the related record's display name.
func (e *engine) sortIDs(m *model, ids []int, keys []orderKey) {
	tb := e.tables[m.name]
	sortVal := func(k orderKey, id int) any {
		switch k.field.name {
		case "id":
			return id
		case "display_name":
			if s := e.displayName(m, id); s != "" {
				return s
			}
			return nil
		}
		v := tb.recs[id][k.field.name]
		if k.field.kind == kMany2one && v != nil {
			return e.displayName(e.models[k.field.comodel], v.(int))
		}
		if k.field.kind == kBool && v == nil {
			return false
		}
		return v
	}
	sort.SliceStable(ids, func(i, j int) bool {
		for _, k := range keys {
			a, b := sortVal(k, ids[i]), sortVal(k, ids[j])
			if a == nil || b == nil {
				if a == nil && b == nil {
					continue
				}
				nullsFirst := k.desc
				if k.nulls != "" {
					nullsFirst = k.nulls == "first"
				}
				return (a == nil) == nullsFirst
			}
			c, _ := order(a, b)
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return ids[i] < ids[j]
	})
}
