//go:build js && wasm

// Package idbstore implements the client Store contract (datacollect.Store)
// on IndexedDB, for the WebAssembly build of the client.
//
// Each record is a plain JavaScript object holding only the clear fields
// that keys and indexes need, plus p: a Uint8Array with the record's
// payload (a two-byte header, then its MessagePack encoding; see codec.go),
// opaque to the store so that it can later be encrypted. The schema
// (version 3):
//
//	events    keyPath lseq, autoIncrement (the local insertion order);
//	          indexes guid (unique), entityGuid, syncLevel, seq (only
//	          events with a server sequence have the property), failed
//	          (version 2: only failed events have it, holding the code)
//	entities  keyPath guid; fields rev, type, externalId (omitted when
//	          empty); indexes type, externalId, and (version 3) the
//	          sparse dupKey (the current state's duplicate key, only
//	          when it has one) and conflicted (1, only when the current
//	          state has open conflicts)
//	audit     keyPath id, autoIncrement; index entityGuid
//	meta      out-of-line string keys; values are Uint8Arrays
//
// Entity.DupKey is not in the payload (it is not replicated): reads take it
// from the record's dupKey field, so that a read-modify-write keeps it.
//
// Commit applies a Batch in one readwrite transaction: it reads the
// preconditions it has to check (stored revisions, events to update),
// then issues every write without waiting for each, and waits for the
// transaction to complete. New events and entity records are added with
// add, so that IndexedDB itself enforces that they are absent: a
// ConstraintError aborts the whole transaction and Commit returns
// ECONFLICT. Every read runs in one readonly transaction.
//
// Each call from Go to JavaScript costs about a microsecond, so the hot
// paths keep them few: a constant number per batch for Commit's writes and
// for the requests of batched gets (write.go, bulk.go), a few per record
// read. They use JavaScript builtins only, no code compiled at run time,
// so that the store works under a Content Security Policy without
// 'unsafe-eval'.
//
// Opening, upgrading and deleting the database go through
// github.com/hack-pad/go-indexeddb; the hot paths use the IDBDatabase
// directly, through syscall/js.
package idbstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	dc "github.com/datacollect/datacollect"
)

// Version is the schema version Open creates or upgrades to.
const Version = 3

// Object store and index names.
const (
	storeEvents   = "events"
	storeEntities = "entities"
	storeAudit    = "audit"
	storeMeta     = "meta"

	idxGUID       = "guid"
	idxEntityGUID = "entityGuid"
	idxSyncLevel  = "syncLevel"
	idxSeq        = "seq"
	idxType       = "type"
	idxExternalID = "externalId"
	idxFailed     = "failed"
	idxDupKey     = "dupKey"
	idxConflicted = "conflicted"
)

// Record field names.
const (
	fieldP          = "p"
	fieldGUID       = "guid"
	fieldEntityGUID = "entityGuid"
	fieldLSeq       = "lseq"
	fieldSeq        = "seq"
	fieldRev        = "rev"
	fieldID         = "id"
	fieldSyncLevel  = "syncLevel"
	fieldType       = "type"
	fieldExternalID = "externalId"
	fieldFailed     = "failed"     // the failure code, only on failed events
	fieldDupKey     = "dupKey"     // the duplicate key, only on entities that have one
	fieldConflicted = "conflicted" // 1, only on entities with open conflicts
)

// metaMigrateFailed marks a database upgraded from version 1 whose failed
// events still lack fieldFailed; Open rewrites them (see migrate).
const metaMigrateFailed = "idb.migrate.failed"

// metaMigrateConflicted marks a database upgraded from version 1 or 2
// whose entities with open conflicts still lack fieldConflicted; Open
// rewrites them (see migrate).
const metaMigrateConflicted = "idb.migrate.conflicted"

// Store is a datacollect.Store on an IndexedDB database.
type Store struct {
	db       js.Value // the IDBDatabase
	name     string
	closed   atomic.Bool
	onChange js.Func // closes the connection on versionchange and close

	// cipher, when set, encrypts payloads (see cipher.go); allowPlain
	// lets reads accept clear ones while an encryption is unfinished.
	cipher     Cipher
	allowPlain bool

	// Cached names (js strings) of the object stores and scope arrays.
	names  map[string]js.Value
	scopes map[uint8]js.Value
}

var _ dc.Store = (*Store)(nil)

// Open opens the IndexedDB database name, creating it or upgrading its
// schema to Version when needed. Callers pick one database per app, for
// example "datacollect-<appId>".
//
// When another connection holds an older version open, or a deletion of
// the database waits for connections to close, Open waits until it can
// proceed or ctx is done.
func Open(ctx context.Context, name string) (*Store, error) {
	return open(ctx, name, Version, upgrade)
}

// open is Open with the schema upgrade up.
func open(ctx context.Context, name string, version uint, up upgrader) (s *Store, err error) {
	if e := initJS(); e != nil {
		return nil, e
	}
	if err := ctx.Err(); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "opening database %s: %v", name, err)
	}
	defer (*Store)(nil).catch(&err)

	// go-indexeddb listens for the request's upgradeneeded (and success)
	// until upgradeCtx ends. It must not be ctx: an open given up on still
	// proceeds once unblocked, and without its upgrade it would leave the
	// database at Version with no schema.
	upgradeCtx, release := context.WithCancel(context.Background())
	var req *idb.OpenDBRequest
	var upErr error
	req, err = idb.Global().Open(upgradeCtx, name, version, func(db *idb.Database, oldVersion, newVersion uint) error {
		if err := up(db, oldVersion, newVersion, func() js.Value { return versionChangeTxn(req) }); err != nil {
			upErr = err
			abortUpgrade(req) // req is set: the event fires after Open returns
		}
		// An error returned here would panic in go-indexeddb's event
		// listener, which ends the Go program.
		return nil
	})
	if err != nil {
		release()
		return nil, idbError(err, "cannot open database "+name)
	}
	// When ctx ends first, Await returns no error (and no database).
	_, err = req.Await(ctx)
	if ctx.Err() != nil {
		abandonOpen(req, release)
		return nil, dc.Errorf(dc.ESTORE, "opening database %s: %v", name, ctx.Err())
	}
	release()
	if upErr != nil {
		if err == nil { // the abort failed
			closeOpened(req)
		}
		return nil, dc.Errorf(dc.ESTORE, "cannot upgrade database %s to version %d: %v", name, version, upErr)
	}
	if err != nil {
		return nil, idbError(err, "cannot open database "+name)
	}
	// The IDBDatabase itself: the hot paths use it directly.
	db, err := req.Request.Result()
	if err != nil {
		return nil, idbError(err, "cannot open database "+name)
	}
	if db.Type() != js.TypeObject {
		return nil, dc.Errorf(dc.ESTORE, "cannot open database %s: no connection", name)
	}
	s = &Store{db: db, name: name, names: map[string]js.Value{}, scopes: map[uint8]js.Value{}}
	for _, n := range []string{storeEvents, storeEntities, storeAudit, storeMeta,
		idxGUID, idxEntityGUID, idxSyncLevel, idxSeq, idxType, idxExternalID, idxFailed,
		idxDupKey, idxConflicted} {
		s.names[n] = js.ValueOf(n)
	}
	// Another connection wants to upgrade or delete the database, or the
	// browser closed it (storage cleared): close, so as not to block it,
	// and fail later calls with ECLOSED. (go-indexeddb closes the
	// connection on versionchange too.)
	s.onChange = js.FuncOf(func(js.Value, []js.Value) any {
		if !s.closed.Swap(true) {
			s.db.Call("close")
		}
		return nil
	})
	s.db.Set("onversionchange", s.onChange)
	s.db.Set("onclose", s.onChange)
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// migrate finishes the upgrades: see migrateFailed and migrateConflicted.
func (s *Store) migrate(ctx context.Context) error {
	if err := s.migrateFailed(ctx); err != nil {
		return err
	}
	return s.migrateConflicted(ctx)
}

// migrateFailed finishes an upgrade from schema version 1: it rewrites the
// failed events so that the failed index holds them, and clears the marker
// in the same commit (a crash midway leaves the marker: the next open
// redoes it).
func (s *Store) migrateFailed(ctx context.Context) error {
	if _, ok, err := s.Meta(ctx, metaMigrateFailed); err != nil || !ok {
		return err
	}
	local, err := s.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	b := &dc.Batch{Meta: map[string][]byte{metaMigrateFailed: nil}}
	for _, e := range local {
		if e.Failure != nil {
			b.UpdatedEvents = append(b.UpdatedEvents, e)
		}
	}
	if err := s.Commit(ctx, b); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrateConflicted finishes an upgrade from schema version 1 or 2: it
// reads every entity record once and rewrites those whose current state
// has open conflicts, so that the conflicted index holds them, clearing
// the marker in the same commit. Another tab writing an entity meanwhile
// makes the commit fail (ECONFLICT): it reads them again, and after a few
// attempts leaves the marker for the next open.
func (s *Store) migrateConflicted(ctx context.Context) error {
	if _, ok, err := s.Meta(ctx, metaMigrateConflicted); err != nil || !ok {
		return err
	}
	for attempt := 1; ; attempt++ {
		recs, err := s.ListEntities(ctx, dc.EntityQuery{})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		b := &dc.Batch{Meta: map[string][]byte{metaMigrateConflicted: nil}}
		for _, r := range recs {
			if r.Current != nil && len(r.Current.Conflicts) > 0 {
				b.Entities = append(b.Entities, dc.EntityWrite{Record: r, ExpectRev: r.Rev})
			}
		}
		err = s.Commit(ctx, b)
		if err == nil || (dc.ErrorCode(err) == dc.ECONFLICT && attempt == 3) {
			return nil
		}
		if dc.ErrorCode(err) != dc.ECONFLICT {
			return fmt.Errorf("migrate: %w", err)
		}
	}
}

// abandonOpen gives up on the open request req, whose caller's context
// ended: it closes the connection req opened or will open, and calls
// release once req has completed.
func abandonOpen(req *idb.OpenDBRequest, release context.CancelFunc) {
	if state, err := req.ReadyState(); err == nil && state == "done" {
		// It completed as ctx ended.
		release()
		if req.Err() == nil {
			closeOpened(req)
		}
		return
	}
	// No event can be dispatched before the listeners are in place: Go
	// does not return to the event loop in between.
	err := req.Listen(context.Background(), func() {
		closeOpened(req)
		release()
	}, release)
	if err != nil {
		release()
	}
}

// closeOpened closes the connection that the open request req made.
func closeOpened(req *idb.OpenDBRequest) {
	if db, err := req.Request.Result(); err == nil && db.Type() == js.TypeObject {
		db.Call("close")
	}
}

// upgrade creates or upgrades the schema from oldVersion to newVersion, in
// the upgradeneeded event of the open request. Each version's changes go in
// their own block, so that a database at any older version reaches the
// current one. go-indexeddb's Upgrader gets no transaction: a later
// version's block that changes an existing object store (an index to add,
// records to migrate) reaches it through versionChangeTxn.
func upgrade(db *idb.Database, oldVersion, newVersion uint, txn func() js.Value) error {
	type index struct {
		name, keyPath string
		unique        bool
	}
	type objectStore struct {
		name    string
		opts    idb.ObjectStoreOptions
		indexes []index
	}
	create := func(stores ...objectStore) error {
		for _, o := range stores {
			st, err := db.CreateObjectStore(o.name, o.opts)
			if err != nil {
				return fmt.Errorf("object store %s: %w", o.name, err)
			}
			for _, ix := range o.indexes {
				if _, err := st.CreateIndex(ix.name, js.ValueOf(ix.keyPath), idb.IndexOptions{Unique: ix.unique}); err != nil {
					return fmt.Errorf("index %s.%s: %w", o.name, ix.name, err)
				}
			}
		}
		return nil
	}
	if oldVersion < 1 {
		err := create(
			objectStore{storeEvents, idb.ObjectStoreOptions{KeyPath: js.ValueOf(fieldLSeq), AutoIncrement: true}, []index{
				{idxGUID, fieldGUID, true}, {idxEntityGUID, fieldEntityGUID, false},
				{idxSyncLevel, fieldSyncLevel, false}, {idxSeq, fieldSeq, false}}},
			objectStore{storeEntities, idb.ObjectStoreOptions{KeyPath: js.ValueOf(fieldGUID)}, []index{
				{idxType, fieldType, false}, {idxExternalID, fieldExternalID, false}}},
			objectStore{storeAudit, idb.ObjectStoreOptions{KeyPath: js.ValueOf(fieldID), AutoIncrement: true}, []index{
				{idxEntityGUID, fieldEntityGUID, false}}},
			objectStore{storeMeta, idb.ObjectStoreOptions{KeyPath: js.Null()}, nil}, // out-of-line keys
		)
		if err != nil {
			return err
		}
	}
	if oldVersion < 2 && newVersion >= 2 {
		// Failed events get an index of their own (status counts them).
		t := txn()
		t.Call("objectStore", storeEvents).Call("createIndex", idxFailed, fieldFailed)
		if oldVersion == 1 {
			// Their records get the field after the open (migrate).
			t.Call("objectStore", storeMeta).Call("put", jsUint8Array.New(1), metaMigrateFailed)
		}
	}
	if oldVersion < 3 && newVersion >= 3 {
		// Entities get two sparse indexes: by duplicate key, and those
		// with open conflicts.
		t := txn()
		st := t.Call("objectStore", storeEntities)
		st.Call("createIndex", idxDupKey, fieldDupKey)
		st.Call("createIndex", idxConflicted, fieldConflicted)
		if oldVersion >= 1 {
			// Entities with conflicts get the field after the open
			// (migrate). Duplicate keys depend on the client's key
			// configuration, which the store does not know: the client
			// sets them (client.Client.Duplicates re-keys the entities
			// whose key is stale, including those written before v3).
			t.Call("objectStore", storeMeta).Call("put", jsUint8Array.New(1), metaMigrateConflicted)
		}
	}
	return nil
}

// upgrader upgrades the schema from oldVersion inside the versionchange
// transaction that txn returns.
type upgrader func(db *idb.Database, oldVersion, newVersion uint, txn func() js.Value) error

// scratchStore is an object store name the schema does not use.
const scratchStore = "idbstore-scratch"

// versionChangeTxn returns the versionchange transaction of the open
// request req, from its upgradeneeded event. go-indexeddb does not expose
// it, but every object store belongs to the transaction it is created in:
// a scratch store, created and deleted at once, leads to it.
func versionChangeTxn(req *idb.OpenDBRequest) js.Value {
	db, err := req.Request.Result()
	if err != nil {
		panic(err)
	}
	txn := db.Call("createObjectStore", scratchStore).Get("transaction")
	db.Call("deleteObjectStore", scratchStore)
	return txn
}

// abortUpgrade aborts the upgrade of the open request req, from its
// upgradeneeded event: the database keeps its previous version and schema,
// and the open fails.
func abortUpgrade(req *idb.OpenDBRequest) {
	defer func() { _ = recover() }() // the transaction is no longer active
	versionChangeTxn(req).Call("abort")
}

// Delete deletes the database name. It waits until every connection to it
// is closed (this package's close on request) or ctx is done; a deletion
// given up on still happens once the connections close.
func Delete(ctx context.Context, name string) (err error) {
	if e := initJS(); e != nil {
		return e
	}
	defer (*Store)(nil).catch(&err)
	req, err := idb.Global().DeleteDatabase(name)
	if err != nil {
		return idbError(err, "cannot delete database "+name)
	}
	// When ctx ends first, Await returns no error.
	err = req.Await(ctx)
	if ctx.Err() != nil {
		if state, e := req.ReadyState(); e != nil || state != "done" {
			return dc.Errorf(dc.ESTORE, "deleting database %s: %v", name, ctx.Err())
		}
		err = req.Err() // it completed as ctx ended
	}
	if err != nil {
		return idbError(err, "cannot delete database "+name)
	}
	return nil
}

// Name returns the database's name.
func (s *Store) Name() string { return s.name }

// Close implements dc.Store. The connection closes once its pending
// transactions complete.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	defer func() { _ = recover() }()
	s.db.Set("onversionchange", js.Null())
	s.db.Set("onclose", js.Null())
	s.onChange.Release()
	s.db.Call("close")
	return nil
}

// Scope bits, for the object stores a transaction spans.
const (
	scopeEvents uint8 = 1 << iota
	scopeEntities
	scopeAudit
	scopeMeta
)

// txn starts a transaction on the object stores in scope.
func (s *Store) txn(scope uint8, mode js.Value) js.Value {
	sc, ok := s.scopes[scope]
	if !ok {
		var names []any
		for i, n := range []string{storeEvents, storeEntities, storeAudit, storeMeta} {
			if scope&(1<<i) != 0 {
				names = append(names, n)
			}
		}
		sc = js.ValueOf(names)
		s.scopes[scope] = sc
	}
	return s.db.Call("transaction", sc, mode)
}

// objectStore returns the named object store of txn.
func (s *Store) objectStore(txn js.Value, name string) js.Value {
	return txn.Call("objectStore", s.names[name])
}

// index returns the named index of an object store.
func (s *Store) index(store js.Value, name string) js.Value {
	return store.Call("index", s.names[name])
}

// check returns ECLOSED once the store is closed.
func (s *Store) check() error {
	if s.closed.Load() {
		return errClosed()
	}
	return nil
}
