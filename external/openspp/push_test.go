//go:build !js

package openspp_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/external/openspp/standin"
)

var ctx = context.Background()

func household(s store) []*dc.Entity {
	// The group comes first: Push must still create the members first.
	return s.add(
		group("g1", "Mwangi household", "p1", "p2", "p3"),
		person("p1", "Amina", "Mwangi", "female", "100001"),
		person("p2", "Juma", "Mwangi", "Male", "100002"),
		person("p3", "Baraka", "Mwangi", "MALE", "100003"),
	)
}

func TestPushHousehold(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	s := store{}
	batch := household(s)
	res := a.Push(ctx, batch, s.lookup)
	require.Len(t, res, 4)
	requireOK(t, res)
	for i, r := range res {
		assert.Equal(t, batch[i].GUID, r.GUID, "results are in input order")
		assert.True(t, r.Created)
	}
	assert.Equal(t, 1, count(t, srv, standin.Partner, isGroup(true)...))
	assert.Equal(t, 3, count(t, srv, standin.Partner, isGroup(false)...))
	assert.Equal(t, 3, count(t, srv, standin.Membership))
	assert.Equal(t, 3, count(t, srv, standin.RegID))

	g, err := srv.SearchRead(standin.Partner, []any{[]any{"id", "=", atoi(t, res[0].ExternalID)}})
	require.NoError(t, err)
	require.Len(t, g, 1)
	assert.Equal(t, "Mwangi household", g[0]["name"])
	assert.Equal(t, "g1", g[0]["x_datacollect_guid"])
	assert.Equal(t, true, g[0]["is_registrant"])
	assert.Equal(t, []any{srv.ID(standin.GroupKind, "Household"), "Household"}, g[0]["kind"])

	ms, err := srv.SearchRead(standin.Membership, nil, "group", "individual")
	require.NoError(t, err)
	for i, m := range ms {
		assert.Equal(t, atoi(t, res[0].ExternalID), m["group"].([]any)[0])
		assert.Equal(t, atoi(t, res[i+1].ExternalID), m["individual"].([]any)[0])
	}

	p, err := srv.SearchRead(standin.Partner, []any{[]any{"x_datacollect_guid", "=", "p1"}})
	require.NoError(t, err)
	require.Len(t, p, 1)
	assert.Equal(t, "Amina Mwangi", p[0]["name"], "a name is made from the given and family names")
	assert.Equal(t, "Female", p[0]["gender"], "gender mapped to the gender.type value")
	for guid, want := range map[string]string{"p2": "Male", "p3": "Male"} {
		q, err := srv.SearchRead(standin.Partner, []any{[]any{"x_datacollect_guid", "=", guid}}, "gender")
		require.NoError(t, err)
		assert.Equal(t, want, q[0]["gender"])
	}
	ids, err := srv.SearchRead(standin.RegID, []any{[]any{"partner_id", "=", atoi(t, res[1].ExternalID)}}, "id_type", "value")
	require.NoError(t, err)
	require.Len(t, ids, 1)
	assert.Equal(t, "National ID", ids[0]["id_type"].([]any)[1])
	assert.Equal(t, "100001", ids[0]["value"])
}

func TestRepushUpdates(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keepExtIDs bool // the caller recorded the external ids (else: found by guid)
	}{{"by external id", true}, {"by guid", false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, a := start(t, standin.Options{}, nil)
			s := store{}
			res := a.Push(ctx, household(s), s.lookup)
			requireOK(t, res)
			if tc.keepExtIDs {
				s.apply(t, res)
			}
			partners := srv.CountCalls(standin.Partner, "create")

			// Edit: p1 changes name and ID, p3 leaves, p4 joins, birthdate set.
			s["p1"].Data["familyName"] = "Otieno"
			s["p1"].Data["nationalId"] = "200001"
			s["p1"].Data["birthdate"] = "1990-04-01T00:00:00.000Z"
			s["g1"].MemberIDs = []string{"p1", "p2", "p4"}
			s["g1"].Data["name"] = "Otieno household"
			s.add(person("p4", "Neema", "Otieno", "", ""))
			res = a.Push(ctx, []*dc.Entity{s["g1"], s["p1"], s["p4"]}, s.lookup)
			requireOK(t, res)
			assert.False(t, res[0].Created)
			assert.False(t, res[1].Created)
			assert.True(t, res[2].Created)
			assert.Equal(t, partners+1, srv.CountCalls(standin.Partner, "create"), "only p4 is created")

			assert.Equal(t, 1, count(t, srv, standin.Partner, isGroup(true)...))
			assert.Equal(t, 4, count(t, srv, standin.Partner, isGroup(false)...))
			assert.Equal(t, 3, count(t, srv, standin.RegID), "p1's ID is updated, not added")
			p1, err := srv.SearchRead(standin.Partner, []any{[]any{"x_datacollect_guid", "=", "p1"}}, "family_name", "birthdate", "reg_ids")
			require.NoError(t, err)
			assert.Equal(t, "Otieno", p1[0]["family_name"])
			assert.Equal(t, "1990-04-01", p1[0]["birthdate"])
			ids, err := srv.SearchRead(standin.RegID, []any{[]any{"partner_id", "=", p1[0]["id"]}}, "value")
			require.NoError(t, err)
			assert.Equal(t, "200001", ids[0]["value"])

			ms, err := srv.SearchRead(standin.Membership, nil, "individual")
			require.NoError(t, err)
			var members []string
			for _, m := range ms {
				members = append(members, m["individual"].([]any)[1].(string))
			}
			assert.ElementsMatch(t, []string{"Amina Otieno", "Juma Mwangi", "Neema Otieno"}, members)

			// A third push with no change creates nothing and keeps memberships.
			res = a.Push(ctx, []*dc.Entity{s["g1"], s["p1"], s["p4"]}, s.lookup)
			requireOK(t, res)
			assert.Equal(t, partners+1, srv.CountCalls(standin.Partner, "create"))
			assert.Equal(t, 3, count(t, srv, standin.Membership))
		})
	}
}

func TestCrashBetweenCreateAndAnswer(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	s := store{}
	batch := household(s)
	// The first individual's create runs in OpenSPP but its answer is lost.
	srv.DropAfterNext(1, standin.Partner, "create")
	res := a.Push(ctx, batch, s.lookup)
	require.NotNil(t, res[1].Err)
	assert.Equal(t, external.ENETWORK, res[1].Err.Code)
	assert.True(t, res[1].Err.Retryable)
	requireOK(t, res[2:])
	requireOK(t, res[:1]) // the group finds p1 by its guid
	assert.Equal(t, 4, count(t, srv, standin.Partner), "p1 was created nonetheless")
	assert.Equal(t, 3, count(t, srv, standin.Membership))
	s.apply(t, res)

	// The retry finds p1 by its guid instead of creating it again.
	res = a.Push(ctx, []*dc.Entity{s["p1"]}, s.lookup)
	requireOK(t, res)
	assert.False(t, res[0].Created, "found by guid")
	s.apply(t, res)
	assert.Equal(t, 4, count(t, srv, standin.Partner), "no duplicate")
	assert.Equal(t, 3, count(t, srv, standin.RegID), "no duplicate ID")

	// The same for a group, with its memberships and IDs in the one call.
	s.add(group("g2", "Second household", "p2", "p3"), person("p5", "Zawadi", "Juma", "female", "100005"))
	s["g2"].MemberIDs = append(s["g2"].MemberIDs, "p5")
	srv.DropAfterNext(2, standin.Partner, "create")
	res = a.Push(ctx, []*dc.Entity{s["g2"], s["p5"]}, s.lookup)
	for _, r := range res {
		require.NotNil(t, r.Err, r.GUID)
		assert.Equal(t, external.ENETWORK, r.Err.Code)
	}
	assert.Equal(t, 6, count(t, srv, standin.Partner))
	assert.Equal(t, 6, count(t, srv, standin.Membership))
	for range 2 {
		res = a.Push(ctx, []*dc.Entity{s["g2"], s["p5"]}, s.lookup)
		requireOK(t, res)
		assert.False(t, res[0].Created)
		assert.False(t, res[1].Created)
	}
	assert.Equal(t, 6, count(t, srv, standin.Partner), "no duplicate")
	assert.Equal(t, 6, count(t, srv, standin.Membership), "no duplicate membership")
	assert.Equal(t, 4, count(t, srv, standin.RegID), "no duplicate ID")
}

func TestPushErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      standin.Options
		cfg       func(*external.Config)
		setup     func(*standin.Server)
		code      string // for every record
		retryable bool
	}{
		{name: "wrong secret", cfg: func(c *external.Config) { c.Secret = "wrong" }, code: external.EAUTH},
		{name: "unknown login", cfg: func(c *external.Config) { c.Login = "nobody" }, code: external.EAUTH},
		{name: "wrong database", cfg: func(c *external.Config) { c.Database = "nope" }, code: external.ECONFIG},
		{name: "no guid field", opts: standin.Options{CustomFields: []string{}}, code: external.ECONFIG},
		{name: "unknown group kind", cfg: func(c *external.Config) { c.Options = map[string]string{"group_kind": "Clan"} },
			code: external.ECONFIG},
		{name: "wrong path", cfg: func(c *external.Config) { c.URL += "/odoo" }, code: external.ECONFIG},
		{name: "connection dropped", setup: func(s *standin.Server) { s.DropNext(100, "", "") },
			code: external.ENETWORK, retryable: true},
		{name: "serialization failure", setup: func(s *standin.Server) { s.FailRate(1, standin.ErrSerializationFailure) },
			code: external.ENETWORK, retryable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, a := start(t, tc.opts, tc.cfg)
			if tc.setup != nil {
				tc.setup(srv)
			}
			s := store{}
			res := a.Push(ctx, household(s), s.lookup)
			require.Len(t, res, 4)
			for _, r := range res {
				require.NotNil(t, r.Err, r.GUID)
				assert.Equal(t, tc.code, r.Err.Code, "%s: %v", r.GUID, r.Err)
				assert.Equal(t, tc.retryable, r.Err.Retryable, r.GUID)
				assert.Empty(t, r.ExternalID)
			}
			assert.Equal(t, 0, count(t, srv, standin.Partner))
			if tc.code == external.EAUTH {
				assert.Equal(t, tc.code, external.Code(a.Authenticate(ctx)))
			}
		})
	}
}

func TestReadOnlyIsPerRecord(t *testing.T) {
	srv, a := start(t, standin.Options{ReadOnlyLogin: "viewer", ReadOnlyPassword: "v"},
		func(c *external.Config) { c.Login, c.Secret = "viewer", "v" })
	require.NoError(t, a.Authenticate(ctx), "a read-only user may log in and read")
	s := store{}
	res := a.Push(ctx, household(s), s.lookup)
	assert.Equal(t, external.EACCESS, res[1].Err.Code)
	assert.Equal(t, "odoo.exceptions.AccessError", res[1].Err.Remote)
	assert.Equal(t, external.EPENDING, res[0].Err.Code, "the group waits for its members")
	assert.Equal(t, 3, srv.CountCalls(standin.Partner, "create"), "each individual was tried")
}

func TestValidationFailsOnlyThatRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   standin.Options
		edit   func(store)
		setup  func(*standin.Server)
		remote string // "" when refused before sending
	}{
		{name: "unknown gender", edit: func(s store) { s["p2"].Data["gender"] = "robot" }},
		{name: "bad birthdate", edit: func(s store) { s["p2"].Data["birthdate"] = "yesterday" }},
		{name: "no name", edit: func(s store) { s["p2"].Data = map[string]any{"gender": "male"} }},
		{name: "ID fails the type's regex", opts: standin.Options{NationalIDPattern: `^\d{6}$`},
			edit: func(s store) { s["p2"].Data["nationalId"] = "ABC" }, remote: standin.ErrValidation},
		{name: "refused by a server constraint", setup: func(srv *standin.Server) {
			srv.AddFault(standin.Fault{Model: standin.Partner, Method: "create", Error: standin.ErrValidation, Times: 1})
		}, edit: func(store) {}, remote: standin.ErrValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, a := start(t, tc.opts, nil)
			s := store{}
			household(s)
			tc.edit(s)
			if tc.setup != nil {
				tc.setup(srv)
			}
			// p2 first among the individuals, so an injected fault hits it.
			batch := []*dc.Entity{s["p2"], s["p1"], s["p3"]}
			res := a.Push(ctx, batch, s.lookup)
			require.NotNil(t, res[0].Err)
			assert.Equal(t, external.EVALIDATION, res[0].Err.Code, res[0].Err.Error())
			assert.False(t, res[0].Err.Retryable)
			assert.Equal(t, tc.remote, res[0].Err.Remote)
			requireOK(t, res[1:])
			assert.Equal(t, 2, count(t, srv, standin.Partner))
			s.apply(t, res)

			// The group then fails, retryably, on its missing member only.
			res = a.Push(ctx, []*dc.Entity{s["g1"]}, s.lookup)
			assert.Equal(t, external.EPENDING, res[0].Err.Code)
			s.add(group("g2", "Pair", "p1", "p3"))
			res = a.Push(ctx, []*dc.Entity{s["g1"], s["g2"]}, s.lookup)
			assert.Equal(t, external.EPENDING, res[0].Err.Code)
			requireOK(t, res[1:])
		})
	}
}

func TestSessionExpiredReauthenticates(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	require.NoError(t, a.Authenticate(ctx))
	srv.AddFault(standin.Fault{Model: standin.Partner, Method: "search_read", Error: standin.ErrSessionExpired, Code: 100, Times: 1})
	s := store{}
	res := a.Push(ctx, s.add(person("p1", "Amina", "Mwangi", "", "")), s.lookup)
	requireOK(t, res)
	assert.Equal(t, 2, srv.CountCalls("", "authenticate"))

	// Expiring again and again ends in a (retryable) EAUTH.
	srv.AddFault(standin.Fault{Model: standin.Partner, Error: standin.ErrSessionExpired, Code: 100, Times: 2})
	res = a.Push(ctx, s.add(person("p2", "Juma", "Mwangi", "", "")), s.lookup)
	require.NotNil(t, res[0].Err)
	assert.Equal(t, external.EAUTH, res[0].Err.Code)
	assert.True(t, res[0].Err.Retryable)
}

func TestDeletedEntityIsNotSent(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	s := store{}
	p := s.add(person("p1", "Amina", "Mwangi", "", ""))[0]
	p.Deleted = true
	res := a.Push(ctx, []*dc.Entity{p}, s.lookup)
	require.Nil(t, res[0].Err)
	assert.Empty(t, res[0].ExternalID)
	assert.Equal(t, 0, count(t, srv, standin.Partner))
}

func TestContextCancelled(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	require.NoError(t, a.Authenticate(ctx))
	srv.SetLatency(time.Second)
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	s := store{}
	res := a.Push(c, household(s), s.lookup)
	for _, r := range res {
		require.NotNil(t, r.Err)
		assert.Equal(t, external.ENETWORK, r.Err.Code)
		assert.True(t, r.Err.Retryable)
	}
}
