package openspp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
)

func TestMapRPCError(t *testing.T) {
	for _, tc := range []struct {
		code      int
		name      string
		want      string
		retryable bool
	}{
		{200, "odoo.exceptions.AccessDenied", external.EAUTH, false},
		{200, "odoo.exceptions.AccessError", external.EACCESS, false},
		{200, "odoo.exceptions.ValidationError", external.EVALIDATION, false},
		{200, "builtins.ValueError", external.EVALIDATION, false},
		{200, "odoo.exceptions.UserError", external.EVALIDATION, false},
		{200, "odoo.exceptions.MissingError", external.EVALIDATION, false},
		{200, "psycopg2.errors.SerializationFailure", external.ENETWORK, true},
		{200, "psycopg2.OperationalError", external.ENETWORK, true},
		{200, "builtins.KeyError", external.EREMOTE, false},
		{200, "", external.EREMOTE, false},
		{100, "odoo.http.SessionExpiredException", external.EAUTH, true},
		{404, "werkzeug.exceptions.NotFound", external.ECONFIG, false},
	} {
		e := &rpcError{Code: tc.code, Message: "Odoo Server Error"}
		e.Data.Name, e.Data.Message = tc.name, "boom"
		got := mapRPCError(e)
		assert.Equal(t, tc.want, got.Code, tc.name)
		assert.Equal(t, tc.retryable, got.Retryable, tc.name)
		assert.Equal(t, "boom", got.Message, tc.name)
	}
	e := &rpcError{Code: 200}
	e.Data.Name, e.Data.Message = "psycopg2.OperationalError", `database "x" does not exist`
	assert.Equal(t, external.ECONFIG, mapRPCError(e).Code)
}

func TestInitializeValidates(t *testing.T) {
	ok := external.Config{URL: "http://odoo:8069", Database: "db", Login: "u", Secret: "s"}
	for _, tc := range []struct {
		name string
		edit func(*external.Config)
	}{
		{"no URL", func(c *external.Config) { c.URL = "" }},
		{"not http", func(c *external.Config) { c.URL = "ftp://x" }},
		{"no database", func(c *external.Config) { c.Database = "" }},
		{"no login", func(c *external.Config) { c.Login = "" }},
		{"no secret", func(c *external.Config) { c.Secret = "" }},
		{"bad timeout", func(c *external.Config) { c.Options = map[string]string{"timeout": "soon"} }},
	} {
		cfg := ok
		tc.edit(&cfg)
		err := New().Initialize(context.Background(), cfg)
		assert.Equal(t, external.ECONFIG, external.Code(err), tc.name)
	}
	a := New()
	require.NoError(t, a.Initialize(context.Background(), ok))
	assert.Equal(t, "http://odoo:8069/jsonrpc", a.c.endpoint)
	assert.Equal(t, DefaultPageSize, a.pageSize)
	_, err := a.MapToExternal(&dc.Entity{GUID: "x", Type: dc.Individual})
	assert.Equal(t, external.ECONFIG, external.Code(err), "needs Authenticate first")
}

func testAdapter(t *testing.T, fieldMap map[string]string) *Adapter {
	a := New()
	require.NoError(t, a.Initialize(context.Background(), external.Config{URL: "http://odoo", Database: "db", Login: "u",
		Secret: "s", FieldMap: fieldMap}))
	a.refs = &refs{genders: map[string]string{"male": "Male", "m": "Male", "female": "Female", "f": "Female"},
		kindID: 3, idTypeID: 2, idTypes: map[int]string{2: "National ID"}}
	return a
}

func TestMapToExternal(t *testing.T) {
	a := testAdapter(t, map[string]string{"village": "address", "email": ""})
	for _, tc := range []struct {
		name string
		e    *dc.Entity
		want map[string]any
		code string
	}{
		{"individual", &dc.Entity{GUID: "p1", Type: dc.Individual, Data: map[string]any{
			"givenName": "Amina", "familyName": "Mwangi", "gender": "F", "birthdate": "1990-04-01T10:00:00Z",
			"village": "Kibera", "email": "ignored@example.org", "nationalId": "1", "other": 1}},
			map[string]any{"is_registrant": true, "is_group": false, "x_datacollect_guid": "p1", "name": "Amina Mwangi",
				"given_name": "Amina", "family_name": "Mwangi", "gender": "Female", "birthdate": "1990-04-01", "address": "Kibera"}, ""},
		{"explicit name, cleared phone", &dc.Entity{GUID: "p2", Type: dc.Individual, Data: map[string]any{
			"name": "MWANGI, Juma", "phone": nil, "gender": "male"}},
			map[string]any{"is_registrant": true, "is_group": false, "x_datacollect_guid": "p2", "name": "MWANGI, Juma",
				"phone": false, "gender": "Male"}, ""},
		{"group", &dc.Entity{GUID: "g1", Type: dc.Group, Data: map[string]any{"name": "H", "gender": "male"}},
			map[string]any{"is_registrant": true, "is_group": true, "x_datacollect_guid": "g1", "name": "H", "kind": 3}, ""},
		{"group without name", &dc.Entity{GUID: "g2", Type: dc.Group, Data: map[string]any{"givenName": "x"}}, nil, external.EVALIDATION},
		{"no name", &dc.Entity{GUID: "p3", Type: dc.Individual, Data: map[string]any{}}, nil, external.EVALIDATION},
		{"unknown gender", &dc.Entity{GUID: "p4", Type: dc.Individual, Data: map[string]any{"name": "a", "gender": "x"}}, nil, external.EVALIDATION},
		{"bad birthdate", &dc.Entity{GUID: "p5", Type: dc.Individual, Data: map[string]any{"name": "a", "birthdate": "01/04/1990"}}, nil, external.EVALIDATION},
	} {
		got, err := a.MapToExternal(tc.e)
		assert.Equal(t, tc.code, external.Code(err), tc.name)
		if tc.code == "" {
			assert.Equal(t, tc.want, got, tc.name)
		}
	}
}

func TestMapFromExternal(t *testing.T) {
	a := testAdapter(t, nil)
	rec, err := a.MapFromExternal(map[string]any{"id": 12, "is_group": true, "name": "H", "x_datacollect_guid": "g1",
		"phone": false, "write_date": "2026-01-02 03:04:05", "kind": []any{3, "Household"},
		KeyMemberIDs: []int{8, 9}, KeyRegIDs: map[string]string{"National ID": "77", "Passport": "P1"}})
	require.NoError(t, err)
	assert.Equal(t, &external.Record{ExternalID: "12", GUID: "g1", Type: dc.Group, Data: map[string]any{"name": "H", "nationalId": "77"},
		MemberExternalIDs: []string{"8", "9"}, UpdatedAt: "2026-01-02T03:04:05.000Z"}, rec)
	_, err = a.MapFromExternal(map[string]any{"name": "no id"})
	assert.Equal(t, external.EREMOTE, external.Code(err))
}
