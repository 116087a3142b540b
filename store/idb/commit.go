//go:build js && wasm

package idbstore

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
)

// Commit implements dc.Store.
//
// Everything happens in one readwrite transaction:
//
//  1. When the batch has preconditions IndexedDB cannot check by itself
//     (events to update must exist; entity writes expecting a revision),
//     Commit issues all the reads at once and waits only for the last:
//     requests in one transaction complete in order. If a precondition
//     fails it aborts the transaction.
//  2. It issues every write without waiting: new events and new entity
//     records with add, so that IndexedDB rejects those that exist, and
//     the rest with put.
//  3. It waits for the transaction to complete. An aborted transaction
//     wrote nothing; its error maps to ECONFLICT (ConstraintError: a
//     record that must be absent exists), EQUOTA or ESTORE.
//
// The preconditions fail with the same codes, in the same order of
// precedence, as in the reference store (store.Memory).
func (s *Store) Commit(_ context.Context, b *dc.Batch) (err error) {
	if err := s.check(); err != nil {
		return err
	}
	if b == nil || b.Empty() {
		return nil
	}
	if err := validate(b); err != nil {
		return err
	}
	// On any failure before the transaction completes, abort it, so that
	// the writes already issued are undone.
	var txn js.Value
	var finished bool
	defer func() {
		if err != nil && !finished && !txn.IsUndefined() {
			defer func() { _ = recover() }() // already finished
			txn.Call("abort")
		}
	}()
	defer s.catch(&err)

	// Checks that need no reading.
	var dupEntity string
	var checkRevs bool
	seenEnt := make(map[string]struct{}, len(b.Entities))
	for _, w := range b.Entities {
		g := w.Record.GUID
		if _, ok := seenEnt[g]; ok && dupEntity == "" {
			dupEntity = g
		}
		seenEnt[g] = struct{}{}
		if w.ExpectRev != 0 {
			checkRevs = true
		}
	}
	// A new event that exists fails with ECONFLICT before any other check.
	// add catches it, but when another check could fail first (ENOTFOUND,
	// EINVALID) Commit reads the new events' guids too.
	checkNew := len(b.UpdatedEvents) > 0 || dupEntity != ""
	var newGUIDs map[string]struct{}
	var merged map[string]*dc.Event // the last update of events new in b
	if checkNew {
		newGUIDs = make(map[string]struct{}, len(b.NewEvents))
		for _, e := range b.NewEvents {
			if _, dup := newGUIDs[e.GUID]; dup {
				return dc.Errorf(dc.ECONFLICT, "event %s already exists", e.GUID)
			}
			newGUIDs[e.GUID] = struct{}{}
		}
		for _, e := range b.UpdatedEvents {
			if _, ok := newGUIDs[e.GUID]; ok {
				if merged == nil {
					merged = map[string]*dc.Event{}
				}
				merged[e.GUID] = e
			}
		}
		if dupEntity != "" && len(b.NewEvents) == 0 && len(b.UpdatedEvents) == 0 {
			return errDupEntity(dupEntity)
		}
	}

	// Encryption is asynchronous: it must be done before the transaction
	// starts, which would otherwise commit while it waits.
	sb, err := s.sealBatch(b, merged)
	if err != nil {
		return err
	}
	at := func(list [][]byte, i int) []byte {
		if list == nil {
			return nil
		}
		return list[i]
	}

	var scope uint8
	if len(b.NewEvents) > 0 || len(b.UpdatedEvents) > 0 {
		scope |= scopeEvents
	}
	if len(b.Entities) > 0 {
		scope |= scopeEntities
	}
	if len(b.Audit) > 0 {
		scope |= scopeAudit
	}
	if len(b.Meta) > 0 {
		scope |= scopeMeta
	}
	txn = s.txn(scope, jsReadwrite)
	var evStore, guidIdx, entStore, auStore js.Value
	if scope&scopeEvents != 0 {
		evStore = s.objectStore(txn, storeEvents)
	}
	if scope&scopeEntities != 0 {
		entStore = s.objectStore(txn, storeEntities)
	}
	if scope&scopeAudit != 0 {
		auStore = s.objectStore(txn, storeAudit)
	}

	// 1. Preconditions.
	var updLSeq []int64 // stored LSeq of each updated event (0: new in b)
	if checkNew || checkRevs {
		// Issue every read, wait for the last.
		type reads struct {
			guids []string
			at    []int // index in the batch's slice
			reqs  js.Value
		}
		var newR, updR, revR reads
		var last js.Value
		issue := func(r *reads, source, method js.Value) {
			if len(r.guids) > 0 {
				r.reqs = getMany(source, method, r.guids)
				last = r.reqs.Index(len(r.guids) - 1)
			}
		}
		if checkNew {
			guidIdx = s.index(evStore, idxGUID)
			for i, e := range b.NewEvents {
				newR.guids = append(newR.guids, e.GUID)
				newR.at = append(newR.at, i)
			}
			for i, e := range b.UpdatedEvents {
				if _, ok := newGUIDs[e.GUID]; !ok {
					updR.guids = append(updR.guids, e.GUID)
					updR.at = append(updR.at, i)
				}
			}
			issue(&newR, guidIdx, protoIndexKey)
			issue(&updR, guidIdx, protoIndexKey)
		}
		if checkRevs && dupEntity == "" {
			for i, w := range b.Entities {
				if w.ExpectRev != 0 {
					revR.guids = append(revR.guids, w.Record.GUID)
					revR.at = append(revR.at, i)
				}
			}
			issue(&revR, entStore, protoStoreGet)
		}
		if !last.IsUndefined() {
			if err := awaitRequest(last); err != nil {
				return err
			}
		}
		// Check them in the reference store's order.
		for j, k := range numbers(newR.reqs, len(newR.guids), "") {
			if k == k { // not NaN: the event exists
				return dc.Errorf(dc.ECONFLICT, "event %s already exists", b.NewEvents[newR.at[j]].GUID)
			}
		}
		if len(b.UpdatedEvents) > 0 {
			updLSeq = make([]int64, len(b.UpdatedEvents)) // 0 for events new in b: merged into their add
		}
		for j, k := range numbers(updR.reqs, len(updR.guids), "") {
			if k != k {
				return dc.Errorf(dc.ENOTFOUND, "event %s does not exist", b.UpdatedEvents[updR.at[j]].GUID)
			}
			updLSeq[updR.at[j]] = toInt64(k)
		}
		if dupEntity != "" {
			return errDupEntity(dupEntity)
		}
		for j, r := range numbers(revR.reqs, len(revR.guids), fieldRev) {
			w := b.Entities[revR.at[j]]
			var rev int64
			if r == r {
				rev = toInt64(r)
			}
			if rev != w.ExpectRev {
				return dc.Errorf(dc.ECONFLICT, "entity %s changed concurrently (revision %d, expected %d)",
					w.Record.GUID, rev, w.ExpectRev)
			}
		}
	}

	// 2. Writes.
	bw := newBatchWriter()
	defer bw.free()
	bw.group(evStore, protoAdd)
	var seal sealedBatch
	if sb != nil {
		seal = *sb
	}
	for i, e := range b.NewEvents {
		src := e
		if m := merged[e.GUID]; m != nil {
			src = m
		}
		if err := bw.event(src, 0, at(seal.newEvents, i)); err != nil {
			return err
		}
	}
	bw.group(evStore, protoPut)
	for i, e := range b.UpdatedEvents {
		if updLSeq[i] == 0 {
			continue
		}
		if err := bw.event(e, updLSeq[i], at(seal.updEvents, i)); err != nil {
			return err
		}
	}
	bw.group(entStore, protoAdd)
	hashed := func(i int) string {
		if seal.dupKeys == nil {
			return ""
		}
		return seal.dupKeys[i]
	}
	for i, w := range b.Entities {
		if w.ExpectRev == 0 && !w.Record.Gone() {
			if err := bw.record(w.Record, 1, at(seal.entities, i), hashed(i)); err != nil {
				return err
			}
		}
	}
	bw.group(entStore, protoPut)
	for i, w := range b.Entities {
		if w.ExpectRev != 0 && !w.Record.Gone() {
			if err := bw.record(w.Record, w.ExpectRev+1, at(seal.entities, i), hashed(i)); err != nil {
				return err
			}
		}
	}
	bw.group(auStore, protoAdd)
	for i, a := range b.Audit {
		if err := bw.audit(a, at(seal.audit, i)); err != nil {
			return err
		}
	}
	reqs := bw.issue()
	newReqs, auditReqs := reqs[0], reqs[4]
	for _, w := range b.Entities {
		if w.ExpectRev != 0 && w.Record.Gone() { // checked above: still at ExpectRev
			entStore.Call("delete", w.Record.GUID)
		}
	}
	if len(b.Meta) > 0 {
		st := s.objectStore(txn, storeMeta)
		for k, v := range b.Meta {
			if v == nil {
				st.Call("delete", k)
				continue
			}
			if sv, ok := seal.meta[k]; ok {
				v = sv
			}
			u := jsUint8Array.New(len(v))
			js.CopyBytesToJS(u, v)
			st.Call("put", u, k)
		}
	}

	// 3. Completion.
	e := awaitTxn(txn)
	finished = true
	if e != nil {
		return e
	}
	keys(newReqs, len(b.NewEvents), func(i int, k int64) { b.NewEvents[i].LSeq = k })
	for _, w := range b.Entities {
		w.Record.Rev = w.ExpectRev + 1
	}
	keys(auditReqs, len(b.Audit), func(i int, k int64) { b.Audit[i].ID = k })
	return nil
}

// keys passes the n keys that the array of add requests reqs generated to
// set. Keys generated in one transaction are consecutive, so reading the
// first and the last usually suffices.
func keys(reqs js.Value, n int, set func(i int, k int64)) {
	if n == 0 {
		return
	}
	key := func(i int) int64 { return jsInt64(reqs.Index(i).Get("result")) }
	first := key(0)
	if last := key(n - 1); last-first != int64(n-1) {
		for i := 0; i < n; i++ {
			set(i, key(i))
		}
		return
	}
	for i := 0; i < n; i++ {
		set(i, first+int64(i))
	}
}

// validate rejects batches holding nil values.
func validate(b *dc.Batch) error {
	for _, e := range b.NewEvents {
		if e == nil {
			return dc.Errorf(dc.EINVALID, "batch holds a nil event")
		}
	}
	for _, e := range b.UpdatedEvents {
		if e == nil {
			return dc.Errorf(dc.EINVALID, "batch holds a nil event")
		}
	}
	for _, w := range b.Entities {
		if w.Record == nil {
			return dc.Errorf(dc.EINVALID, "batch holds a nil entity record")
		}
	}
	for _, a := range b.Audit {
		if a == nil {
			return dc.Errorf(dc.EINVALID, "batch holds a nil audit entry")
		}
	}
	return nil
}

func errDupEntity(guid string) *dc.Error {
	return dc.Errorf(dc.EINVALID, "entity %s written twice in one batch", guid)
}
