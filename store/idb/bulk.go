//go:build js && wasm

package idbstore

import (
	"math"
	"syscall/js"
	"unicode/utf8"

	"github.com/datacollect/datacollect/internal/jsonx"
)

// records is what collect gathers: the records' payloads back to back, and
// per record its index in the collected values, key field and payload end
// (and, for collectFields, a string field: for entity records, their
// duplicate key).
type records struct {
	buf  []byte
	idx  []int
	keys []int64
	ends []int
	strs []string
}

func (r *records) len() int { return len(r.idx) }

func (r *records) payload(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.buf[start:r.ends[i]]
}

// collect gathers the records among values (or among the results of the
// requests values, when requests is set): those that exist and, when ff
// is set, whose field ff is fv; at most limit when limit > 0. For each it
// reads its payload and its number field key.
func collect(values js.Value, requests bool, key, ff, fv string, limit int) *records {
	return collectFields(values, requests, key, "", ff, fv, limit)
}

// collectEntities is collect for entity records (key rev): it also reads
// each record's duplicate key, which the payload does not hold; in an
// encrypted store, where the ciphertext holds it, each record's guid
// instead (see Store.open).
func (s *Store) collectEntities(values js.Value, requests bool, ff, fv string, limit int) *records {
	sf := fieldDupKey
	if s.cipher != nil {
		sf = fieldGUID
	}
	return collectFields(values, requests, fieldRev, sf, ff, fv, limit)
}

// collectFields is collect, also reading the string field sf of each
// record ("" when absent) into strs, when sf is set.
func collectFields(values js.Value, requests bool, key, sf, ff, fv string, limit int) *records {
	var fvv js.Value
	if ff != "" {
		fvv = js.ValueOf(fv)
	}
	r := &records{}
	var scratch []byte
	n := values.Length()
	for i := 0; i < n && (limit <= 0 || r.len() < limit); i++ {
		v := values.Index(i)
		if requests {
			v = v.Get("result")
		}
		if v.IsUndefined() || v.IsNull() || (ff != "" && !v.Get(ff).Equal(fvv)) {
			continue
		}
		scratch = readBytes(scratch, v.Get(fieldP))
		r.buf = append(r.buf, scratch...)
		r.idx = append(r.idx, i)
		r.keys = append(r.keys, jsInt64(v.Get(key)))
		r.ends = append(r.ends, len(r.buf))
		if sf != "" {
			var str string
			if f := v.Get(sf); f.Type() == js.TypeString {
				str = f.String()
			}
			r.strs = append(r.strs, str)
		}
	}
	return r
}

// readBytes returns the bytes of the Uint8Array p, reusing buf. As
// js.CopyBytesToGo copies min(len(dst), len(src)) bytes, a buffer larger
// than the payload saves asking for its length.
func readBytes(buf []byte, p js.Value) []byte {
	if cap(buf) < 4<<10 {
		buf = make([]byte, 16<<10)
	}
	buf = buf[:cap(buf)]
	n := js.CopyBytesToGo(buf, p)
	if n == len(buf) {
		if l := p.Length(); l > n {
			buf = make([]byte, l+l/4)
			n = js.CopyBytesToGo(buf, p)
		}
	}
	return buf[:n]
}

// getMany issues method (IDBObjectStore.prototype.get, or IDBIndex's get
// or getKey) on source for each key and returns the array of requests: the
// keys go as one JSON array of argument lists, [["k1"],["k2"],...], and one
// map issues the requests.
func getMany(source, method js.Value, keys []string) js.Value {
	n := 2
	for _, k := range keys {
		n += len(k) + 5
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	var fixups []int // keys that are not valid UTF-8 (see fixup)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if utf8.ValidString(k) {
			b = append(b, '[')
			b = jsonx.AppendString(b, k)
			b = append(b, ']')
		} else {
			b = append(b, '[', '0', ']')
			fixups = append(fixups, i)
		}
	}
	args := jsJSONParse.Invoke(string(append(b, ']')))
	for _, i := range fixups {
		args.Index(i).SetIndex(0, keys[i])
	}
	return callMap.Invoke(args, applyTo(method, source))
}

// numbers returns the number that each of the n requests reqs resulted in
// (or its field field, when set): a key or a revision, NaN when the
// result is undefined.
func numbers(reqs js.Value, n int, field string) []float64 {
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		r := reqs.Index(i).Get("result")
		if field != "" && !r.IsUndefined() {
			r = r.Get(field)
		}
		if r.Type() == js.TypeNumber {
			out[i] = r.Float()
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}
