//go:build js && wasm

package idbstore

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"
)

// OpenFailingUpgrade is Open with an upgrade that fails after creating the
// schema.
func OpenFailingUpgrade(ctx context.Context, name string) (*Store, error) {
	return open(ctx, name, Version, func(db *idb.Database, oldVersion, newVersion uint, txn func() js.Value) error {
		if err := upgrade(db, oldVersion, newVersion, txn); err != nil {
			return err
		}
		return errors.New("injected failure")
	})
}

// OpenV1 opens (or creates) name at schema version 1, as the first release
// did.
func OpenV1(ctx context.Context, name string) (*Store, error) {
	return open(ctx, name, 1, func(db *idb.Database, oldVersion, newVersion uint, txn func() js.Value) error {
		return upgrade(db, oldVersion, newVersion, txn)
	})
}

// StripFailedField removes the failed-index field from every event record,
// as records written before schema version 2 lack it.
func StripFailedField(s *Store) error {
	txn := s.db.Call("transaction", storeEvents, "readwrite")
	st := txn.Call("objectStore", storeEvents)
	req := st.Call("getAll")
	if err := awaitRequest(req); err != nil {
		return err
	}
	arr := req.Get("result")
	for i := 0; i < arr.Length(); i++ {
		r := arr.Index(i)
		r.Delete(fieldFailed)
		st.Call("put", r)
	}
	if e := awaitTxn(txn); e != nil {
		return e
	}
	return nil
}

// OpenV2 opens (or creates) name at schema version 2.
func OpenV2(ctx context.Context, name string) (*Store, error) {
	return open(ctx, name, 2, func(db *idb.Database, oldVersion, newVersion uint, txn func() js.Value) error {
		return upgrade(db, oldVersion, newVersion, txn)
	})
}

// StripEntityIndexFields removes the fields of the version 3 indexes from
// every entity record, as records written before that version lack them.
func StripEntityIndexFields(s *Store) error {
	txn := s.db.Call("transaction", storeEntities, "readwrite")
	st := txn.Call("objectStore", storeEntities)
	req := st.Call("getAll")
	if err := awaitRequest(req); err != nil {
		return err
	}
	arr := req.Get("result")
	for i := 0; i < arr.Length(); i++ {
		r := arr.Index(i)
		r.Delete(fieldDupKey)
		r.Delete(fieldConflicted)
		st.Call("put", r)
	}
	if e := awaitTxn(txn); e != nil {
		return e
	}
	return nil
}

// Tamper replaces the payload of the record key of the object store name
// (a meta value, for "meta") by what change returns.
func Tamper(s *Store, name string, key any, change func([]byte) []byte) error {
	txn := s.db.Call("transaction", name, "readwrite")
	st := txn.Call("objectStore", name)
	req := st.Call("get", key)
	if err := awaitRequest(req); err != nil {
		return err
	}
	v := req.Get("result")
	if name == storeMeta {
		b := change(readBytes(nil, v))
		u := jsUint8Array.New(len(b))
		js.CopyBytesToJS(u, b)
		st.Call("put", u, key)
	} else {
		b := change(readBytes(nil, v.Get(fieldP)))
		u := jsUint8Array.New(len(b))
		js.CopyBytesToJS(u, b)
		v.Set(fieldP, u)
		st.Call("put", v)
	}
	if e := awaitTxn(txn); e != nil {
		return e
	}
	return nil
}

// Payload returns the stored payload of the record key of store name.
func Payload(s *Store, name string, key any) ([]byte, error) {
	st := s.db.Call("transaction", name, "readonly").Call("objectStore", name)
	req := st.Call("get", key)
	if err := awaitRequest(req); err != nil {
		return nil, err
	}
	v := req.Get("result")
	if name != storeMeta {
		v = v.Get(fieldP)
	}
	return readBytes(nil, v), nil
}
