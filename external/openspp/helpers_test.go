//go:build !js

package openspp_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/external/openspp"
	"github.com/datacollect/datacollect/external/openspp/standin"
)

// start runs a seeded stand-in and an adapter initialized against it;
// edit, if not nil, changes the config first.
func start(t *testing.T, opts standin.Options, edit func(*external.Config)) (*standin.Server, *openspp.Adapter) {
	t.Helper()
	opts.Seed = true
	srv := standin.Start(t, opts)
	cfg := external.Config{Adapter: openspp.Name, URL: srv.URL(), Database: srv.DB(), Login: srv.Login(), Secret: srv.Password()}
	if edit != nil {
		edit(&cfg)
	}
	a, err := external.New(cfg.Adapter)
	require.NoError(t, err)
	require.NoError(t, a.Initialize(context.Background(), cfg))
	return srv, a.(*openspp.Adapter)
}

func person(guid, given, family, gender, nid string) *dc.Entity {
	data := map[string]any{"givenName": given, "familyName": family}
	if gender != "" {
		data["gender"] = gender
	}
	if nid != "" {
		data["nationalId"] = nid
	}
	return &dc.Entity{GUID: guid, Type: dc.Individual, Version: 1, Data: data}
}

func group(guid, name string, members ...string) *dc.Entity {
	return &dc.Entity{GUID: guid, Type: dc.Group, Version: 1, Data: map[string]any{"name": name}, MemberIDs: members}
}

// store is a minimal caller: it keeps the entities and records the
// external ids push results carry, as the server's outbox would.
type store map[string]*dc.Entity

func (s store) add(es ...*dc.Entity) []*dc.Entity {
	for _, e := range es {
		s[e.GUID] = e
	}
	return es
}

func (s store) lookup(guid string) (*dc.Entity, bool) {
	e, ok := s[guid]
	return e, ok
}

func (s store) apply(t *testing.T, res []external.PushResult) {
	t.Helper()
	for _, r := range res {
		if r.Err == nil && r.ExternalID != "" {
			s[r.GUID].ExternalID = r.ExternalID
		}
	}
}

func count(t *testing.T, srv *standin.Server, model string, domain ...any) int {
	t.Helper()
	n, err := srv.Count(model, domain)
	require.NoError(t, err)
	return n
}

func requireOK(t *testing.T, res []external.PushResult) {
	t.Helper()
	for _, r := range res {
		require.Nil(t, r.Err, "push %s", r.GUID)
		require.NotEmpty(t, r.ExternalID, "push %s", r.GUID)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func isGroup(b bool) []any { return []any{[]any{"is_group", "=", b}} }
