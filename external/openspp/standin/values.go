package standin

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// convert turns a JSON value into the stored form of field f (nil: unset).
func (t *tx) convert(m *model, f *field, v any) (any, *Error) {
	wrong := func() *Error { return newErr(ErrValue, "Wrong value for %s.%s: %s", m.name, f.name, pyRepr(v)) }
	if v == nil || v == false {
		if f.kind == kBool {
			return false, nil
		}
		if f.kind == kInt {
			return 0, nil
		}
		return nil, nil
	}
	switch f.kind {
	case kBool:
		return truthy(v), nil
	case kInt:
		n, ok := asInt(v)
		if !ok {
			return nil, wrong()
		}
		return n, nil
	case kChar, kText:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case int, float64, bool:
			s = fmt.Sprint(x)
		default:
			return nil, wrong()
		}
		if s == "" {
			return nil, nil
		}
		if f.regex {
			if _, err := regexp.Compile(s); err != nil {
				return nil, newErr(ErrValidation, "Invalid regular expression for %s: %v", f.label, err)
			}
		}
		return s, nil
	case kDate, kDatetime:
		s, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		if f.kind == kDate {
			if len(s) > 10 {
				s = s[:10]
			}
			if _, err := time.Parse(DateFormat, s); err != nil {
				return nil, newErr(ErrValue, "time data %s does not match format '%%Y-%%m-%%d'", pyRepr(s))
			}
			return s, nil
		}
		if len(s) == 10 {
			s += " 00:00:00"
		}
		if _, err := time.Parse(DatetimeFormat, s); err != nil {
			return nil, newErr(ErrValue, "time data %s does not match format '%%Y-%%m-%%d %%H:%%M:%%S'", pyRepr(s))
		}
		return s, nil
	case kSelection:
		s, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		if !t.e.validSelection(f, s) {
			return nil, newErr(ErrValue, "Wrong value for %s.%s: %s", m.name, f.name, pyRepr(s))
		}
		return s, nil
	case kMany2one:
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		id, ok := asInt(v)
		if !ok {
			return nil, wrong()
		}
		if _, exists := t.e.tables[f.comodel].get(id); !exists {
			return nil, newErr(ErrValidation, "The operation cannot be completed: the record %s(%d,) referenced by %s.%s does not exist.",
				f.comodel, id, m.name, f.name)
		}
		return id, nil
	}
	return nil, wrong()
}

// validSelection reports whether s is a gender.type value (or code).
func (e *engine) validSelection(f *field, s string) bool {
	tb := e.tables[f.comodel]
	for _, id := range tb.ids {
		r := tb.recs[id]
		if r["value"] == s || r["code"] == s {
			return true
		}
	}
	return false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		if x == math.Trunc(x) {
			return int(x), true
		}
	}
	return 0, false
}

func intList(v any) ([]int, bool) {
	list, ok := v.([]any)
	if !ok {
		if v == nil || v == false {
			return nil, true
		}
		return nil, false
	}
	ids := make([]int, 0, len(list))
	for _, x := range list {
		n, ok := asInt(x)
		if !ok {
			return nil, false
		}
		ids = append(ids, n)
	}
	return ids, true
}

// pyRepr renders a value roughly as Python's repr does, for messages.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "\\'") + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}
