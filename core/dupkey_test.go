package core_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

func TestDupKey(t *testing.T) {
	ind := func(data map[string]any) *dc.Entity {
		return &dc.Entity{GUID: "p", Type: dc.Individual, Data: data}
	}
	compound := core.DupKeys{
		dc.Individual: {"lastName", "birthDate"},
		"household":   {},
	}
	tests := []struct {
		name string
		keys core.DupKeys
		e    *dc.Entity
		want string
	}{
		{"nil entity", core.DefaultDupKeys(), nil, ""},
		{"plain", core.DefaultDupKeys(), ind(map[string]any{"nationalId": "AB123"}), "individual|ab123"},
		{"trimmed, lower-cased, collapsed", core.DefaultDupKeys(),
			ind(map[string]any{"nationalId": " \tAb  12\n3 "}), "individual|ab 12 3"},
		{"unicode case", core.DefaultDupKeys(), ind(map[string]any{"nationalId": "ÉLODIE"}), "individual|élodie"},
		{"group", core.DefaultDupKeys(),
			&dc.Entity{Type: dc.Group, Data: map[string]any{"nationalId": "H-1"}}, "group|h-1"},
		{"deleted", core.DefaultDupKeys(),
			&dc.Entity{Type: dc.Individual, Deleted: true, Data: map[string]any{"nationalId": "1"}}, ""},
		{"unknown type", core.DefaultDupKeys(),
			&dc.Entity{Type: "household", Data: map[string]any{"nationalId": "1"}}, ""},
		{"type without fields", compound,
			&dc.Entity{Type: "household", Data: map[string]any{"nationalId": "1"}}, ""},
		{"missing field", core.DefaultDupKeys(), ind(map[string]any{"name": "Ana"}), ""},
		{"nil data", core.DefaultDupKeys(), ind(nil), ""},
		{"null field", core.DefaultDupKeys(), ind(map[string]any{"nationalId": nil}), ""},
		{"empty field", core.DefaultDupKeys(), ind(map[string]any{"nationalId": ""}), ""},
		{"blank field", core.DefaultDupKeys(), ind(map[string]any{"nationalId": "  \t "}), ""},
		{"integer number", core.DefaultDupKeys(), ind(map[string]any{"nationalId": 123.0}), "individual|123"},
		{"Go int", core.DefaultDupKeys(), ind(map[string]any{"nationalId": 123}), "individual|123"},
		{"json number", core.DefaultDupKeys(), ind(map[string]any{"nationalId": json.Number("1.50")}), "individual|1.5"},
		{"large integer", core.DefaultDupKeys(), ind(map[string]any{"nationalId": 12345678901234567.0}), "individual|12345678901234568"},
		{"fraction", core.DefaultDupKeys(), ind(map[string]any{"nationalId": 0.1}), "individual|0.1"},
		{"negative zero", core.DefaultDupKeys(), ind(map[string]any{"nationalId": -0.0}), "individual|0"},
		{"huge", core.DefaultDupKeys(), ind(map[string]any{"nationalId": 1e300}), "individual|1e+300"},
		{"bool", core.DefaultDupKeys(), ind(map[string]any{"nationalId": true}), "individual|true"},
		{"list", core.DefaultDupKeys(), ind(map[string]any{"nationalId": []any{"A", 1.0}}), `individual|["A",1]`},
		{"object, keys sorted", core.DefaultDupKeys(),
			ind(map[string]any{"nationalId": map[string]any{"z": 1.0, "a": "B"}}), `individual|{"a":"B","z":1}`},
		{"compound", compound,
			ind(map[string]any{"lastName": " Mwangi ", "birthDate": "2001-02-03", "other": "x"}), "individual|mwangi|2001-02-03"},
		{"compound, one missing", compound, ind(map[string]any{"lastName": "Mwangi"}), ""},
		{"invalid UTF-8", core.DefaultDupKeys(), ind(map[string]any{"nationalId": "A\xffB"}), "individual|a\uFFFDb"},
		{"separator escaped", compound,
			ind(map[string]any{"lastName": `a|b\c`, "birthDate": "d"}), `individual|a\|b\\c|d`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.keys.Key(tc.e))
		})
	}
	// Escaping keeps values from running into each other.
	a := compound.Key(ind(map[string]any{"lastName": "x|y", "birthDate": "z"}))
	b := compound.Key(ind(map[string]any{"lastName": "x", "birthDate": "y|z"}))
	assert.NotEqual(t, a, b)
	// A number and its string are one key.
	assert.Equal(t, core.DefaultDupKeys().Key(ind(map[string]any{"nationalId": "42"})),
		core.DefaultDupKeys().Key(ind(map[string]any{"nationalId": 42.0})))
}

func TestDuplicateGroup(t *testing.T) {
	e := func(guid string, distinct ...string) *dc.Entity {
		return &dc.Entity{GUID: guid, Type: dc.Individual, Distinct: distinct}
	}
	dead := e("d")
	dead.Deleted = true
	guids := func(es []*dc.Entity) []string {
		var out []string
		for _, x := range es {
			out = append(out, x.GUID)
		}
		return out
	}
	tests := []struct {
		name string
		in   []*dc.Entity
		want []string
	}{
		{"empty", nil, nil},
		{"one", []*dc.Entity{e("a")}, nil},
		{"pair", []*dc.Entity{e("a"), e("b")}, []string{"a", "b"}},
		{"deleted dropped", []*dc.Entity{e("a"), dead, e("b")}, []string{"a", "b"}},
		{"pair and a tombstone", []*dc.Entity{e("a"), dead}, nil},
		{"distinct pair", []*dc.Entity{e("a", "b"), e("b", "a")}, nil},
		{"distinct on one side only", []*dc.Entity{e("a", "b"), e("b")}, nil},
		{"third still a duplicate of both", []*dc.Entity{e("a", "b"), e("b", "a"), e("c")}, []string{"a", "b", "c"}},
		{"one distinct from all", []*dc.Entity{e("a", "b", "c"), e("b"), e("c")}, []string{"b", "c"}},
		{"all distinct", []*dc.Entity{e("a", "b", "c"), e("b", "c"), e("c")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, guids(core.DuplicateGroup(tc.in)))
		})
	}
}
