//go:build !js

package sqlstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server/sqlstore"
)

// TestDuplicates: the server flags entities of one app sharing a default
// duplicate key (nationalId), from its index, on both databases.
func TestDuplicates(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) *sqlstore.Store{
		"sqlite":   func(t *testing.T) *sqlstore.Store { return openSQLite(t, sqlitePath(t)) },
		"postgres": func(t *testing.T) *sqlstore.Store { return openPostgres(t, pgtest.DSN(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			defer s.Close()
			ind := func(guid string, data map[string]any) *dc.Entity {
				return &dc.Entity{GUID: guid, Type: dc.Individual, Version: 1, Data: data}
			}
			put := func(app string, es ...*dc.Entity) {
				t.Helper()
				require.NoError(t, s.Push(ctx, app, func(tx dc.PushTx) error {
					for _, e := range es {
						if err := tx.PutEntity(e); err != nil {
							return err
						}
					}
					return nil
				}))
			}
			groups := func(app string, limit int) [][]string {
				t.Helper()
				gs, err := s.Duplicates(ctx, app, limit)
				require.NoError(t, err)
				out := [][]string{}
				for _, g := range gs {
					var guids []string
					for _, e := range g {
						guids = append(guids, e.DupKey+" "+e.GUID)
					}
					out = append(out, guids)
				}
				return out
			}
			assert.Equal(t, [][]string{}, groups("app1", 0))
			dead := ind("p9", map[string]any{"nationalId": "ab 1"})
			dead.Deleted = true
			put("app1",
				ind("p2", map[string]any{"name": "Ana", "nationalId": " AB  1"}),
				ind("p1", map[string]any{"name": "Anna", "nationalId": "ab 1"}),
				dead,
				ind("p3", map[string]any{"nationalId": "ZZ"}),
				ind("p4", map[string]any{"name": "no id"}),
				&dc.Entity{GUID: "g1", Type: dc.Group, Version: 1, Data: map[string]any{"nationalId": "zz"}},
				&dc.Entity{GUID: "g2", Type: dc.Group, Version: 1, Data: map[string]any{"nationalId": "ZZ "}},
			)
			put("app2", ind("q1", map[string]any{"nationalId": "ab 1"}))
			want := [][]string{{"group|zz g1", "group|zz g2"}, {"individual|ab 1 p1", "individual|ab 1 p2"}}
			assert.Equal(t, want, groups("app1", 0), "by key, then guid; apps apart; tombstones out")
			assert.Equal(t, want[:1], groups("app1", 1))
			assert.Equal(t, [][]string{}, groups("app2", 0))

			// keep: the pair is declared distinct; a third entity is a
			// duplicate of both.
			p1 := ind("p1", map[string]any{"name": "Anna", "nationalId": "ab 1"})
			p1.Version, p1.Distinct = 2, []string{"p2"}
			p2 := ind("p2", map[string]any{"name": "Ana", "nationalId": " AB  1"})
			p2.Version, p2.Distinct = 2, []string{"p1"}
			put("app1", p1, p2)
			assert.Equal(t, want[:1], groups("app1", 0))
			put("app1", ind("p5", map[string]any{"nationalId": "AB 1"}))
			assert.Equal(t, [][]string{want[0], {"individual|ab 1 p1", "individual|ab 1 p2", "individual|ab 1 p5"}},
				groups("app1", 0))

			// An update moves the entity to its new key; a delete takes it
			// out.
			put("app1", ind("p5", map[string]any{"nationalId": "other"}))
			g2 := &dc.Entity{GUID: "g2", Type: dc.Group, Version: 2, Deleted: true, Data: map[string]any{"nationalId": "zz"}}
			put("app1", g2)
			assert.Equal(t, [][]string{}, groups("app1", 0))

			require.NoError(t, s.Close())
			_, err := s.Duplicates(ctx, "app1", 0)
			assert.Equal(t, dc.ECLOSED, dc.ErrorCode(err))
		})
	}
}
