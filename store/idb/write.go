//go:build js && wasm

package idbstore

import (
	"strconv"
	"sync"
	"syscall/js"
	"unicode/utf8"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/jsonx"
)

// batchWriter encodes the records of a batch and issues their writes with
// few calls to JavaScript, builtins only: the clear fields of all records
// go as one JSON text, which JSON.parse turns into objects, and the
// payloads as one Uint8Array, which one Array.prototype.map slices into a
// copy per record. Each group of records (one object store, one method) is
// then written by one map over the group with Reflect.apply bound to the
// method and the store. What remains per record is attaching its payload:
// three cheap calls.
//
// The JSON text is [group, ..., group, pairs]: a group is an array of
// one-element arrays [{fields}] (the arguments lists of Reflect.apply),
// pairs the [start, end] of each record's payload in the same order.
type batchWriter struct {
	json   []byte
	pay    []byte
	ends   []int
	groups []writeGroup
	n      int     // records written
	sep    bool    // a field was written in the current object
	fixups []fixup // fields to set after parsing
}

type writeGroup struct {
	store, method js.Value
	n             int
}

// A fixup is a string field that is not valid UTF-8. It is set with
// js.Value.Set after parsing, so that it converts to the same JavaScript
// string as the same Go string does when a read looks it up.
type fixup struct {
	obj      int
	key, val string
}

var writerPool = sync.Pool{New: func() any { return new(batchWriter) }}

func newBatchWriter() *batchWriter {
	w := writerPool.Get().(*batchWriter)
	w.json = append(w.json[:0], '[')
	return w
}

// free returns w to the pool (dropping unusually large buffers).
func (w *batchWriter) free() {
	if cap(w.pay) > 8<<20 || cap(w.json) > 8<<20 {
		return
	}
	clear(w.groups)
	*w = batchWriter{json: w.json[:0], pay: w.pay[:0], ends: w.ends[:0], groups: w.groups[:0], fixups: w.fixups[:0]}
	writerPool.Put(w)
}

// group starts the group of records written to store by method (an
// IDBObjectStore.prototype method).
func (w *batchWriter) group(store, method js.Value) {
	if len(w.groups) > 0 {
		w.json = append(w.json, ']', ',')
	}
	w.json = append(w.json, '[')
	w.groups = append(w.groups, writeGroup{store: store, method: method})
}

func (w *batchWriter) open() {
	g := &w.groups[len(w.groups)-1]
	if g.n > 0 {
		w.json = append(w.json, ',')
	}
	w.json = append(w.json, '[', '{')
	g.n++
	w.n++
	w.sep = false
}

func (w *batchWriter) close() {
	w.json = append(w.json, '}', ']')
	w.ends = append(w.ends, len(w.pay))
}

func (w *batchWriter) key(key string) {
	if w.sep {
		w.json = append(w.json, ',')
	}
	w.sep = true
	w.json = append(w.json, '"')
	w.json = append(w.json, key...)
	w.json = append(w.json, '"', ':')
}

func (w *batchWriter) str(key, val string) {
	if !utf8.ValidString(val) {
		w.fixups = append(w.fixups, fixup{w.n - 1, key, val})
		return
	}
	w.key(key)
	w.json = jsonx.AppendString(w.json, val)
}

func (w *batchWriter) num(key string, val int64) {
	w.key(key)
	w.json = strconv.AppendInt(w.json, val, 10)
}

func encodeErr(what, guid string, err error) *dc.Error {
	return dc.Errorf(dc.EINVALID, "cannot encode %s %s: %v", what, guid, err)
}

// payload appends p, a sealed payload, or else the encoding of a record.
func (w *batchWriter) payload(p []byte, what, guid string, enc func([]byte) ([]byte, error)) (err error) {
	if p != nil {
		w.pay = append(w.pay, p...)
		return nil
	}
	if w.pay, err = enc(w.pay); err != nil {
		return encodeErr(what, guid, err)
	}
	return nil
}

// event adds an event (lseq: its key, 0 for a new event), whose payload is
// sealed, when it is not nil.
func (w *batchWriter) event(e *dc.Event, lseq int64, sealed []byte) error {
	if err := w.payload(sealed, "event", e.GUID, func(b []byte) ([]byte, error) { return appendEvent(b, e) }); err != nil {
		return err
	}
	w.open()
	w.str(fieldGUID, e.GUID)
	if lseq != 0 {
		w.num(fieldLSeq, lseq)
	}
	if e.EntityGUID != "" {
		w.str(fieldEntityGUID, e.EntityGUID)
	}
	if e.SyncLevel != "" {
		w.str(fieldSyncLevel, string(e.SyncLevel))
	}
	if e.Seq != 0 {
		w.num(fieldSeq, e.Seq)
	}
	if e.Failure != nil {
		w.str(fieldFailed, e.Failure.Code)
	}
	w.close()
	return nil
}

// record adds an entity record at revision rev. When its payload is
// sealed, its duplicate key's index field holds hashedKey.
func (w *batchWriter) record(r *dc.EntityRecord, rev int64, sealed []byte, hashedKey string) error {
	if err := w.payload(sealed, "entity", r.GUID, func(b []byte) ([]byte, error) { return appendRecord(b, r) }); err != nil {
		return err
	}
	w.open()
	w.str(fieldGUID, r.GUID)
	w.num(fieldRev, rev)
	if c := r.Current; c != nil {
		if c.Type != "" {
			w.str(fieldType, string(c.Type))
		}
		if c.ExternalID != "" {
			w.str(fieldExternalID, c.ExternalID)
		}
		// The sparse indexes: only records with a duplicate key, or with
		// open conflicts, have their fields.
		switch {
		case sealed != nil:
			if hashedKey != "" {
				w.str(fieldDupKey, hashedKey)
			}
		case c.DupKey != "":
			w.str(fieldDupKey, c.DupKey)
		}
		if len(c.Conflicts) > 0 {
			w.num(fieldConflicted, 1)
		}
	}
	w.close()
	return nil
}

// audit adds an audit entry (sealed: its sealed payload, or nil).
func (w *batchWriter) audit(a *dc.AuditEntry, sealed []byte) error {
	if err := w.payload(sealed, "audit entry", a.GUID, func(b []byte) ([]byte, error) { return appendAudit(b, a) }); err != nil {
		return err
	}
	w.open()
	if a.EntityGUID != "" {
		w.str(fieldEntityGUID, a.EntityGUID)
	}
	w.close()
	return nil
}

// issue issues every write and returns, per group, the array of its
// requests (undefined for an empty group).
func (w *batchWriter) issue() []js.Value {
	out := make([]js.Value, len(w.groups))
	if w.n == 0 {
		return out
	}
	w.json = append(w.json, ']', ',', '[')
	start := 0
	for i, end := range w.ends {
		if i > 0 {
			w.json = append(w.json, ',')
		}
		w.json = append(w.json, '[')
		w.json = strconv.AppendInt(w.json, int64(start), 10)
		w.json = append(w.json, ',')
		w.json = strconv.AppendInt(w.json, int64(end), 10)
		w.json = append(w.json, ']')
		start = end
	}
	w.json = append(w.json, ']', ']')

	big := jsUint8Array.New(len(w.pay))
	js.CopyBytesToJS(big, w.pay)
	top := jsJSONParse.Invoke(string(w.json))
	// The records, in order (then the pairs' numbers, unused).
	objs := callFlat.Invoke(top, 2)
	for _, f := range w.fixups {
		objs.Index(f.obj).Set(f.key, f.val)
	}
	slices := callMap.Invoke(top.Index(len(w.groups)), applyTo(protoSlice, big))
	for k := 0; k < w.n; k++ {
		objs.Index(k).Set(fieldP, slices.Index(k))
	}
	for i, g := range w.groups {
		if g.n > 0 {
			out[i] = callMap.Invoke(top.Index(i), applyTo(g.method, g.store))
		}
	}
	return out
}
