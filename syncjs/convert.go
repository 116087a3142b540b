//go:build js && wasm

package syncjs

import (
	"encoding/json"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// fromJS decodes a plain JS value (object, array, ...) into the Go value
// pointed to by out (see stringify).
func fromJS(v js.Value, out any, what string) error {
	b, err := stringify(v, what)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return dc.Errorf(dc.EINVALID, "%s is malformed: %v", what, err)
	}
	return nil
}

// formsFromJS converts a form (single) or an array of forms through one
// JSON.stringify call and the fast parser.
func formsFromJS(v js.Value, single bool) ([]client.Form, error) {
	what := "forms"
	if single {
		what = "form"
	}
	b, err := stringify(v, what)
	if err != nil {
		return nil, err
	}
	return formsFromJSON(b, single)
}

// stringify returns the JSON text of a plain JS value (one JSON.stringify
// call): functions and undefined are dropped, cycles and BigInts refused
// with EINVALID, as are undefined and null themselves.
func stringify(v js.Value, what string) ([]byte, error) {
	if v.IsUndefined() || v.IsNull() {
		return nil, dc.Errorf(dc.EINVALID, "%s is required", what)
	}
	var s js.Value
	if err := catch(func() { s = jsJSON.Call("stringify", v) }); err != nil {
		return nil, dc.Errorf(dc.EINVALID, "%s cannot be serialised: %v", what, err)
	}
	return []byte(s.String()), nil
}

// optionalFromJS is fromJS for optional arguments: undefined and null leave
// out untouched.
func optionalFromJS(v js.Value, out any, what string) error {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	return fromJS(v, out, what)
}

// arg returns args[i], or undefined.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// toJS converts a Go value to plain JS objects through one JSON.parse call.
func toJS(v any) (js.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return js.Undefined(), dc.Errorf(dc.EINTERNAL, "encode result: %v", err)
	}
	return jsJSON.Call("parse", string(b)), nil
}

// rawJSON turns JSON text made in Go into plain JS values (one JSON.parse).
func rawJSON(b []byte) js.Value { return jsJSON.Call("parse", string(b)) }

// catch runs fn and turns a thrown JS exception into an error.
func catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = dc.Errorf(dc.EINVALID, "%s", je.Value.Get("message").String())
				return
			}
			panic(r)
		}
	}()
	fn()
	return nil
}
