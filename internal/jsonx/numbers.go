package jsonx

import "encoding/json"

// Normalize turns the json.Number values that a json.Decoder with
// UseNumber leaves throughout v (maps and slices, in place) into int when
// they are integers, else float64, and returns v: JSON-RPC ids must stay
// exact integers.
func Normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = Normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = Normalize(x[k])
		}
	}
	return v
}
