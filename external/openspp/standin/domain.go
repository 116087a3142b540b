package standin

import (
	"regexp"
	"slices"
	"strings"
)

// node is a parsed domain: an operator over children, or a leaf.
type node struct {
	op       string // "&", "|", "!" or "" for a leaf
	children []*node
	path     []string
	cmp      string
	value    any
	constant *bool // TRUE_LEAF / FALSE_LEAF
}

var operators = []string{"=", "!=", ">", ">=", "<", "<=", "in", "not in", "like", "ilike", "not like", "not ilike", "=like", "=ilike"}

// parseDomain parses a prefix-notation domain; top-level terms are joined
// by an implicit '&'.
func (e *engine) parseDomain(m *model, v any) (*node, *Error) {
	if v == nil || v == false {
		v = []any{}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, newErr(ErrValue, "Invalid domain: %s", pyRepr(v))
	}
	var terms []*node
	pos := 0
	for pos < len(list) {
		n, next, err := e.parseTerm(m, list, pos)
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
		pos = next
	}
	return &node{op: "&", children: terms}, nil
}

func (e *engine) parseTerm(m *model, list []any, pos int) (*node, int, *Error) {
	if pos >= len(list) {
		return nil, pos, newErr(ErrValue, "Invalid domain: %s (an operator lacks operands)", pyRepr(list))
	}
	switch t := list[pos].(type) {
	case string:
		arity := map[string]int{"&": 2, "|": 2, "!": 1}[t]
		if arity == 0 {
			return nil, pos, newErr(ErrValue, "Invalid domain term %s", pyRepr(t))
		}
		n := &node{op: t}
		pos++
		for range arity {
			c, next, err := e.parseTerm(m, list, pos)
			if err != nil {
				return nil, pos, err
			}
			n.children = append(n.children, c)
			pos = next
		}
		return n, pos, nil
	case []any:
		if len(t) != 3 {
			return nil, pos, newErr(ErrValue, "Invalid domain term %s", pyRepr(t))
		}
		if a, ok := asInt(t[0]); ok {
			b, _ := asInt(t[2])
			if t[1] == "=" && (a == 0 || a == 1) && b == 1 {
				c := a == 1
				return &node{constant: &c}, pos + 1, nil
			}
		}
		name, ok1 := t[0].(string)
		op, ok2 := t[1].(string)
		if !ok1 || !ok2 {
			return nil, pos, newErr(ErrValue, "Invalid domain term %s", pyRepr(t))
		}
		op = strings.ToLower(op)
		if op == "<>" {
			op = "!="
		}
		if op == "==" {
			op = "="
		}
		if !slices.Contains(operators, op) {
			return nil, pos, newErr(ErrValue, "Invalid domain term %s: unknown operator %s", pyRepr(t), pyRepr(op))
		}
		path := strings.Split(name, ".")
		cur := m
		for i, p := range path {
			f, ok := cur.fields[p]
			if !ok {
				return nil, pos, invalidField(cur.name, p)
			}
			if i < len(path)-1 {
				if !f.relational() {
					return nil, pos, invalidField(cur.name, name)
				}
				cur = e.models[f.comodel]
			}
		}
		return &node{path: path, cmp: op, value: t[2]}, pos + 1, nil
	}
	return nil, pos, newErr(ErrValue, "Invalid domain term %s", pyRepr(list[pos]))
}

// match evaluates the domain on record id.
func (e *engine) match(m *model, n *node, id int, r rec) bool {
	switch {
	case n.constant != nil:
		return *n.constant
	case n.op == "&":
		for _, c := range n.children {
			if !e.match(m, c, id, r) {
				return false
			}
		}
		return true
	case n.op == "|":
		for _, c := range n.children {
			if e.match(m, c, id, r) {
				return true
			}
		}
		return false
	case n.op == "!":
		return !e.match(m, n.children[0], id, r)
	}
	return e.leaf(m, n.path, n.cmp, n.value, id, r)
}

// leaf evaluates [path, op, value]. A dotted path matches when any related
// record matches the rest of it.
func (e *engine) leaf(m *model, path []string, op string, val any, id int, r rec) bool {
	f := m.fields[path[0]]
	if len(path) > 1 {
		cm := e.models[f.comodel]
		for _, cid := range e.related(m, f, id, r) {
			if cr, ok := e.tables[cm.name].get(cid); ok && e.leaf(cm, path[1:], op, val, cid, cr) {
				return true
			}
		}
		return false
	}
	if f.relational() {
		return e.relLeaf(m, f, op, val, id, r)
	}
	var stored any
	switch f.name {
	case "id":
		stored = id
	case "display_name":
		if s := e.displayName(m, id); s != "" {
			stored = s
		}
	default:
		stored = r[f.name]
		if f.kind == kBool && stored == nil {
			stored = false
		}
		if f.kind == kInt && stored == nil {
			stored = 0
		}
	}
	if f.kind == kDatetime {
		val = widenDate(val)
	}
	if val == false && f.kind != kBool {
		val = nil
	}
	return compare(stored, op, val)
}

// relLeaf evaluates a leaf on a relational field: ids compare with ids,
// strings with the related records' display names.
func (e *engine) relLeaf(m *model, f *field, op string, val any, id int, r rec) bool {
	ids := e.related(m, f, id, r)
	cm := e.models[f.comodel]
	any1 := func(pred func(int) bool) bool { return slices.ContainsFunc(ids, pred) }
	byName := func(v any) bool { _, ok := v.(string); return ok }
	if val == false || val == nil {
		switch op {
		case "=":
			return len(ids) == 0
		case "!=":
			return len(ids) > 0
		}
	}
	switch op {
	case "=", "in":
		vals := asList(val)
		return any1(func(x int) bool { return e.relIn(cm, x, vals) }) || (slices.ContainsFunc(vals, func(v any) bool { return v == false || v == nil }) && len(ids) == 0)
	case "!=", "not in":
		vals := asList(val)
		if len(ids) == 0 {
			return !slices.ContainsFunc(vals, func(v any) bool { return v == false || v == nil })
		}
		return !any1(func(x int) bool { return e.relIn(cm, x, vals) })
	default:
		if !byName(val) {
			return any1(func(x int) bool { return compare(x, op, val) })
		}
		if strings.HasPrefix(op, "not ") {
			return !any1(func(x int) bool { return compare(e.displayName(cm, x), op[4:], val) })
		}
		return any1(func(x int) bool { return compare(e.displayName(cm, x), op, val) })
	}
}

func (e *engine) relIn(cm *model, x int, vals []any) bool {
	for _, v := range vals {
		if s, ok := v.(string); ok {
			if e.displayName(cm, x) == s {
				return true
			}
		} else if n, ok := asInt(v); ok && n == x {
			return true
		}
	}
	return false
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func widenDate(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) == 10 {
			return x + " 00:00:00"
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = widenDate(e)
		}
		return out
	}
	return v
}

// compare applies op between a stored scalar (nil: NULL) and a value,
// with Odoo's NULL handling: negative operators match NULL.
func compare(stored any, op string, val any) bool {
	switch op {
	case "=":
		return equal(stored, val)
	case "!=":
		return !equal(stored, val)
	case "in":
		return slices.ContainsFunc(asList(val), func(v any) bool { return equal(stored, normNil(v)) })
	case "not in":
		return !slices.ContainsFunc(asList(val), func(v any) bool { return equal(stored, normNil(v)) })
	case ">", ">=", "<", "<=":
		if stored == nil || val == nil {
			return false
		}
		c, ok := order(stored, val)
		if !ok {
			return false
		}
		switch op {
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		case "<":
			return c < 0
		default:
			return c <= 0
		}
	case "like", "ilike", "=like", "=ilike":
		s, ok := stored.(string)
		p, ok2 := val.(string)
		if !ok || !ok2 {
			if val == nil {
				return stored == nil
			}
			return false
		}
		return likeMatch(s, p, op)
	case "not like", "not ilike":
		if stored == nil {
			return true
		}
		return !compare(stored, op[4:], val)
	}
	return false
}

func normNil(v any) any {
	if v == false {
		return nil
	}
	return v
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if c, ok := order(a, b); ok {
		return c == 0
	}
	return false
}

// order compares two scalars of the same family.
func order(a, b any) (int, bool) {
	if x, ok := toFloat(a); ok {
		if y, ok := toFloat(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
		return 0, false
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// likeMatch implements like/ilike (substring, with SQL wildcards inside)
// and =like/=ilike (the pattern as given).
func likeMatch(s, pattern, op string) bool {
	if op == "like" || op == "ilike" {
		pattern = "%" + pattern + "%"
	}
	var b strings.Builder
	b.WriteString("^")
	if strings.HasSuffix(op, "ilike") {
		b.WriteString("(?is)")
	} else {
		b.WriteString("(?s)")
	}
	for _, c := range pattern {
		switch c {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}
