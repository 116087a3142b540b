//go:build js && wasm

package syncjs

import (
	"fmt"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// await waits for a JS Promise and returns its value or the rejection.
func awaitTest(p js.Value) (js.Value, js.Value) {
	type result struct{ v, err js.Value }
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- result{v: a[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- result{err: a[0]}; return nil })
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	r := <-ch
	return r.v, r.err
}

func jsValue(t *testing.T, src string) js.Value {
	t.Helper()
	return jsJSON.Call("parse", src)
}

func newAPI(t *testing.T) js.Value {
	t.Helper()
	obj := jsObject.New()
	Install(obj, nil)
	name := fmt.Sprintf("syncjs-test-%d", time.Now().UnixNano())
	_, err := awaitTest(obj.Call("init", jsValue(t, fmt.Sprintf(`{"appId":"t","dbName":%q}`, name))))
	require.True(t, err.IsUndefined(), "init: %v", err)
	t.Cleanup(func() {
		awaitTest(obj.Call("close"))
		js.Global().Get("indexedDB").Call("deleteDatabase", name)
	})
	return obj
}

func TestSubmitAndRead(t *testing.T) {
	api := newAPI(t)
	ev, err := awaitTest(api.Call("submitForm", jsValue(t, `{"type":"create-group","entityGuid":"g1",
		"data":{"name":"H","members":[{"name":"A"},{"type":"group","name":"Sub"}]}}`)))
	require.True(t, err.IsUndefined())
	assert.Equal(t, "LOCAL", ev.Get("syncLevel").String())
	assert.Equal(t, "g1", ev.Get("entityGuid").String())
	assert.Equal(t, 0, ev.Get("baseVersion").Int())

	g, _ := awaitTest(api.Call("getEntity", "g1"))
	assert.Equal(t, "group", g.Get("type").String())
	assert.Equal(t, 2, g.Get("memberIds").Length())
	sub, _ := awaitTest(api.Call("getEntity", g.Get("memberIds").Index(1)))
	assert.Equal(t, 0, sub.Get("memberIds").Length(), "a group always has a memberIds array")
	member, _ := awaitTest(api.Call("getEntity", g.Get("memberIds").Index(0)))
	assert.True(t, member.Get("memberIds").IsUndefined(), "individuals have none")
	missing, _ := awaitTest(api.Call("getEntity", "nope"))
	assert.True(t, missing.IsNull())

	list, _ := awaitTest(api.Call("listEntities", jsValue(t, `{"type":"group"}`)))
	assert.Equal(t, 2, list.Length())
	evs, _ := awaitTest(api.Call("listEvents"))
	assert.Equal(t, 1, evs.Length())
	audit, _ := awaitTest(api.Call("auditLog", jsValue(t, `{"limit":1}`)))
	assert.Equal(t, 1, audit.Length())
	assert.Equal(t, "create-group", audit.Index(0).Get("action").String())
}

func TestErrorsHaveCodes(t *testing.T) {
	api := newAPI(t)
	cases := []struct {
		code string
		p    js.Value
	}{
		{"EINVALID", api.Call("submitForm", jsValue(t, `{"type":"nope","data":{"a":1}}`))},
		{"ENOTFOUND", api.Call("submitForm", jsValue(t, `{"type":"update-group","entityGuid":"x","data":{"a":1}}`))},
		{"EINVALID", api.Call("submitForms", js.ValueOf("not a list"))},
		{"EINVALID", api.Call("getEntity")},
		{"EINVALID", api.Call("init", jsValue(t, `{"appId":"  "}`))},
	}
	for i, tc := range cases {
		_, err := awaitTest(tc.p)
		require.False(t, err.IsUndefined(), "case %d resolved", i)
		assert.True(t, err.InstanceOf(jsError), "case %d: an Error", i)
		assert.Equal(t, tc.code, err.Get("code").String(), "case %d: %s", i, err.Get("message").String())
	}
	_, err := awaitTest(api.Call("close"))
	assert.True(t, err.IsUndefined())
	_, err = awaitTest(api.Call("listEntities"))
	assert.Equal(t, "ECLOSED", err.Get("code").String())
}

func TestChangeEvent(t *testing.T) {
	api := newAPI(t)
	got := make(chan js.Value, 1)
	fn := js.FuncOf(func(_ js.Value, a []js.Value) any { got <- a[0].Get("detail"); return nil })
	defer fn.Release()
	api.Call("addEventListener", "change", fn)
	_, err := awaitTest(api.Call("submitForm", jsValue(t, `{"type":"create-individual","entityGuid":"p","data":{"n":1}}`)))
	require.True(t, err.IsUndefined())
	d := <-got
	assert.Equal(t, "p", d.Get("entities").Index(0).Get("guid").String())
	api.Call("removeEventListener", "change", fn)
	_, err = awaitTest(api.Call("submitForm", jsValue(t, `{"type":"update-individual","entityGuid":"p","data":{"n":2}}`)))
	require.True(t, err.IsUndefined())
	select {
	case <-got:
		t.Fatal("listener called after removal")
	default:
	}
}
