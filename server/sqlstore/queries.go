//go:build !js

package sqlstore

import "strconv"

// The store's statements. Values are always parameters; only the IN lists'
// placeholders are generated (see inList).
const (
	// qLockApp locks the app's row, creating it at 0, and reads its last
	// sequence number: a concurrent Push of the app waits here until the
	// holder ends, then reads what it wrote.
	qLockApp = `INSERT INTO apps (id, seq) VALUES ($1, 0)
		ON CONFLICT (id) DO UPDATE SET seq = apps.seq RETURNING seq`
	qSetAppSeq = `UPDATE apps SET seq = $2 WHERE id = $1`
	// qAppendEvent does nothing, rather than violate the unique key, for
	// an existing guid: that keeps a PostgreSQL transaction usable.
	qAppendEvent = `INSERT INTO events (app_id, seq, guid, entity_guid, type, payload)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app_id, guid) DO NOTHING`
	qPutEntity = `INSERT INTO entities (app_id, guid, type, external_id, version, payload, dup_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (app_id, guid) DO UPDATE SET type = excluded.type, external_id = excluded.external_id,
			version = excluded.version, payload = excluded.payload, dup_key = excluded.dup_key`
	qAppendAudit = `INSERT INTO audit (app_id, seq, guid, event_guid, entity_guid, payload)
		VALUES ($1, $2, $3, $4, $5, $6)`
	// qEventsIn and qEntitiesIn end with an IN list of guids from $2 on.
	// Queries of records return (number, payload) rows: see records.
	qEventsIn   = `SELECT seq, payload FROM events WHERE app_id = $1 AND guid IN `
	qEntitiesIn = `SELECT version, payload FROM entities WHERE app_id = $1 AND guid IN `

	qPullEvents = `SELECT seq, payload FROM events WHERE app_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
	qPullAudit  = `SELECT id, payload FROM audit WHERE app_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq, id`
	qCount      = `SELECT COUNT(*) FROM events WHERE app_id = $1 AND seq > $2`
	qEntity     = `SELECT payload FROM entities WHERE app_id = $1 AND guid = $2`

	// qNextLogID locks the app's sync-log head, creating it at 1, and
	// returns the next id: a concurrent append of the app waits here until
	// the holder ends.
	qNextLogID = `INSERT INTO sync_log_heads (app_id, id) VALUES ($1, 1)
		ON CONFLICT (app_id) DO UPDATE SET id = sync_log_heads.id + 1 RETURNING id`
	qAppendSyncLog = `INSERT INTO sync_log (app_id, id, device_id, entities, status, payload)
		VALUES ($1, $2, $3, $4, $5, $6)`
	// qSyncLog* select (id, payload) rows after id $2: see syncLogQuery.
	qSyncLog          = `SELECT id, payload FROM sync_log WHERE app_id = $1 AND id > $2`
	qSyncLogDevice    = ` AND device_id = $4`
	qSyncLogAffecting = ` AND (entities > 0 OR status = 'error')`
	qPutDevice        = `INSERT INTO devices (app_id, device_id, user_id, reported_at, payload)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (app_id, device_id) DO UPDATE SET user_id = excluded.user_id,
			reported_at = excluded.reported_at, payload = excluded.payload`
	qDevices = `SELECT device_id, user_id, reported_at, payload FROM devices WHERE app_id = $1 ORDER BY device_id`

	qCreateUser = `INSERT INTO users (app_id, id, email, password_hash, role, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	qUserByEmail = `SELECT id, email, password_hash, role, created_at FROM users WHERE app_id = $1 AND email = $2`
	qSecret      = `SELECT value FROM secrets WHERE name = $1`
	qPutSecret   = `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`
)

// syncLogQuery returns the query of sync-log entries with the filters
// asked: its parameters are the app ($1), the id after which to start ($2),
// the limit ($3) and, with device, the device ($4). newest orders the rows
// newest first.
func syncLogQuery(device, affecting, newest bool) string {
	q := qSyncLog
	if device {
		q += qSyncLogDevice
	}
	if affecting {
		q += qSyncLogAffecting
	}
	if newest {
		return q + ` ORDER BY id DESC LIMIT $3`
	}
	return q + ` ORDER BY id LIMIT $3`
}

// maxIn bounds the placeholders of one IN list.
const maxIn = 256

// inSizes are the sizes of IN lists: powers of two up to maxIn, so that few
// distinct statements reach the statement caches.
var inSizes = func() []int {
	var s []int
	for n := 1; n <= maxIn; n *= 2 {
		s = append(s, n)
	}
	return s
}()

// inLists[i] is "($2, $3, ...)" with inSizes[i] placeholders.
var inLists = func() []string {
	l := make([]string, len(inSizes))
	for i, n := range inSizes {
		b := []byte{'('}
		for j := range n {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(j+2), 10)
		}
		l[i] = string(append(b, ')'))
	}
	return l
}()

// txQueries are the statements that run in transactions: write ones first,
// then read ones. The SQLite backend prepares them when it opens.
func txQueries() (write, read []string) {
	write = []string{qLockApp, qSetAppHead, qAppendEventRoot, qAppRoot, qPutEntity, qAppendAudit, qNextLogID, qAppendSyncLog}
	for _, in := range inLists {
		write = append(write, qEventsIn+in, qEntitiesIn+in)
	}
	return write, []string{qPullEvents, qPullAudit}
}

// inChunks calls fn for the distinct guids, at most maxIn at a time, with
// an IN list of their placeholders and its arguments. Lists are padded (by
// repeating a guid) to one of inSizes.
func inChunks(guids []string, fn func(in string, args []any) error) error {
	seen := make(map[string]bool, len(guids))
	uniq := make([]string, 0, len(guids))
	for _, g := range guids {
		if !seen[g] {
			seen[g] = true
			uniq = append(uniq, g)
		}
	}
	for len(uniq) > 0 {
		n := min(len(uniq), maxIn)
		i := 0
		for inSizes[i] < n {
			i++
		}
		args := make([]any, inSizes[i])
		for j := range args {
			args[j] = uniq[min(j, n-1)]
		}
		if err := fn(inLists[i], args); err != nil {
			return err
		}
		uniq = uniq[n:]
	}
	return nil
}
