package core

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	dc "github.com/datacollect/datacollect"
)

// DupKeys configures duplicate detection: per entity type, the data fields
// whose values together identify a person or group (a compound key). Two
// live entities of one type with equal keys are potential duplicates until a
// resolve-duplicate event merges them or declares them distinct. Types
// without an entry (or with no fields) are never flagged.
//
// The configuration belongs to a replica, not to the data: each client sets
// its own (see dc.Entity.DupKey), the server uses DefaultDupKeys.
type DupKeys map[dc.EntityType][]string

// DefaultDupKeys returns the default configuration: individuals and groups
// are keyed by their "nationalId" field.
func DefaultDupKeys() DupKeys {
	return DupKeys{
		dc.Individual: {"nationalId"},
		dc.Group:      {"nationalId"},
	}
}

// Key returns e's duplicate key: "<type>|<v1>|<v2>..." with the values of
// the type's key fields in configuration order, each normalised so that
// spellings of one value give one key:
//
//   - strings are trimmed, lower-cased and their inner runs of white space
//     collapsed to one space ("  AB 12 " and "ab   12" are equal);
//   - numbers are formatted canonically (the shortest decimal form, without
//     exponent for integers below 1e21), so the number 123 and the string
//     "123" are equal;
//   - other values (booleans, lists, objects) are written as their JSON,
//     objects with sorted keys.
//
// Invalid UTF-8 in strings becomes U+FFFD (the key is valid UTF-8, as
// IndexedDB keys must be), and a "\" or "|" inside a value is escaped with a
// backslash, so that values cannot run into each other. Key returns "" (no
// key: never a duplicate) for a nil or deleted entity, a type without key
// fields, or when any key field is missing, null, or empty once normalised.
func (k DupKeys) Key(e *dc.Entity) string {
	if e == nil || e.Deleted {
		return ""
	}
	fields := k[e.Type]
	if len(fields) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(string(e.Type))
	for _, f := range fields {
		v, ok := dupValue(e.Data[f])
		if !ok {
			return ""
		}
		b.WriteByte('|')
		for i := 0; i < len(v); i++ {
			if c := v[i]; c == '|' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// dupValue returns the normalised text of one key value, or false when
// the value does not count (absent, null, empty).
func dupValue(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		s = strings.Join(strings.Fields(strings.ToLower(strings.ToValidUTF8(x, "\uFFFD"))), " ")
	case float64:
		s = dupNumber(x)
	case float32:
		s = dupNumber(float64(x))
	case int:
		s = strconv.FormatInt(int64(x), 10)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int32:
		s = strconv.FormatInt(int64(x), 10)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			s = x.String()
		} else {
			s = dupNumber(f)
		}
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		s = string(b)
	}
	return s, s != ""
}

// dupNumber writes f in its shortest decimal form: integers without a
// fraction or exponent (below 1e21), others as strconv's 'g' does.
func dupNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if f == 0 {
			return "0" // also -0
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// DuplicateGroup returns the members of es, entities sharing one duplicate
// key, that are still potential duplicates: live (not deleted) and with at
// least one other live member that neither declared distinct (see
// dc.Entity.Distinct, set by resolve-duplicate "keep"). It keeps es's order
// and returns nil when fewer than two remain. Client and server list
// duplicates with it, so they agree.
func DuplicateGroup(es []*dc.Entity) []*dc.Entity {
	live := make([]*dc.Entity, 0, len(es))
	for _, e := range es {
		if e != nil && !e.Deleted {
			live = append(live, e)
		}
	}
	var out []*dc.Entity
	for _, e := range live {
		for _, o := range live {
			if o != e && o.GUID != e.GUID && !dupDistinct(e, o) {
				out = append(out, e)
				break
			}
		}
	}
	// One pass suffices: an entity dropped here is distinct from every
	// other, so no remaining entity counted it as its partner.
	if len(out) < 2 {
		return nil
	}
	return out
}

// dupDistinct reports whether either entity lists the other as
// distinct.
func dupDistinct(a, b *dc.Entity) bool {
	return slices.Contains(a.Distinct, b.GUID) || slices.Contains(b.Distinct, a.GUID)
}
