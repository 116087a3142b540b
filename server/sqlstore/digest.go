//go:build !js

package sqlstore

import (
	"context"
	"errors"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// The digest of an app's events (see core.Chain): every event row keeps in
// its root column the chain's root after it, and the app's row keeps the
// root after its last event beside its sequence number. A push computes the
// roots of its events from the app's root, which it reads once under the
// app's lock (the lock that serialises the app's pushes, so that roots
// always form one chain in sequence order), and writes the app's new root
// with its sequence number: O(1) per event, never a rebuild.
const (
	// qAppRoot reads the app's root in the push transaction, after qLockApp
	// locked its row (NULL: an app without events).
	qAppRoot = `SELECT root FROM apps WHERE id = $1`
	// qSetAppHead records the app's last sequence number and root.
	qSetAppHead = `UPDATE apps SET seq = $2, root = $3 WHERE id = $1`
	// qAppendEventRoot is qAppendEvent with the event's root.
	qAppendEventRoot = `INSERT INTO events (app_id, seq, guid, entity_guid, type, payload, root)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (app_id, guid) DO NOTHING`
	qEventRoot = `SELECT root FROM events WHERE app_id = $1 AND seq = $2`

	// Backfill of the roots of the events stored before schema version 4.
	qApps         = `SELECT id FROM apps ORDER BY id`
	qSetEventRoot = `UPDATE events SET root = $3 WHERE app_id = $1 AND seq = $2`
	qSetAppRoot   = `UPDATE apps SET root = $2 WHERE id = $1`
	backfillPage  = 1000
	rootsVersion  = 4 // the schema version that added the roots (see backfills)
)

// Root returns the root of app's event chain after the event with sequence
// number seq: the zero root for 0, ENOTFOUND for a seq the app has not
// reached, EINVALID for a negative one.
func (s *Store) Root(ctx context.Context, app string, seq int64) ([32]byte, error) {
	if err := s.check(); err != nil {
		return core.ZeroRoot, err
	}
	switch {
	case seq < 0:
		return core.ZeroRoot, dc.Errorf(dc.EINVALID, "root: sequence number %d is negative", seq)
	case seq == 0:
		return core.ZeroRoot, nil
	}
	var b []byte
	err := s.db.queryRow(ctx, qEventRoot, app, seq).Scan(&b)
	if errors.Is(err, errNoRows) {
		return core.ZeroRoot, dc.Errorf(dc.ENOTFOUND, "app %s has no event %d", app, seq)
	}
	if err != nil {
		return core.ZeroRoot, s.err("read root", err)
	}
	if len(b) == 0 {
		return core.ZeroRoot, dc.Errorf(dc.ESTORE, "event %d of app %s has no root", seq, app)
	}
	return core.RootOf(b)
}

// head returns the app's root before this transaction's next event,
// reading it the first time. The caller holds p.mu.
func (p *pushTx) head() (core.Root, error) {
	if p.rootRead {
		return p.root, nil
	}
	var b []byte
	if err := p.t.queryRow(p.ctx, qAppRoot, p.app).Scan(&b); err != nil {
		return core.ZeroRoot, p.s.err("push: read the app's root", err)
	}
	r, err := core.RootOf(b)
	if err != nil {
		return core.ZeroRoot, err
	}
	p.root, p.rootRead = r, true
	return r, nil
}

// backfillRoots computes, once, the roots of the events stored before
// schema version 4: per app, in sequence order, a page at a time.
func backfillRoots(ctx context.Context, t tx) error {
	apps, err := appIDs(ctx, t)
	if err != nil {
		return err
	}
	buf := make([]*dc.Event, 0, backfillPage)
	for _, app := range apps {
		root, after := core.ZeroRoot, int64(0)
		for {
			buf, err = records(ctx, t, decodeEvent, buf[:0], qPullEvents, app, after, int64(backfillPage))
			if err != nil {
				return err
			}
			for _, ev := range buf {
				root = core.Chain(root, ev)
				// queue may send it later: the bytes must not be root's.
				if err := t.queue(ctx, qSetEventRoot, app, ev.Seq, append([]byte(nil), root[:]...)); err != nil {
					return err
				}
				after = ev.Seq
			}
			if len(buf) < backfillPage {
				break
			}
		}
		if _, err := t.exec(ctx, qSetAppRoot, app, root[:]); err != nil {
			return err
		}
	}
	return nil
}

func appIDs(ctx context.Context, t tx) ([]string, error) {
	r, err := t.query(ctx, qApps)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var ids []string
	for r.Next() {
		var id string
		if err := r.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, r.Err()
}
