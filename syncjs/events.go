//go:build js && wasm

package syncjs

import "syscall/js"

// emitter is the API's EventTarget. It counts listeners per type so that
// events nobody listens to cost nothing to build.
type emitter struct {
	target js.Value
	counts map[string]js.Value // type -> Set of listeners
	funcs  []js.Func
}

func newEmitter() *emitter {
	return &emitter{target: jsEventTarget.New(), counts: map[string]js.Value{}}
}

func (e *emitter) set(typ string) js.Value {
	s, ok := e.counts[typ]
	if !ok {
		s = js.Global().Get("Set").New()
		e.counts[typ] = s
	}
	return s
}

// install defines addEventListener and removeEventListener on obj.
func (e *emitter) install(obj js.Value) {
	add := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) >= 2 {
			e.set(args[0].String()).Call("add", args[1])
			e.target.Call("addEventListener", args[0], args[1], arg(args, 2))
		}
		return nil
	})
	remove := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) >= 2 {
			e.set(args[0].String()).Call("delete", args[1])
			e.target.Call("removeEventListener", args[0], args[1], arg(args, 2))
		}
		return nil
	})
	e.funcs = append(e.funcs, add, remove)
	obj.Set("addEventListener", add)
	obj.Set("removeEventListener", remove)
}

// listening reports whether anyone listens to typ.
func (e *emitter) listening(typ string) bool {
	s, ok := e.counts[typ]
	return ok && s.Get("size").Int() > 0
}

// emit dispatches a CustomEvent of type typ whose detail is detail(), if
// anyone listens (detail is only built then).
func (e *emitter) emit(typ string, detail func() js.Value) {
	if !e.listening(typ) {
		return
	}
	init := jsObject.New()
	init.Set("detail", detail())
	e.target.Call("dispatchEvent", jsCustomEvent.New(typ, init))
}
