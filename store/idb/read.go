//go:build js && wasm

package idbstore

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
)

// only returns a query selecting only key (a key is a query for itself).
func only(key string) js.Value { return js.ValueOf(key) }

// getAll issues source.getAll(query, count) (count 0: all) and waits for
// the array of values.
func getAll(source, query js.Value, count int) (js.Value, error) {
	var req js.Value
	if count > 0 {
		req = source.Call("getAll", query, count)
	} else {
		req = source.Call("getAll", query)
	}
	if err := awaitRequest(req); err != nil {
		return js.Value{}, err
	}
	return req.Get("result"), nil
}

// count issues source.count(query) and waits for the number.
func count(source, query js.Value) (int, error) {
	req := source.Call("count", query)
	if err := awaitRequest(req); err != nil {
		return 0, err
	}
	return req.Get("result").Int(), nil
}

// cursorPrev collects up to limit values of source matching query, from
// the greatest key down, into a JavaScript array.
func cursorPrev(source, query js.Value, limit int) (js.Value, error) {
	req := source.Call("openCursor", query, jsPrev)
	out := js.Global().Get("Array").New()
	n := 0
	done := make(chan *dc.Error, 1)
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if args[0].Get("type").String() != "success" {
			done <- domError(req.Get("error"), "cursor failed")
			return nil
		}
		c := req.Get("result")
		if c.IsNull() {
			done <- nil
			return nil
		}
		out.SetIndex(n, c.Get("value"))
		n++
		if n >= limit {
			done <- nil
			return nil
		}
		c.Call("continue")
		return nil
	})
	defer fn.Release()
	req.Set("onsuccess", fn)
	req.Set("onerror", fn)
	if err := <-done; err != nil {
		return js.Value{}, err
	}
	return out, nil
}

// awaitAll waits for the last of the array of requests reqs (requests of
// one transaction complete in order).
func awaitAll(reqs js.Value, n int) error {
	if err := awaitRequest(reqs.Index(n - 1)); err != nil {
		return err
	}
	return nil
}

// Events implements dc.Store.
func (s *Store) Events(_ context.Context, guids []string) (out map[string]*dc.Event, err error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	out = make(map[string]*dc.Event, len(guids))
	if len(guids) == 0 {
		return out, nil
	}
	defer s.catch(&err)
	idx := s.index(s.objectStore(s.txn(scopeEvents, jsReadonly), storeEvents), idxGUID)
	reqs := getMany(idx, protoIndexGet, guids)
	if err := awaitAll(reqs, len(guids)); err != nil {
		return nil, err
	}
	recs := collect(reqs, true, fieldLSeq, "", "", 0)
	if err := s.open(recs, "an event", func(j int) string { return aadEventPrefix + guids[recs.idx[j]] }, false); err != nil {
		return nil, err
	}
	for j := 0; j < recs.len(); j++ {
		e, err := decodeEvent(recs.payload(j), recs.keys[j])
		if err != nil {
			return nil, err
		}
		out[guids[recs.idx[j]]] = e
	}
	return out, nil
}

// eventsSource returns the index (or store) and query that select the
// events of q, and whether the results still have to be filtered by sync
// level.
func (s *Store) eventsSource(q dc.EventQuery) (source, query js.Value, filterLevel bool) {
	st := s.objectStore(s.txn(scopeEvents, jsReadonly), storeEvents)
	switch {
	case q.Confirmed:
		// Events with no server sequence are not in the index.
		return s.index(st, idxSeq), jsKeyRange.Call("lowerBound", q.AfterSeq, true), false
	case q.Failed:
		// Only failed events have the index's field.
		return s.index(st, idxFailed), js.Null(), false
	case q.EntityGUID != "":
		// An entity has few events: filter them by level, if asked.
		return s.index(st, idxEntityGUID), only(q.EntityGUID), q.SyncLevel != ""
	case q.SyncLevel != "":
		return s.index(st, idxSyncLevel), only(string(q.SyncLevel)), false
	default:
		return st, js.Null(), false
	}
}

// ListEvents implements dc.Store.
func (s *Store) ListEvents(_ context.Context, q dc.EventQuery) (out []*dc.Event, err error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	defer s.catch(&err)
	source, query, filter := s.eventsSource(q)
	limit := max(q.Limit, 0)
	getLimit := limit
	ff := ""
	if filter {
		getLimit, ff = 0, fieldSyncLevel
	}
	arr, err := getAll(source, query, getLimit)
	if err != nil {
		return nil, err
	}
	sf := ""
	if s.cipher != nil {
		sf = fieldGUID // the additional data of each event's ciphertext
	}
	recs := collectFields(arr, false, fieldLSeq, sf, ff, string(q.SyncLevel), limit)
	if err := s.open(recs, "an event", func(j int) string { return aadEventPrefix + recs.strs[j] }, false); err != nil {
		return nil, err
	}
	for j := 0; j < recs.len(); j++ {
		e, err := decodeEvent(recs.payload(j), recs.keys[j])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// CountEvents implements dc.Store.
func (s *Store) CountEvents(_ context.Context, q dc.EventQuery) (n int, err error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	defer s.catch(&err)
	source, query, filter := s.eventsSource(q)
	if !filter {
		return count(source, query)
	}
	// Both filters: an entity's events are few, read them all.
	arr, err := getAll(source, query, 0)
	if err != nil {
		return 0, err
	}
	level := js.ValueOf(string(q.SyncLevel))
	l := arr.Length()
	for i := 0; i < l; i++ {
		if arr.Index(i).Get(fieldSyncLevel).Equal(level) {
			n++
		}
	}
	return n, nil
}

// Entities implements dc.Store.
func (s *Store) Entities(_ context.Context, guids []string) (out map[string]*dc.EntityRecord, err error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	out = make(map[string]*dc.EntityRecord, len(guids))
	if len(guids) == 0 {
		return out, nil
	}
	defer s.catch(&err)
	st := s.objectStore(s.txn(scopeEntities, jsReadonly), storeEntities)
	reqs := getMany(st, protoStoreGet, guids)
	if err := awaitAll(reqs, len(guids)); err != nil {
		return nil, err
	}
	recs := s.collectEntities(reqs, true, "", "", 0)
	if err := s.open(recs, "an entity", func(j int) string { return aadEntityPrefix + guids[recs.idx[j]] }, true); err != nil {
		return nil, err
	}
	for j := 0; j < recs.len(); j++ {
		r, err := recs.record(j)
		if err != nil {
			return nil, err
		}
		out[guids[recs.idx[j]]] = r
	}
	return out, nil
}

// ListEntities implements dc.Store.
func (s *Store) ListEntities(_ context.Context, q dc.EntityQuery) (out []*dc.EntityRecord, err error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if q.DupKey != "" && s.cipher != nil {
		// The index holds keyed hashes of the keys.
		h, err := s.cipher.Hash([]string{q.DupKey})
		if err != nil {
			return nil, cryptoErr(err, "cannot hash a duplicate key")
		}
		q.DupKey = h[0]
	}
	return s.listEntities(q)
}

// listEntities is ListEntities with q.DupKey as the index holds it.
func (s *Store) listEntities(q dc.EntityQuery) (out []*dc.EntityRecord, err error) {
	defer s.catch(&err)
	st := s.objectStore(s.txn(scopeEntities, jsReadonly), storeEntities)
	source, query := st, js.Null()
	limit := max(q.Limit, 0)
	getLimit := limit
	ff := ""
	switch {
	case q.DupKey != "":
		// Only entities with a key are in the index; other filters are
		// ignored.
		source, query = s.index(st, idxDupKey), only(q.DupKey)
	case q.Conflicted:
		// Only entities with open conflicts have the index's field.
		source = s.index(st, idxConflicted)
	case q.ExternalID != "":
		// External ids are (nearly) unique: filter by type, if asked.
		source, query = s.index(st, idxExternalID), only(q.ExternalID)
		if q.Type != "" {
			getLimit, ff = 0, fieldType
		}
	case q.Type != "":
		source, query = s.index(st, idxType), only(string(q.Type))
	}
	arr, err := getAll(source, query, getLimit)
	if err != nil {
		return nil, err
	}
	recs := s.collectEntities(arr, false, ff, string(q.Type), limit)
	// (open reads each guid before it replaces it with the record's key.)
	if err := s.open(recs, "an entity", func(j int) string { return aadEntityPrefix + recs.strs[j] }, true); err != nil {
		return nil, err
	}
	for j := 0; j < recs.len(); j++ {
		r, err := recs.record(j)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Audit implements dc.Store.
func (s *Store) Audit(_ context.Context, q dc.AuditQuery) (out []*dc.AuditEntry, err error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	defer s.catch(&err)
	source, query := s.objectStore(s.txn(scopeAudit, jsReadonly), storeAudit), js.Null()
	if q.EntityGUID != "" {
		source, query = s.index(source, idxEntityGUID), only(q.EntityGUID)
	}
	var vals js.Value
	if q.Limit > 0 {
		// Newest first, stopping at the limit.
		vals, err = cursorPrev(source, query, q.Limit)
	} else {
		vals, err = getAll(source, query, 0)
	}
	if err != nil {
		return nil, err
	}
	recs := collect(vals, false, fieldID, "", "", 0)
	if err := s.open(recs, "an audit entry", func(int) string { return aadAudit }, false); err != nil {
		return nil, err
	}
	n := recs.len()
	if n == 0 {
		return nil, nil
	}
	out = make([]*dc.AuditEntry, n)
	for j := 0; j < n; j++ {
		a, err := decodeAudit(recs.payload(j), recs.keys[j])
		if err != nil {
			return nil, err
		}
		if q.Limit > 0 {
			out[j] = a
		} else {
			out[n-1-j] = a // getAll returns the oldest first
		}
	}
	return out, nil
}

// Meta implements dc.Store.
func (s *Store) Meta(_ context.Context, key string) (v []byte, ok bool, err error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	defer s.catch(&err)
	st := s.objectStore(s.txn(scopeMeta, jsReadonly), storeMeta)
	req := st.Call("get", key)
	if err := awaitRequest(req); err != nil {
		return nil, false, err
	}
	res := req.Get("result")
	if res.IsUndefined() {
		return nil, false, nil
	}
	if n := res.Length(); n > 0 {
		v = make([]byte, n)
		js.CopyBytesToGo(v, res)
	}
	if s.cipher != nil && !clearMeta(key) {
		recs := &records{buf: v, idx: []int{0}, keys: []int64{0}, ends: []int{len(v)}}
		if err := s.open(recs, "metadata "+key, func(int) string { return aadMetaPrefix + key }, false); err != nil {
			return nil, false, err
		}
		v = recs.buf
	}
	return v, true, nil
}
