package datacollect

import (
	"math"
	"reflect"
	"slices"
)

// Values in Data maps are JSON-like: nil, bool, float64, string, []any and
// map[string]any. Normalize converts the other numeric and container types
// that decoders produce (int64 from MessagePack, []interface{} variants) so
// that every replica holds identical values whatever the path they took.

// MaxDepth bounds the nesting of Data values.
const MaxDepth = 16

// NormalizeMap returns m normalised (a copy, unless m already was), or an EINVALID error for
// values that are not JSON-like (or nested deeper than MaxDepth).
func NormalizeMap(m map[string]any) (map[string]any, error) {
	if normalized(m, 0) {
		return m, nil // already normal: no copy (callers treat data as immutable)
	}
	v, err := normalize(m, 0)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	return v.(map[string]any), nil
}

// NormalizeValue returns a normalised deep copy of v.
func NormalizeValue(v any) (any, error) { return normalize(v, 0) }

func normalize(v any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, Errorf(EINVALID, "data nested deeper than %d levels", MaxDepth)
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, Errorf(EINVALID, "data holds a non-finite number")
		}
		return x, nil
	case float32:
		return normalize(float64(x), depth)
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		if x == nil {
			return nil, nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, nil
	default:
		return nil, Errorf(EINVALID, "data holds an unsupported value of type %T", v)
	}
}

// CloneMap returns a deep copy of a JSON-like map (nil stays nil).
func CloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = CloneValue(v)
	}
	return out
}

// CloneValue returns a deep copy of a JSON-like value.
func CloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return CloneMap(x)
	case []any:
		if x == nil {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = CloneValue(e)
		}
		return out
	default:
		return v
	}
}

// EqualValues reports whether two normalised JSON-like values are equal.
func EqualValues(a, b any) bool { return reflect.DeepEqual(a, b) }

// SortedKeys returns the keys of m in ascending order, for deterministic
// iteration.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// normalized reports whether v holds only normal JSON-like values.
func normalized(v any, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, string:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case map[string]any:
		if x == nil {
			return false
		}
		for _, e := range x {
			if !normalized(e, depth+1) {
				return false
			}
		}
		return true
	case []any:
		if x == nil {
			return false
		}
		for _, e := range x {
			if !normalized(e, depth+1) {
				return false
			}
		}
		return true
	default:
		return false
	}
}
