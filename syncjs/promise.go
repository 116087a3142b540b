//go:build js && wasm

package syncjs

import (
	"fmt"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
)

var (
	jsPromise     = js.Global().Get("Promise")
	jsError       = js.Global().Get("Error")
	jsJSON        = js.Global().Get("JSON")
	jsObject      = js.Global().Get("Object")
	jsEventTarget = js.Global().Get("EventTarget")
	jsCustomEvent = js.Global().Get("CustomEvent")
)

// asyncFunc returns a JS function that returns a Promise. prepare runs
// synchronously, while the caller's arguments are still as they were passed
// (it converts them to Go values); the work it returns runs on its own
// goroutine, and its result or error settles the Promise. Errors reject with
// a JS Error carrying a stable code; panics reject with EINTERNAL.
func asyncFunc(prepare func(args []js.Value) (work func() (any, error))) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (ret any) {
		p, resolve, reject := newPromise()
		work, err := safePrepare(prepare, args)
		if err != nil {
			reject.Invoke(toJSError(err))
			return p
		}
		go func() {
			v, err := safeWork(work)
			if err != nil {
				reject.Invoke(toJSError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return p
	})
}

// newPromise returns a pending Promise and its resolve and reject functions,
// through Promise.withResolvers where the browser has it (no callback into
// Go), else through an executor.
func newPromise() (p, resolve, reject js.Value) {
	if hasWithResolvers {
		r := jsPromise.Call("withResolvers")
		return r.Get("promise"), r.Get("resolve"), r.Get("reject")
	}
	executor := js.FuncOf(func(_ js.Value, a []js.Value) any {
		resolve, reject = a[0], a[1]
		return nil
	})
	p = jsPromise.New(executor)
	executor.Release()
	return p, resolve, reject
}

var hasWithResolvers = jsPromise.Get("withResolvers").Type() == js.TypeFunction

func safePrepare(prepare func([]js.Value) func() (any, error), args []js.Value) (work func() (any, error), err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return prepare(args), nil
}

func safeWork(work func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return work()
}

func panicError(r any) error {
	if e, ok := r.(*dc.Error); ok {
		return e
	}
	if je, ok := r.(js.Error); ok {
		return dc.Errorf(dc.EINVALID, "%s", je.Value.Get("message").String())
	}
	return dc.Errorf(dc.EINTERNAL, "unexpected failure: %v", r)
}

// failed returns work that fails with err.
func failed(err error) func() (any, error) { return func() (any, error) { return nil, err } }

// toJSError converts err to a JS Error whose code property is the stable
// DataCollect error code.
func toJSError(err error) js.Value {
	code := dc.ErrorCode(err)
	e := jsError.New(fmt.Sprintf("%s: %s", code, dc.ErrorMessage(err)))
	e.Set("code", code)
	e.Set("name", "DataCollectError")
	return e
}
