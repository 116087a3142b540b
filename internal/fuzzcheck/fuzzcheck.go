// Package fuzzcheck holds what the fuzz targets share: a comparison of
// round-tripped values that tolerates what the codecs legitimately change.
package fuzzcheck

import (
	"math"
	"reflect"
)

// Same reports whether a and b are equal as reflect.DeepEqual says, except
// that NaN equals NaN and, with nilIsEmpty, nil maps and slices equal empty
// ones (MessagePack encodes nil containers as empty).
func Same(a, b any, nilIsEmpty bool) bool {
	return same(reflect.ValueOf(a), reflect.ValueOf(b), nilIsEmpty)
}

func same(a, b reflect.Value, nilIsEmpty bool) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return same(a.Elem(), b.Elem(), nilIsEmpty)
	case reflect.Slice:
		if (a.IsNil() != b.IsNil() && !nilIsEmpty) || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !same(a.Index(i), b.Index(i), nilIsEmpty) {
				return false
			}
		}
		return true
	case reflect.Map:
		if (a.IsNil() != b.IsNil() && !nilIsEmpty) || a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			if v := b.MapIndex(k); !v.IsValid() || !same(a.MapIndex(k), v, nilIsEmpty) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !same(a.Field(i), b.Field(i), nilIsEmpty) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
}
