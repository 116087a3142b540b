//go:build !js

package sqlstore

import (
	"context"
	"errors"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// The audit chain of an app (see core.AuditHash): every audit row keeps in
// its hash column (and in its payload's Hash) the chain's hash after it,
// and the app's row keeps the hash of its last entry in audit_head. A push
// reads the head once, under the app's lock (which serialises the app's
// pushes, on one database however many servers share it), chains its
// entries in the order it appends them and writes the new head before it
// commits: O(1) per entry. The server appends an event's entries right
// after the event, so the order of append is the order of (seq, id) in
// which pulls deliver the entries and VerifyAudit walks them.
const (
	// qAuditHead reads the app's audit head in the push transaction, after
	// qLockApp locked its row.
	qAuditHead    = `SELECT COALESCE(audit_head, '') FROM apps WHERE id = $1`
	qSetAuditHead = `UPDATE apps SET audit_head = $2 WHERE id = $1`
	// qAppendAuditHash is qAppendAudit with the entry's hash.
	qAppendAuditHash = `INSERT INTO audit (app_id, seq, guid, event_guid, entity_guid, payload, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	// qAuditChain reads an app's whole audit log in the chain's order.
	qAuditChain = `SELECT id, seq, COALESCE(hash, ''), payload FROM audit WHERE app_id = $1 ORDER BY seq, id`
	// qAuditPage reads the page of an app's audit log after (seq $2, id $3).
	qAuditPage = `SELECT id, seq, payload FROM audit WHERE app_id = $1 AND (seq > $2 OR (seq = $2 AND id > $3))
		ORDER BY seq, id LIMIT $4`
	qSetAuditHash = `UPDATE audit SET hash = $2, payload = $3 WHERE id = $1`
)

// auditHead is a push transaction's view of the app's audit chain head.
// Its methods are called with the pushTx's mu held.
type auditHead struct {
	hash    string // the hash of the app's last entry, "" for none
	read    bool   // hash was read from the apps row
	changed bool   // entries were appended: finish writes hash
}

// next reads the head the first time and sets a.Hash to the hash of a, of
// the event with sequence number seq, after the head. It does not move the
// head: advance does, once the entry is stored.
func (h *auditHead) next(p *pushTx, seq int64, a *dc.AuditEntry) (string, error) {
	if !h.read {
		if err := p.t.queryRow(p.ctx, qAuditHead, p.app).Scan(&h.hash); err != nil {
			return "", p.s.err("append audit: read the app's audit head", err)
		}
		h.read = true
	}
	a.Hash = core.AuditHash(h.hash, a, seq)
	return a.Hash, nil
}

// advance moves the head to the entry of hash, just stored.
func (h *auditHead) advance(hash string) { h.hash, h.changed = hash, true }

// finish writes the app's new audit head if entries were appended.
func (h *auditHead) finish(p *pushTx) error {
	if !h.changed {
		return nil
	}
	if _, err := p.t.exec(p.ctx, qSetAuditHead, p.app, h.hash); err != nil {
		return p.s.err("push: update the app's audit head", err)
	}
	return nil
}

// BrokenLink is the first broken link of an app's audit chain (see
// datacollect.BrokenLink).
type BrokenLink = dc.BrokenLink

// VerifyAudit recomputes app's audit chain from its first entry and
// returns the number of entries checked and the first broken link, nil if
// the chain is intact. It reads one snapshot of the database. An app that
// does not exist is ENOTFOUND.
func (s *Store) VerifyAudit(ctx context.Context, app string) (checked int, broken *BrokenLink, err error) {
	return s.VerifyAuditProgress(ctx, app, 0, nil)
}

// VerifyAuditProgress is VerifyAudit calling progress with the number of
// entries checked every every entries (never if progress is nil or every
// is not positive).
func (s *Store) VerifyAuditProgress(ctx context.Context, app string, every int, progress func(checked int)) (checked int, broken *BrokenLink, err error) {
	if err := s.check(); err != nil {
		return 0, nil, err
	}
	t, err := s.db.begin(ctx, false)
	if err != nil {
		return 0, nil, s.err("verify audit: begin", err)
	}
	defer t.rollback()
	var head string
	err = t.queryRow(ctx, qAuditHead, app).Scan(&head)
	if errors.Is(err, errNoRows) {
		return 0, nil, dc.Errorf(dc.ENOTFOUND, "verify audit: no app %s", app)
	}
	if err != nil {
		return 0, nil, s.err("verify audit: read the app's audit head", err)
	}
	r, err := t.query(ctx, qAuditChain, app)
	if err != nil {
		return 0, nil, s.err("verify audit", err)
	}
	defer r.Close()
	prev := ""
	for r.Next() {
		var id, seq int64
		var hash string
		var b []byte
		if err := r.Scan(&id, &seq, &hash, &b); err != nil {
			return checked, nil, s.err("verify audit", err)
		}
		a, err := decodeAudit(id, b)
		if err != nil {
			return checked, nil, dc.Errorf(dc.ESTORE, "verify audit: entry %d: %v", id, err)
		}
		want := core.AuditHash(prev, a, seq)
		switch {
		case hash != want:
			return checked, &BrokenLink{Seq: seq, ID: id, GUID: a.GUID, Want: want, Got: hash}, nil
		case a.Hash != hash:
			// The payload, which devices pull, disagrees with the column.
			return checked, &BrokenLink{Seq: seq, ID: id, GUID: a.GUID, Want: want, Got: a.Hash}, nil
		}
		prev = want
		checked++
		if progress != nil && every > 0 && checked%every == 0 {
			progress(checked)
		}
	}
	if err := r.Err(); err != nil {
		return checked, nil, s.err("verify audit", err)
	}
	if head != prev {
		return checked, &BrokenLink{Want: prev, Got: head}, nil
	}
	return checked, nil, nil
}

// backfillAuditChain computes, once, the hashes of the audit entries
// stored before schema version 5: per app, in (seq, id) order, a page at
// a time, into the hash column and the payload.
func backfillAuditChain(ctx context.Context, t tx) error {
	apps, err := appIDs(ctx, t)
	if err != nil {
		return err
	}
	type row struct {
		id, seq int64
		b       []byte
	}
	page := make([]row, 0, backfillPage)
	for _, app := range apps {
		head, seq, id := "", int64(0), int64(0)
		for {
			page = page[:0]
			r, err := t.query(ctx, qAuditPage, app, seq, id, int64(backfillPage))
			if err != nil {
				return err
			}
			for r.Next() {
				var w row
				if err := r.Scan(&w.id, &w.seq, &w.b); err != nil {
					r.Close()
					return err
				}
				w.b = append([]byte(nil), w.b...)
				page = append(page, w)
			}
			err = r.Err()
			r.Close()
			if err != nil {
				return err
			}
			for _, w := range page {
				a, err := decodeAudit(w.id, w.b)
				if err != nil {
					return err
				}
				head = core.AuditHash(head, a, w.seq)
				a.Hash = head
				b, err := encodeAudit(a)
				if err != nil {
					return err
				}
				if err := t.queue(ctx, qSetAuditHash, w.id, head, b); err != nil {
					return err
				}
				seq, id = w.seq, w.id
			}
			if len(page) < backfillPage {
				break
			}
		}
		if head != "" {
			if _, err := t.exec(ctx, qSetAuditHead, app, head); err != nil {
				return err
			}
		}
	}
	return nil
}
