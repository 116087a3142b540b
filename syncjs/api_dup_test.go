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

func TestDuplicatesMethod(t *testing.T) {
	api := newAPI(t)
	submit := func(guid, data string) {
		t.Helper()
		_, err := awaitTest(api.Call("submitForm", jsValue(t,
			fmt.Sprintf(`{"type":"create-individual","entityGuid":%q,"data":%s}`, guid, data))))
		require.True(t, err.IsUndefined(), "%v", err)
	}
	submit("p1", `{"name":"Ana","nationalId":"AB 1"}`)
	submit("p2", `{"name":"Anna","nationalId":" ab  1 "}`)
	submit("p3", `{"name":"Ben","nationalId":"X"}`)
	submit("p4", `{"name":"Benn","nationalId":"x"}`)
	gs, err := awaitTest(api.Call("duplicates"))
	require.True(t, err.IsUndefined(), "%v", err)
	require.Equal(t, 2, gs.Length())
	assert.Equal(t, "individual|ab 1", gs.Index(0).Get("key").String())
	es := gs.Index(0).Get("entities")
	require.Equal(t, 2, es.Length())
	assert.Equal(t, "p1", es.Index(0).Get("guid").String())
	assert.Equal(t, "Anna", es.Index(1).Get("data").Get("name").String())
	gs, _ = awaitTest(api.Call("duplicates", jsValue(t, `{"limit":1}`)))
	assert.Equal(t, 1, gs.Length())

	// A keep makes the pair distinct.
	_, err = awaitTest(api.Call("submitForm", jsValue(t,
		`{"type":"resolve-duplicate","entityGuid":"p3","data":{"duplicateGuid":"p4","action":"keep"}}`)))
	require.True(t, err.IsUndefined(), "%v", err)
	gs, _ = awaitTest(api.Call("duplicates"))
	require.Equal(t, 1, gs.Length())
	assert.Equal(t, "individual|ab 1", gs.Index(0).Get("key").String())

	_, err = awaitTest(api.Call("duplicates", jsValue(t, `{"limit":-1}`)))
	assert.Equal(t, "EINVALID", err.Get("code").String())
}

func TestInitDuplicateKeys(t *testing.T) {
	obj := jsObject.New()
	Install(obj, nil)
	name := fmt.Sprintf("syncjs-dupkeys-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		awaitTest(obj.Call("close"))
		js.Global().Get("indexedDB").Call("deleteDatabase", name)
	})
	for _, bad := range []string{`{"household":["id"]}`, `{"individual":[""]}`, `{"individual":"nationalId"}`} {
		_, err := awaitTest(obj.Call("init", jsValue(t, fmt.Sprintf(`{"appId":"t","dbName":%q,"duplicateKeys":%s}`, name, bad))))
		require.False(t, err.IsUndefined(), bad)
		assert.Equal(t, "EINVALID", err.Get("code").String(), bad)
	}
	_, err := awaitTest(obj.Call("init", jsValue(t, fmt.Sprintf(
		`{"appId":"t","dbName":%q,"duplicateKeys":{"individual":["lastName","birthDate"]}}`, name))))
	require.True(t, err.IsUndefined(), "%v", err)
	for i, data := range []string{
		`{"lastName":"Mwangi","birthDate":"2001-02-03","nationalId":"1"}`,
		`{"lastName":"MWANGI ","birthDate":"2001-02-03","nationalId":"2"}`,
	} {
		_, err := awaitTest(obj.Call("submitForm", jsValue(t,
			fmt.Sprintf(`{"type":"create-individual","entityGuid":"p%d","data":%s}`, i, data))))
		require.True(t, err.IsUndefined(), "%v", err)
	}
	gs, err := awaitTest(obj.Call("duplicates"))
	require.True(t, err.IsUndefined(), "%v", err)
	require.Equal(t, 1, gs.Length())
	assert.Equal(t, "individual|mwangi|2001-02-03", gs.Index(0).Get("key").String())
}
