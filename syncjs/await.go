//go:build js && wasm

package syncjs

import (
	"context"
	"syscall/js"
)

// await waits for a JS Promise (or ctx) and returns its value, or the
// rejection as a *JSRejection.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{v: arg(a, 0)}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{err: &JSRejection{Value: arg(a, 0)}}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// JSRejection is a rejected Promise's reason.
type JSRejection struct{ Value js.Value }

func (r *JSRejection) Error() string {
	v := r.Value
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return v.Get("name").String() + ": " + v.Get("message").String()
	}
	return v.String()
}

// Name returns the rejection's error name (e.g. "TypeError"), if any.
func (r *JSRejection) Name() string {
	if r.Value.Type() == js.TypeObject && r.Value.Get("name").Type() == js.TypeString {
		return r.Value.Get("name").String()
	}
	return ""
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// bytesFromJS copies an ArrayBuffer or Uint8Array into Go.
func bytesFromJS(v js.Value) []byte {
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b
}
