//go:build !js

package sqlstore

import (
	"context"
	"sync"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// pushTx is the PushTx of one Push. Its methods may be called from several
// goroutines, but only until fn returns. PutEntity and AppendAudit may be
// sent to PostgreSQL with the transaction's next statement (to save round
// trips), which then reports their error: the Push fails all the same.
type pushTx struct {
	ctx context.Context
	s   *Store
	t   tx
	app string

	mu   sync.Mutex
	done bool
	seq  int64 // the app's last sequence number, with this transaction's events
	// appended are the events given sequence numbers, and prev their
	// previous ones, restored if the transaction does not commit.
	appended []*dc.Event
	prev     []int64
	// root is the app's digest root after its last event, with this
	// transaction's events (read by head on the first Append).
	root     core.Root
	rootRead bool
	// audit is the app's audit chain head, with this transaction's
	// entries (see auditchain.go).
	audit auditHead
}

var _ dc.PushTx = (*pushTx)(nil)

// run calls fn and returns its error unchanged.
func (p *pushTx) run(fn func(tx dc.PushTx) error) error {
	err := fn(p)
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
	return err
}

// finish records the app's last sequence number and commits.
func (p *pushTx) finish() error {
	if len(p.appended) > 0 {
		if _, err := p.t.exec(p.ctx, qSetAppHead, p.app, p.seq, p.root[:]); err != nil {
			return p.s.err("push: update the app's sequence", err)
		}
	}
	if err := p.audit.finish(p); err != nil {
		return err
	}
	if err := p.t.commit(p.ctx); err != nil {
		return p.s.err("push: commit", err)
	}
	return nil
}

// undo gives the events their sequence numbers back: they were not stored.
func (p *pushTx) undo() {
	for i, e := range p.appended {
		e.Seq = p.prev[i]
	}
}

// lock locks p for one call, or returns an error once fn has returned.
func (p *pushTx) lock() error {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return dc.Errorf(dc.EINVALID, "push transaction used after its function returned")
	}
	return nil
}

// Events implements datacollect.PushTx.
func (p *pushTx) Events(guids []string) (map[string]*dc.Event, error) {
	return byGUID(p, "events", qEventsIn, guids, decodeEvent, func(e *dc.Event) string { return e.GUID })
}

// Entities implements datacollect.PushTx.
func (p *pushTx) Entities(guids []string) (map[string]*dc.Entity, error) {
	return byGUID(p, "entities", qEntitiesIn, guids, decodeEntity, func(e *dc.Entity) string { return e.GUID })
}

// byGUID runs query, whose rows are (number, payload), with IN lists of
// the guids, and returns the records by guid.
func byGUID[T any](p *pushTx, what, query string, guids []string, decode func(int64, []byte) (T, error), guid func(T) string) (map[string]T, error) {
	if err := p.lock(); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	out := make(map[string]T, len(guids))
	var buf []T
	err := inChunks(guids, func(in string, args []any) error {
		var err error
		buf, err = records(p.ctx, p.t, decode, buf[:0], query+in, append([]any{p.app}, args...)...)
		for _, v := range buf {
			out[guid(v)] = v
		}
		return err
	})
	if err != nil {
		return nil, p.s.err("push: read "+what, err)
	}
	return out, nil
}

// Append implements datacollect.PushTx. An event whose guid the app already
// has is EEXISTS (and the transaction stays usable).
func (p *pushTx) Append(ev *dc.Event) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if ev == nil || ev.GUID == "" {
		return dc.Errorf(dc.EINVALID, "append: event without guid")
	}
	head, err := p.head()
	if err != nil {
		return err
	}
	prev := ev.Seq
	ev.Seq = p.seq + 1
	b, err := encodeEvent(ev)
	if err != nil {
		ev.Seq = prev
		return dc.Errorf(dc.EINVALID, "append: encode event %s: %v", ev.GUID, err)
	}
	root := core.Chain(head, ev)
	n, err := p.t.exec(p.ctx, qAppendEventRoot, p.app, ev.Seq, ev.GUID, ev.EntityGUID, ev.Type, b, root[:])
	if err == nil && n == 0 {
		err = dc.Errorf(dc.EEXISTS, "append: app %s already has event %s", p.app, ev.GUID)
	}
	if err != nil {
		ev.Seq = prev
		return p.s.err("append event", err)
	}
	p.seq, p.root = ev.Seq, root
	p.appended = append(p.appended, ev)
	p.prev = append(p.prev, prev)
	return nil
}

// PutEntity implements datacollect.PushTx.
func (p *pushTx) PutEntity(e *dc.Entity) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if e == nil || e.GUID == "" {
		return dc.Errorf(dc.EINVALID, "put entity: entity without guid")
	}
	b, err := encodeEntity(e)
	if err != nil {
		return dc.Errorf(dc.EINVALID, "put entity: encode entity %s: %v", e.GUID, err)
	}
	var ext any
	if e.ExternalID != "" {
		ext = e.ExternalID
	}
	err = p.t.queue(p.ctx, qPutEntity, p.app, e.GUID, string(e.Type), ext, e.Version, b, dupKeyArg(e))
	if err != nil {
		return p.s.err("put entity", err)
	}
	return nil
}

// AppendAudit implements datacollect.PushTx. seq must be one of the app's
// events, stored or appended in this transaction (EINVALID otherwise).
func (p *pushTx) AppendAudit(seq int64, a *dc.AuditEntry) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if a == nil {
		return dc.Errorf(dc.EINVALID, "append audit: no entry")
	}
	if seq < 1 || seq > p.seq {
		return dc.Errorf(dc.EINVALID, "append audit: app %s has no event with seq %d", p.app, seq)
	}
	hash, err := p.audit.next(p, seq, a)
	if err != nil {
		return err
	}
	b, err := encodeAudit(a)
	if err != nil {
		return dc.Errorf(dc.EINVALID, "append audit: encode entry %s: %v", a.GUID, err)
	}
	err = p.t.queue(p.ctx, qAppendAuditHash, p.app, seq, a.GUID, a.EventGUID, a.EntityGUID, b, hash)
	if err != nil {
		return p.s.err("append audit", err)
	}
	p.audit.advance(hash)
	return nil
}

// AppendSyncLog implements datacollect.PushTx.
func (p *pushTx) AppendSyncLog(a *dc.AuditEntry) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if a == nil {
		return dc.Errorf(dc.EINVALID, "append sync log: no entry")
	}
	b, err := encodeAudit(a)
	if err != nil {
		return dc.Errorf(dc.EINVALID, "append sync log: encode entry %s: %v", a.GUID, err)
	}
	var id int64
	if err := p.t.queryRow(p.ctx, qNextLogID, p.app).Scan(&id); err != nil {
		return p.s.err("append sync log: next id", err)
	}
	if err := p.t.queue(p.ctx, qAppendSyncLog, p.app, id, a.DeviceID, int64(a.Entities), a.Status, b); err != nil {
		return p.s.err("append sync log", err)
	}
	a.ID = id
	return nil
}
