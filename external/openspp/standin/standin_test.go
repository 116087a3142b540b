//go:build !js

package standin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthenticate(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	assert.Equal(t, AdminUID, c.uid)
	assert.Equal(t, false, c.call("common", "authenticate", s.DB(), "admin", "wrong", map[string]any{}))
	assert.Equal(t, false, c.call("common", "authenticate", s.DB(), "nobody", "admin", map[string]any{}))
	_, err := c.try("common", "authenticate", "otherdb", "admin", "admin", map[string]any{})
	require.NotNil(t, err)
	assert.Equal(t, ErrOperational, err.Data.Name)

	v := c.call("common", "version").(map[string]any)
	assert.Equal(t, "17.0", v["server_version"])
	assert.Equal(t, []any{17, 0, 0, "final", 0, ""}, v["server_version_info"])
}

func TestAccessDenied(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	for _, tc := range []struct {
		uid    any
		passwd string
	}{{c.uid, "wrong"}, {99, "admin"}, {false, "admin"}} {
		_, err := c.try("object", "execute_kw", s.DB(), tc.uid, tc.passwd, Partner, "search", []any{[]any{}}, map[string]any{})
		require.NotNil(t, err)
		assert.Equal(t, 200, err.Code)
		assert.Equal(t, "Odoo Server Error", err.Message)
		assert.Equal(t, ErrAccessDenied, err.Data.Name)
		assert.Equal(t, "Access Denied", err.Data.Message)
		assert.Equal(t, []any{"Access Denied"}, err.Data.Arguments)
		assert.Contains(t, err.Data.Debug, "Traceback")
		assert.NotNil(t, err.Data.Context)
	}
}

func TestCreateAndReadShapes(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	household := c.idOf(GroupKind, "name", "Household")
	assert.NotEqual(t, 1, household, "seeded ids should not be trivial")
	head := c.idOf(MembershipKind, "name", "Head")
	nid := c.idOf(IDType, "name", "National ID")

	amina := c.create(Partner, map[string]any{
		"name": "MWANGI, Amina", "given_name": "Amina", "family_name": "Mwangi", "is_registrant": true,
		"birthdate": "1990-04-01", "gender": "Female", "x_datacollect_guid": "guid-amina",
		"reg_ids": []any{[]any{0, 0, map[string]any{"id_type": nid, "value": "NID-1"}}},
	})
	// A list of dicts creates several records and answers their ids.
	more := c.exec(Partner, "create", []any{[]any{
		map[string]any{"name": "Juma", "is_registrant": true, "gender": "Male"},
		map[string]any{"name": "Baraka", "is_registrant": true},
	}}, nil).([]any)
	require.Len(t, more, 2)
	juma := more[0].(int)
	assert.Equal(t, juma+1, more[1])

	group := c.create(Partner, map[string]any{
		"name": "Household Mwangi", "is_registrant": true, "is_group": true, "kind": household,
		"x_datacollect_guid": "guid-hh",
		"group_membership_ids": []any{
			[]any{0, 0, map[string]any{"individual": amina, "kind": []any{[]any{4, head}}}},
			[]any{0, 0, map[string]any{"individual": juma}},
		},
	})

	g := c.readOne(Partner, group, "name", "kind", "group_membership_ids", "email", "is_group", "birthdate", "write_date", "create_date")
	assert.Equal(t, []any{household, "Household"}, g["kind"])
	assert.Equal(t, false, g["email"], "empty is false")
	assert.Equal(t, false, g["birthdate"])
	assert.Equal(t, true, g["is_group"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, g["write_date"])
	members := g["group_membership_ids"].([]any)
	require.Len(t, members, 2)

	m := c.readOne(Membership, members[0].(int), "group", "individual", "kind")
	assert.Equal(t, []any{group, "Household Mwangi"}, m["group"])
	assert.Equal(t, []any{amina, "MWANGI, Amina"}, m["individual"])
	assert.Equal(t, []any{head}, m["kind"])
	m2 := c.readOne(Membership, members[1].(int), "kind")
	assert.Equal(t, []any{}, m2["kind"], "empty x2many is an empty list")

	a := c.readOne(Partner, amina, "reg_ids", "birthdate", "gender", "x_datacollect_guid", "kind", "individual_membership_ids")
	assert.Equal(t, "1990-04-01", a["birthdate"])
	assert.Equal(t, "Female", a["gender"])
	assert.Equal(t, "guid-amina", a["x_datacollect_guid"])
	assert.Equal(t, false, a["kind"], "unset many2one is false")
	assert.Equal(t, []any{members[0]}, a["individual_membership_ids"])
	regs := a["reg_ids"].([]any)
	require.Len(t, regs, 1)
	r := c.readOne(RegID, regs[0].(int), "id_type", "value", "partner_id")
	assert.Equal(t, []any{nid, "National ID"}, r["id_type"])
	assert.Equal(t, "NID-1", r["value"])

	// read without fields answers every field, with id.
	all := c.readOne(Partner, amina)
	assert.Contains(t, all, "display_name")
	assert.Contains(t, all, "registration_date")
	assert.Equal(t, amina, all["id"])

	// Upsert by the guid field: search, then write.
	found := c.exec(Partner, "search", []any{[]any{[]any{"x_datacollect_guid", "=", "guid-amina"}}}, nil)
	assert.Equal(t, []any{amina}, found)
	assert.Equal(t, true, c.exec(Partner, "write", []any{[]any{amina}, map[string]any{"phone": "+254700000001", "email": false}}, nil))
	assert.Equal(t, "+254700000001", c.readOne(Partner, amina, "phone")["phone"])

	// x2many commands on write: update, link, replace, delete.
	c.exec(Partner, "write", []any{[]any{group}, map[string]any{"group_membership_ids": []any{
		[]any{1, members[1], map[string]any{"status": "active"}},
		[]any{0, 0, map[string]any{"individual": more[1]}},
	}}}, nil)
	g = c.readOne(Partner, group, "group_membership_ids")
	assert.Len(t, g["group_membership_ids"], 3)
	assert.Equal(t, "active", c.readOne(Membership, members[1].(int), "status")["status"])
	c.exec(Partner, "write", []any{[]any{group}, map[string]any{"group_membership_ids": []any{[]any{6, 0, members}}}}, nil)
	assert.Equal(t, members, c.readOne(Partner, group, "group_membership_ids")["group_membership_ids"])
	c.exec(Partner, "write", []any{[]any{group}, map[string]any{"group_membership_ids": []any{[]any{2, members[1]}}}}, nil)
	assert.Equal(t, members[:1], c.readOne(Partner, group, "group_membership_ids")["group_membership_ids"])

	// Missing records.
	_, err := c.execErr(Partner, "read", []any{[]any{99999}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrMissing, err.Data.Name)
	_, err = c.execErr(Partner, "write", []any{[]any{99999}, map[string]any{"name": "x"}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrMissing, err.Data.Name)

	n := c.exec(Partner, "search_count", []any{[]any{[]any{"is_registrant", "=", true}}}, nil)
	assert.Equal(t, 4, n)
}

func TestValidationErrors(t *testing.T) {
	s := Start(t, Options{Seed: true, NationalIDPattern: `^NID-\d+$`})
	c := newClient(t, s)
	head := c.idOf(MembershipKind, "name", "Head")
	nid := c.idOf(IDType, "name", "National ID")
	a := c.create(Partner, map[string]any{"name": "A"})
	b := c.create(Partner, map[string]any{"name": "B"})
	before := c.exec(Partner, "search_count", []any{[]any{}}, nil)

	_, err := c.execErr(Partner, "create", []any{map[string]any{"name": "G", "is_group": true,
		"group_membership_ids": []any{
			[]any{0, 0, map[string]any{"individual": a, "kind": []any{[]any{6, 0, []any{head}}}}},
			[]any{0, 0, map[string]any{"individual": b, "kind": []any{[]any{4, head}}}},
		}}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValidation, err.Data.Name)
	assert.Equal(t, "Only one Head is allowed per group", err.Data.Message)
	assert.Equal(t, before, c.exec(Partner, "search_count", []any{[]any{}}, nil), "a failed call leaves nothing")
	assert.Equal(t, 0, c.exec(Membership, "search_count", []any{[]any{}}, nil))

	g := c.create(Partner, map[string]any{"name": "G", "is_group": true,
		"group_membership_ids": []any{[]any{0, 0, map[string]any{"individual": a, "kind": []any{[]any{4, head}}}}}})
	// A second Head through the membership model itself.
	_, err = c.execErr(Membership, "create", []any{map[string]any{"group": g, "individual": b, "kind": []any{head}}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, "Only one Head is allowed per group", err.Data.Message)
	// The same member twice.
	_, err = c.execErr(Membership, "create", []any{map[string]any{"group": g, "individual": a}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValidation, err.Data.Name)
	assert.Contains(t, err.Data.Message, "already a member")

	// One ID per type, matching the type's pattern; id_type required.
	c.exec(Partner, "write", []any{[]any{a}, map[string]any{"reg_ids": []any{[]any{0, 0, map[string]any{"id_type": nid, "value": "NID-7"}}}}}, nil)
	_, err = c.execErr(Partner, "write", []any{[]any{a}, map[string]any{"reg_ids": []any{[]any{0, 0, map[string]any{"id_type": nid, "value": "NID-8"}}}}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValidation, err.Data.Name)
	assert.Contains(t, err.Data.Message, "ID Type must be unique")
	_, err = c.execErr(RegID, "create", []any{map[string]any{"partner_id": b, "id_type": nid, "value": "bad"}}, nil)
	require.NotNil(t, err)
	assert.Contains(t, err.Data.Message, "invalid")
	_, err = c.execErr(RegID, "create", []any{map[string]any{"partner_id": b, "value": "NID-9"}}, nil)
	require.NotNil(t, err)
	assert.Contains(t, err.Data.Message, "Missing required value for the field 'ID Type'")

	// Gender must be a gender.type value; name is required.
	_, err = c.execErr(Partner, "create", []any{map[string]any{"name": "X", "gender": "male"}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValue, err.Data.Name)
	_, err = c.execErr(Partner, "create", []any{map[string]any{"given_name": "X"}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValidation, err.Data.Name)
	_, err = c.execErr(Partner, "create", []any{map[string]any{"name": "X", "birthdate": "01/02/2000"}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValue, err.Data.Name)
}

func TestUnknownNames(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	_, err := c.execErr(Partner, "create", []any{map[string]any{"name": "A", "x_nope": 1}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrValue, err.Data.Name)
	assert.Equal(t, "Invalid field 'x_nope' on model 'res.partner'", err.Data.Message)
	_, err = c.execErr(Partner, "search_read", []any{[]any{[]any{"nope", "=", 1}}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, "Invalid field 'nope' on model 'res.partner'", err.Data.Message)
	_, err = c.execErr(Partner, "search_read", []any{[]any{}}, map[string]any{"fields": []any{"name", "nope"}})
	require.NotNil(t, err)
	assert.Equal(t, "Invalid field 'nope' on model 'res.partner'", err.Data.Message)

	_, err = c.execErr("x.model", "search", []any{[]any{}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrUser, err.Data.Name)
	assert.Equal(t, "Object x.model doesn't exist", err.Data.Message)

	_, err = c.execErr(Partner, "frobnicate", nil, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrAttribute, err.Data.Name)

	// The custom field is configurable.
	s2 := Start(t, Options{CustomFields: []string{"x_dc_guid"}})
	c2 := newClient(t, s2)
	c2.create(Partner, map[string]any{"name": "A", "x_dc_guid": "g"})
	_, err = c2.execErr(Partner, "create", []any{map[string]any{"name": "A", "x_datacollect_guid": "g"}}, nil)
	require.NotNil(t, err)

	// A missing route answers a 404 error object.
	resp, herr := http.Post(s.URL()+"/json-rpc", "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"call","id":1,"params":{}}`))
	require.NoError(t, herr)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	var body map[string]any
	require.NoError(t, jsonDecode(resp, &body))
	assert.EqualValues(t, 404, body["error"].(map[string]any)["code"])

	// Garbage is an error object, still HTTP 200.
	resp2, herr := http.Post(s.URL()+"/jsonrpc", "application/json", strings.NewReader(`{not json`))
	require.NoError(t, herr)
	defer resp2.Body.Close()
	assert.Equal(t, http.StatusOK, resp2.StatusCode)
}

func TestReadOnlyUser(t *testing.T) {
	s := Start(t, Options{Seed: true, ReadOnlyLogin: "viewer", ReadOnlyPassword: "viewpw"})
	admin := newClient(t, s)
	id := admin.create(Partner, map[string]any{"name": "A"})

	c := &client{t: t, url: s.URL() + "/jsonrpc", db: s.DB(), login: "viewer", passwd: "viewpw"}
	c.uid = c.call("common", "authenticate", s.DB(), "viewer", "viewpw", map[string]any{}).(int)
	assert.Equal(t, ReadOnlyUID, c.uid)
	assert.Len(t, c.searchRead(Partner, []any{}, map[string]any{"fields": []any{"name"}}), 1)

	_, err := c.execErr(Partner, "create", []any{map[string]any{"name": "B"}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, ErrAccessError, err.Data.Name)
	assert.True(t, strings.HasPrefix(err.Data.Message, "You are not allowed to create 'Contact' (res.partner) records."), err.Data.Message)
	_, err = c.execErr(Partner, "write", []any{[]any{id}, map[string]any{"name": "B"}}, nil)
	require.NotNil(t, err)
	assert.True(t, strings.HasPrefix(err.Data.Message, "You are not allowed to modify 'Contact' (res.partner) records."), err.Data.Message)
	_, err = c.execErr(Membership, "create", []any{map[string]any{}}, nil)
	require.NotNil(t, err)
	assert.Contains(t, err.Data.Message, "'Group Membership' (g2p.group.membership)")
}

func TestMembershipWriteDate(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	t0 := mustTime(t, "2024-05-01 10:00:00")
	s.Freeze(t0)
	a := c.create(Partner, map[string]any{"name": "A"})
	g := c.create(Partner, map[string]any{"name": "G", "is_group": true,
		"group_membership_ids": []any{[]any{0, 0, map[string]any{"individual": a}}}})
	mid := c.readOne(Partner, g, "group_membership_ids")["group_membership_ids"].([]any)[0].(int)
	assert.Equal(t, "2024-05-01 10:00:00", c.readOne(Membership, mid, "write_date")["write_date"])

	s.Advance(90 * 1e9)
	c.exec(Membership, "write", []any{[]any{mid}, map[string]any{"status": "inactive"}}, nil)
	assert.Equal(t, "2024-05-01 10:01:30", c.readOne(Membership, mid, "write_date")["write_date"])
	assert.Equal(t, "2024-05-01 10:00:00", c.readOne(Partner, g, "write_date")["write_date"], "the group is not touched")
	assert.Equal(t, "2024-05-01 10:00:00", c.readOne(Partner, g, "create_date")["create_date"])

	s.Advance(30 * 1e9)
	c.exec(Partner, "write", []any{[]any{g}, map[string]any{"group_membership_ids": []any{[]any{1, mid, map[string]any{"status": "active"}}}}}, nil)
	assert.Equal(t, "2024-05-01 10:02:00", c.readOne(Membership, mid, "write_date")["write_date"])
	assert.Equal(t, "2024-05-01 10:02:00", c.readOne(Partner, g, "write_date")["write_date"])

	// Memberships changed since a time are found on their own write_date.
	rows := c.searchRead(Membership, []any{[]any{"write_date", ">", "2024-05-01 10:01:00"}}, map[string]any{"fields": []any{"group", "individual"}})
	require.Len(t, rows, 1)
	assert.Equal(t, []any{g, "G"}, rows[0]["group"])
}
