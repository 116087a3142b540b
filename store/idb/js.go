//go:build js && wasm

package idbstore

import (
	"errors"
	"strings"
	"sync"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	dc "github.com/datacollect/datacollect"
)

// JavaScript values looked up once. Hot paths call prototype methods
// through Array.prototype.map and Reflect.apply bound to the method
// (applyTo), which handles a whole array of records in one call from Go;
// builtins only, as the store must work on pages whose Content Security
// Policy forbids compiling code ('unsafe-eval').
var (
	jsOnce sync.Once
	jsErr  *dc.Error

	jsKeyRange   js.Value
	jsUint8Array js.Value
	jsJSONParse  js.Value

	protoSlice    js.Value // Uint8Array.prototype.slice
	protoAdd      js.Value // IDBObjectStore.prototype.add
	protoPut      js.Value // IDBObjectStore.prototype.put
	protoStoreGet js.Value // IDBObjectStore.prototype.get
	protoIndexGet js.Value // IDBIndex.prototype.get
	protoIndexKey js.Value // IDBIndex.prototype.getKey

	reflectApply js.Value // Reflect.apply
	callBind     js.Value // (f, this, ...args) => f.bind(this, ...args)
	callMap      js.Value // (array, f) => array.map(f)
	callFlat     js.Value // (array, depth) => array.flat(depth)

	jsReadonly  = js.ValueOf("readonly")
	jsReadwrite = js.ValueOf("readwrite")
	jsPrev      = js.ValueOf("prev")
)

// initJS looks up the browser APIs the store uses.
func initJS() *dc.Error {
	jsOnce.Do(func() {
		g := js.Global()
		if !g.Get("indexedDB").Truthy() {
			jsErr = dc.Errorf(dc.ESTORE, "IndexedDB is not available in this environment")
			return
		}
		jsKeyRange = g.Get("IDBKeyRange")
		jsUint8Array = g.Get("Uint8Array")
		jsJSONParse = g.Get("JSON").Get("parse")
		proto := func(class, method string) js.Value {
			return g.Get(class).Get("prototype").Get(method)
		}
		protoSlice = proto("Uint8Array", "slice")
		protoAdd = proto("IDBObjectStore", "add")
		protoPut = proto("IDBObjectStore", "put")
		protoStoreGet = proto("IDBObjectStore", "get")
		protoIndexGet = proto("IDBIndex", "get")
		protoIndexKey = proto("IDBIndex", "getKey")
		reflectApply = g.Get("Reflect").Get("apply")
		call := proto("Function", "call")
		callBind = call.Call("bind", proto("Function", "bind"))
		callMap = call.Call("bind", proto("Array", "map"))
		callFlat = call.Call("bind", proto("Array", "flat"))
	})
	return jsErr
}

// applyTo returns args => Reflect.apply(method, this, args): mapped over
// an array of argument lists it calls method on this with each, and
// ignores the index and array that map passes too.
func applyTo(method, this js.Value) js.Value {
	return callBind.Invoke(reflectApply, js.Null(), method, this)
}

// await waits until target fires ok (success) or fail, and reports which.
// The handlers are set as on<event> properties, which no one else uses on
// the requests and transactions this package creates. The caller must not
// have returned to the event loop since it issued the request: the
// handlers must be in place before the event can be dispatched.
//
// When the event arrives the Go runtime runs every runnable goroutine
// before returning to JavaScript, so the waiting goroutine resumes inside
// the event's dispatch, while the transaction is still active and can take
// further requests.
func await(target js.Value, ok, fail string) bool {
	ch := make(chan bool, 1)
	okEvent := ok
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- args[0].Get("type").String() == okEvent
		return nil
	})
	target.Set("on"+ok, fn)
	target.Set("on"+fail, fn)
	res := <-ch
	target.Set("on"+ok, js.Null())
	target.Set("on"+fail, js.Null())
	fn.Release()
	return res
}

// awaitRequest waits for an IDBRequest and returns its error, if any.
func awaitRequest(req js.Value) *dc.Error {
	if await(req, "success", "error") {
		return nil
	}
	return domError(req.Get("error"), "request failed")
}

// awaitTxn waits for a transaction to commit and returns why it aborted,
// if it did.
func awaitTxn(txn js.Value) *dc.Error {
	if await(txn, "complete", "abort") {
		return nil
	}
	return domError(txn.Get("error"), "transaction aborted")
}

// domError maps a DOMException (or null) to a store error.
func domError(e js.Value, fallback string) *dc.Error {
	if e.IsNull() || e.IsUndefined() {
		return dc.Errorf(dc.ESTORE, "%s", fallback)
	}
	name := e.Get("name")
	msg := e.Get("message")
	var n, m string
	if name.Type() == js.TypeString {
		n = name.String()
	}
	if msg.Type() == js.TypeString {
		m = msg.String()
	}
	switch n {
	case "ConstraintError":
		return dc.Errorf(dc.ECONFLICT, "a record already exists: %s", m)
	case "QuotaExceededError":
		return dc.Errorf(dc.EQUOTA, "storage quota exceeded: %s", m)
	default:
		if n == "" {
			return dc.Errorf(dc.ESTORE, "%s: %s", fallback, e.Call("toString").String())
		}
		return dc.Errorf(dc.ESTORE, "IndexedDB %s: %s", n, m)
	}
}

// idbError maps an error of go-indexeddb (a DOMException, or a JavaScript
// exception) to a store error.
func idbError(err error, what string) *dc.Error {
	var jsErr js.Error
	switch {
	case errors.Is(err, idb.NewDOMException("ConstraintError")):
		return dc.Errorf(dc.ECONFLICT, "%s: %v", what, err)
	case errors.Is(err, idb.NewDOMException("QuotaExceededError")):
		return dc.Errorf(dc.EQUOTA, "%s: %v", what, err)
	case errors.As(err, &jsErr):
		return domError(jsErr.Value, what)
	default:
		return dc.Errorf(dc.ESTORE, "%s: %v", what, err)
	}
}

// catch turns a JavaScript exception thrown by a syscall/js call, or a
// syscall/js panic on a value of the wrong type (a corrupt record), into a
// store error in *err. Other panics are bugs and propagate.
func (s *Store) catch(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if s != nil && s.closed.Load() {
		*err = errClosed()
		return
	}
	switch x := r.(type) {
	case js.Error:
		*err = domError(x.Value, "IndexedDB call failed")
	case *js.ValueError:
		*err = dc.Errorf(dc.ESTORE, "unexpected stored value: %v", x)
	case string:
		if !strings.HasPrefix(x, "syscall/js:") {
			panic(r)
		}
		*err = dc.Errorf(dc.ESTORE, "unexpected stored value: %s", x)
	default:
		panic(r)
	}
}

func errClosed() *dc.Error { return dc.Errorf(dc.ECLOSED, "store is closed") }

// jsInt64 returns v as an int64, or 0 when it is not a number.
func jsInt64(v js.Value) int64 {
	if v.Type() != js.TypeNumber {
		return 0
	}
	return toInt64(v.Float())
}

// toInt64 converts a key or revision, 0 for NaN and infinities.
func toInt64(f float64) int64 {
	if f != f || f > 1<<63-1 || f < -1<<63 {
		return 0
	}
	return int64(f)
}
