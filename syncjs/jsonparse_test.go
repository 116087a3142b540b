package syncjs

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, src := range []string{
		`{"a":1,"b":[true,false,null,-2.5e3,"x"],"c":{"d":"é\u00e9\ud83d\ude00\n\t\"\\/"},"e":[],"f":{}}`,
		`[]`, `"str"`, `0`, `-0.5`, `1E+2`, ` {"k" : [ 1 , 2 ] } `, `"\u0041\u00"`[:0] + `"A"`,
	} {
		var want any
		require.NoError(t, json.Unmarshal([]byte(src), &want), src)
		got, err := parseJSON([]byte(src))
		require.NoError(t, err, src)
		assert.Equal(t, want, got, src)
	}
}

func TestParseJSONRejects(t *testing.T) {
	for _, src := range []string{
		``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `1.`, `-`, `1e`, `tru`, `nul`,
		`"abc`, "\"a\x01\"", `"\x"`, `"\u12"`, `{} {}`, `{1:2}`, "\"\xff\"",
	} {
		_, err := parseJSON([]byte(src))
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err), "%q", src)
	}
	deep := make([]byte, 0, 200)
	for i := 0; i < 100; i++ {
		deep = append(deep, '[')
	}
	_, err := parseJSON(deep)
	assert.Error(t, err)
}

func TestFormsFromJSON(t *testing.T) {
	fs, err := formsFromJSON([]byte(`[{"type":"create-individual","data":{"n":1},"guid":"g","entityGuid":"e","timestamp":"2026-01-01T00:00:00Z"}]`), false)
	require.NoError(t, err)
	assert.Equal(t, "create-individual", fs[0].Type)
	assert.Equal(t, map[string]any{"n": 1.0}, fs[0].Data)
	assert.Equal(t, "g", fs[0].GUID)
	for _, bad := range []string{`{"type":1}`, `{"type":"x","data":[]}`, `{"type":"x","extra":1}`, `"x"`} {
		_, err := formsFromJSON([]byte(bad), true)
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err), bad)
	}
	_, err = formsFromJSON([]byte(`{"type":"x"}`), false)
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"b",null,true]}`, `"\ud83d\ude00"`, `-1.5e-3`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseJSON(b)
		var want any
		werr := json.Unmarshal(b, &want)
		if (err == nil) != (werr == nil) {
			// We refuse, on purpose, deeper nesting and invalid UTF-8 that
			// encoding/json accepts (it replaces bad bytes with U+FFFD).
			msg := dc.ErrorMessage(err)
			if err != nil && (strings.Contains(msg, "too deep") || strings.Contains(msg, "UTF-8")) {
				return
			}
			t.Fatalf("parse %q: ours %v, encoding/json %v", b, err, werr)
		}
		if err == nil {
			assert.Equal(t, want, got)
		}
	})
}
