//go:build js && wasm

package idbstore

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
)

// DupKeyCounts returns, for each duplicate key that two or more entities'
// current states share, how many do. It walks the dupKey index with a key
// cursor (IDBIndex.openKeyCursor): it reads index keys only, never a
// record, and only entities that have a key are in the index. Keys held by
// one entity, which cannot be duplicates, are left out.
func (s *Store) DupKeyCounts(_ context.Context) (out map[string]int, err error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	defer s.catch(&err)
	idx := s.index(s.objectStore(s.txn(scopeEntities, jsReadonly), storeEntities), idxDupKey)
	req := idx.Call("openKeyCursor")
	out = map[string]int{}
	// The index is sorted by key: count runs of equal keys, converting
	// only the keys of runs of two or more to Go strings.
	var prev js.Value
	run := 0
	flush := func() {
		if run > 1 {
			out[prev.String()] = run
		}
	}
	done := make(chan *dc.Error, 1)
	fn := js.FuncOf(func(_ js.Value, args []js.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				done <- dc.Errorf(dc.ESTORE, "walking the dupKey index: %v", r)
			}
		}()
		if args[0].Get("type").String() != "success" {
			done <- domError(req.Get("error"), "cursor failed")
			return nil
		}
		c := req.Get("result")
		if c.IsNull() {
			flush()
			done <- nil
			return nil
		}
		k := c.Get("key")
		if run > 0 && k.Equal(prev) {
			run++
		} else {
			flush()
			prev, run = k, 1
		}
		c.Call("continue")
		return nil
	})
	defer fn.Release()
	req.Set("onsuccess", fn)
	req.Set("onerror", fn)
	if err := <-done; err != nil {
		return nil, err
	}
	if s.cipher == nil {
		return out, nil
	}
	// An encrypted store's index holds keyed hashes of the keys: the
	// entities of each group hold the key itself.
	clear := make(map[string]int, len(out))
	for h, n := range out {
		recs, err := s.listEntities(dc.EntityQuery{DupKey: h, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(recs) == 1 && recs[0].Current != nil && recs[0].Current.DupKey != "" {
			clear[recs[0].Current.DupKey] += n
		}
	}
	return clear, nil
}
