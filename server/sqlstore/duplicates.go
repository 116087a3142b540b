//go:build !js

package sqlstore

import (
	"context"
	"slices"
	"strings"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// The server flags potential duplicates with the default compound keys
// (core.DefaultDupKeys): PutEntity stores each entity's key in the column
// dup_key (NULL when it has none, tombstones included), which a partial
// index covers.
var serverDupKeys = core.DefaultDupKeys()

const (
	// qDupKeys lists the keys that several entities of app $1 share; it
	// reads the partial index only.
	qDupKeys = `SELECT dup_key FROM entities WHERE app_id = $1 AND dup_key IS NOT NULL
		GROUP BY dup_key HAVING COUNT(*) > 1`
	qEntitiesByDupKey = `SELECT version, payload FROM entities WHERE app_id = $1 AND dup_key = $2`

	// qDupBackfillPage and qSetDupKey serve backfillDupKeys: pages of
	// entities after ($1, $2) in (app_id, guid) order, at most $3.
	qDupBackfillPage = `SELECT app_id, guid, payload FROM entities
		WHERE app_id > $1 OR (app_id = $1 AND guid > $2) ORDER BY app_id, guid LIMIT $3`
	qSetDupKey = `UPDATE entities SET dup_key = $3 WHERE app_id = $1 AND guid = $2`
)

// dupKeyArg returns e's duplicate key as the dup_key column's value.
func dupKeyArg(e *dc.Entity) any {
	if k := serverDupKeys.Key(e); k != "" {
		return k
	}
	return nil
}

// dupBackfillPage bounds the entities backfillDupKeys holds at once.
const dupBackfillPage = 1000

// backfillDupKeys sets the dup_key column of the entities stored before
// schema version 3, in the migration's transaction.
func backfillDupKeys(ctx context.Context, t tx) error {
	type row struct {
		app, guid string
		key       any
	}
	app, guid := "", ""
	for {
		r, err := t.query(ctx, qDupBackfillPage, app, guid, int64(dupBackfillPage))
		if err != nil {
			return err
		}
		var page []row
		for r.Next() {
			var x row
			var b []byte
			if err := r.Scan(&x.app, &x.guid, &b); err != nil {
				r.Close()
				return err
			}
			e, err := decodeEntity(0, b)
			if err != nil {
				r.Close()
				return err
			}
			x.key = dupKeyArg(e)
			page = append(page, x)
		}
		err = r.Err()
		r.Close()
		if err != nil {
			return err
		}
		// The rows are read: the connection is free for the updates.
		for _, x := range page {
			if x.key == nil {
				continue
			}
			if _, err := t.exec(ctx, qSetDupKey, x.app, x.guid, x.key); err != nil {
				return err
			}
		}
		if len(page) < dupBackfillPage {
			return nil
		}
		app, guid = page[len(page)-1].app, page[len(page)-1].guid
	}
}

// Duplicates returns up to limit (0: all) groups of app's potential
// duplicates under the default keys (core.DefaultDupKeys), by key: live
// entities sharing a key, by guid, without those a resolve-duplicate
// "keep" declared distinct from every other of the group (see
// core.DuplicateGroup). Each entity's DupKey is set. It reads one snapshot,
// the keys from the dup_key index and then only the entities they name.
func (s *Store) Duplicates(ctx context.Context, app string, limit int) ([][]*dc.Entity, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	t, err := s.db.begin(ctx, false)
	if err != nil {
		return nil, s.err("duplicates: begin", err)
	}
	defer t.rollback()
	r, err := t.query(ctx, qDupKeys, app)
	if err != nil {
		return nil, s.err("duplicates: keys", err)
	}
	var keys []string
	for r.Next() {
		var k string
		if err := r.Scan(&k); err != nil {
			r.Close()
			return nil, s.err("duplicates: keys", err)
		}
		keys = append(keys, k)
	}
	err = r.Err()
	r.Close()
	if err != nil {
		return nil, s.err("duplicates: keys", err)
	}
	// Byte order, whatever the database's collation.
	slices.Sort(keys)
	out := [][]*dc.Entity{}
	for _, k := range keys {
		es, err := records(ctx, t, decodeEntity, nil, qEntitiesByDupKey, app, k)
		if err != nil {
			return nil, s.err("duplicates: entities", err)
		}
		slices.SortFunc(es, func(a, b *dc.Entity) int { return strings.Compare(a.GUID, b.GUID) })
		if g := core.DuplicateGroup(es); g != nil {
			for _, e := range g {
				e.DupKey = k
			}
			out = append(out, g)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}
