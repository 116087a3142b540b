package client

import (
	"context"
	"encoding/binary"

	"fmt"
	"sync"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// Transport carries the sync protocol to a server: the browser's fetch in
// package syncjs, net/http in package httpsync (native tools and tests).
// Errors are *dc.Error values; a transport error means the server may or may
// not have processed the request, and the request is safe to repeat.
type Transport interface {
	// Push sends a batch of events and returns the per-event results.
	Push(ctx context.Context, req *dc.PushRequest) (*dc.PushResponse, error)
	// Pull fetches the page of events after a cursor.
	Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error)
	// Plan asks how many events a pull from cursor since would bring,
	// changing nothing.
	Plan(ctx context.Context, since int64) (*dc.PlanResponse, error)
	// Report sends the device's telemetry after a sync attempt.
	Report(ctx context.Context, r *dc.DeviceReport) error
}

// ByteCounter is implemented by transports that count the bytes they sent
// and received on the wire (after compression).
type ByteCounter interface {
	Bytes() (sent, received int64)
}

// SyncOptions tune a sync. Zero values get defaults.
type SyncOptions struct {
	// BatchSize is the number of events per push request (default 100).
	BatchSize int
	// PageSize is the number of events per pull page (default 500).
	PageSize int
	// Concurrency bounds the push requests in flight (default 5); events of
	// one entity are never reordered.
	Concurrency int
	// Progress, if set, is called as batches and pages complete.
	Progress func(Progress)
}

func (o SyncOptions) withDefaults() SyncOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 5
	}
	return o
}

// Progress reports how far a sync phase ("push" or "pull") is.
type Progress struct {
	Phase string `json:"phase"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// SyncResult summarises a sync (or a push or pull alone).
type SyncResult struct {
	Pushed        int   `json:"pushed"`
	Pulled        int   `json:"pulled"`
	Failed        int   `json:"failed"`
	Conflicts     int   `json:"conflicts"`
	Entities      int   `json:"entities"` // distinct entities pushed or pulled
	DurationMs    int64 `json:"durationMs"`
	BytesSent     int64 `json:"bytesSent"`
	BytesReceived int64 `json:"bytesReceived"`
}

// cursorKey is the metadata key of the pull cursor: the highest server
// sequence number whose events (and all before) are applied here.
const cursorKey = "sync.cursor"

// logCursorKey is the metadata key of the device's cursor in the server's
// sync log (the server's audit of sync operations, pulled with the events).
const logCursorKey = "sync.logCursor"

// Cursor returns the pull cursor (0 before the first pull).
func (c *Client) Cursor(ctx context.Context) (int64, error) {
	return c.metaInt(ctx, cursorKey)
}

func (c *Client) metaInt(ctx context.Context, key string) (int64, error) {
	v, ok, err := c.store.Meta(ctx, key)
	if err != nil || !ok {
		return 0, err
	}
	if len(v) != 8 {
		return 0, dc.Errorf(dc.ESTORE, "corrupt %s", key)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func encodeCursor(n int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(n))
}

// Sync pushes the device's LOCAL events, then pulls everyone else's. A call
// while a sync (or push, or pull) runs joins it and gets its result.
func (c *Client) Sync(ctx context.Context, t Transport, o SyncOptions) (SyncResult, error) {
	o = o.withDefaults()
	return c.measured(t, func(ents entitySet) (SyncResult, error) {
		res, err := c.push(ctx, t, o, ents)
		if err != nil {
			return res, err
		}
		pr, err := c.pull(ctx, t, o, ents)
		res.Pulled, res.Failed, res.Conflicts = pr.Pulled, res.Failed+pr.Failed, res.Conflicts+pr.Conflicts
		return res, err
	})
}

// Push sends the LOCAL events only.
func (c *Client) Push(ctx context.Context, t Transport, o SyncOptions) (SyncResult, error) {
	o = o.withDefaults()
	return c.measured(t, func(ents entitySet) (SyncResult, error) { return c.push(ctx, t, o, ents) })
}

// Pull fetches and applies the events after the cursor only.
func (c *Client) Pull(ctx context.Context, t Transport, o SyncOptions) (SyncResult, error) {
	o = o.withDefaults()
	return c.measured(t, func(ents entitySet) (SyncResult, error) { return c.pull(ctx, t, o, ents) })
}

// entitySet collects the guids of the entities a sync moved.
type entitySet map[string]struct{}

func (s entitySet) add(evs []*dc.Event) {
	for _, e := range evs {
		s[e.EntityGUID] = struct{}{}
	}
}

// measured runs fn as the one sync in flight (see flight), adding its
// duration, the entities it moved and the bytes t moved meanwhile to its
// result.
func (c *Client) measured(t Transport, fn func(entitySet) (SyncResult, error)) (SyncResult, error) {
	return c.syncs.do(func() (SyncResult, error) {
		start := c.now()
		sent0, recv0 := bytesOf(t)
		ents := entitySet{}
		res, err := fn(ents)
		res.Entities = len(ents)
		res.DurationMs = c.now().Sub(start).Milliseconds()
		sent, recv := bytesOf(t)
		res.BytesSent, res.BytesReceived = sent-sent0, recv-recv0
		return res, err
	})
}

func bytesOf(t Transport) (int64, int64) {
	if bc, ok := t.(ByteCounter); ok {
		return bc.Bytes()
	}
	return 0, 0
}

// pushable returns the LOCAL events that have not failed, in local order.
func (c *Client) pushable(ctx context.Context) ([]*dc.Event, error) {
	evs, err := c.store.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	out := evs[:0]
	for _, e := range evs {
		if e.Failure == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func (c *Client) push(ctx context.Context, t Transport, o SyncOptions, ents entitySet) (SyncResult, error) {
	var res SyncResult
	evs, err := c.pushable(ctx)
	if err != nil || len(evs) == 0 {
		return res, err
	}
	lanes := core.PlanPush(evs, o.BatchSize, o.Concurrency)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	report := func(batch []*dc.Event, r SyncResult) {
		mu.Lock()
		defer mu.Unlock()
		done += len(batch)
		ents.add(batch)
		res.Pushed += r.Pushed
		res.Failed += r.Failed
		res.Conflicts += r.Conflicts
		if o.Progress != nil {
			o.Progress(Progress{Phase: "push", Done: done, Total: len(evs)})
		}
	}
	for _, lane := range lanes {
		wg.Add(1)
		go func(lane [][]*dc.Event) {
			defer wg.Done()
			for _, batch := range lane {
				r, err := c.pushBatch(ctx, t, batch)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				report(batch, r)
			}
		}(lane)
	}
	wg.Wait()
	return res, firstErr
}

// pushBatch sends one batch and records the server's answer durably: an
// event becomes SYNCED only when the server reports it stored.
func (c *Client) pushBatch(ctx context.Context, t Transport, batch []*dc.Event) (SyncResult, error) {
	var res SyncResult
	req := &dc.PushRequest{Events: batch}
	resp, err := t.Push(ctx, req)
	if err != nil {
		return res, fmt.Errorf("push: %w", err)
	}
	if len(resp.Results) != len(batch) {
		return res, dc.Errorf(dc.EINTERNAL, "push: server answered %d results for %d events", len(resp.Results), len(batch))
	}
	b := &dc.Batch{}
	for i, r := range resp.Results {
		ev := batch[i].Clone()
		if r.GUID != ev.GUID {
			return res, dc.Errorf(dc.EINTERNAL, "push: result %d is for %s, not %s", i, r.GUID, ev.GUID)
		}
		switch r.Status {
		case dc.PushAccepted, dc.PushDuplicate, dc.PushConflict:
			if r.Seq <= 0 {
				return res, dc.Errorf(dc.EINTERNAL, "push: %s %s without a sequence number", r.Status, ev.GUID)
			}
			ev.SyncLevel, ev.Seq, ev.Failure = dc.Synced, r.Seq, nil
			res.Pushed++
			if r.Status == dc.PushConflict {
				res.Conflicts++
			}
		case dc.PushRejected:
			ev.Failure = &dc.Failure{Code: r.Code, Message: r.Message}
			res.Failed++
		default:
			return res, dc.Errorf(dc.EINTERNAL, "push: unknown status %q for %s", r.Status, ev.GUID)
		}
		b.UpdatedEvents = append(b.UpdatedEvents, ev)
	}
	if err := c.store.Commit(ctx, b); err != nil {
		return res, fmt.Errorf("push: record results: %w", err)
	}
	if res.Failed > 0 {
		var refused []*dc.Event
		for _, ev := range b.UpdatedEvents {
			if ev.Failure != nil {
				refused = append(refused, ev)
			}
		}
		if err := c.rebaseRefused(ctx, refused); err != nil {
			return res, fmt.Errorf("push: %w", err)
		}
	}
	return res, nil
}

func (c *Client) pull(ctx context.Context, t Transport, o SyncOptions, ents entitySet) (SyncResult, error) {
	var res SyncResult
	for {
		cursor, err := c.Cursor(ctx)
		if err != nil {
			return res, fmt.Errorf("pull: %w", err)
		}
		logCursor, err := c.metaInt(ctx, logCursorKey)
		if err != nil {
			return res, fmt.Errorf("pull: %w", err)
		}
		page, err := t.Pull(ctx, dc.PullQuery{Since: cursor, Limit: o.PageSize, LogSince: logCursor})
		if err != nil {
			return res, fmt.Errorf("pull: %w", err)
		}
		if err := checkPage(page, cursor); err != nil {
			return res, err
		}
		if len(page.Events) > 0 || page.NextCursor > cursor || page.NextLogCursor > logCursor {
			r, changed, err := c.applyPage(ctx, page, cursor)
			if err != nil {
				return res, err
			}
			res.Pulled += r.Pulled
			res.Failed += r.Failed
			ents.add(page.Events)
			c.notify(Change{Entities: changed})
		}
		if o.Progress != nil {
			o.Progress(Progress{Phase: "pull", Done: res.Pulled, Total: res.Pulled})
		}
		if !page.HasMore {
			return res, nil
		}
	}
}

// checkPage refuses pages that would corrupt the cursor.
func checkPage(p *dc.PullResponse, cursor int64) error {
	last := cursor
	for _, ev := range p.Events {
		if ev.Seq <= last {
			return dc.Errorf(dc.EINTERNAL, "pull: event %s has sequence %d, not above %d", ev.GUID, ev.Seq, last)
		}
		last = ev.Seq
	}
	if p.NextCursor < last {
		return dc.Errorf(dc.EINTERNAL, "pull: next cursor %d is below the page's last sequence %d", p.NextCursor, last)
	}
	return nil
}

// applyPage applies one page and advances the cursor in ONE commit, so a
// crash or reload mid-pull resumes exactly where it stopped.
func (c *Client) applyPage(ctx context.Context, page *dc.PullResponse, cursor int64) (SyncResult, []*dc.Entity, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for attempt := 1; ; attempt++ {
		res, changed, err := c.tryApplyPage(ctx, page, cursor)
		if err == nil {
			return res, changed, nil
		}
		if dc.ErrorCode(err) != dc.ECONFLICT || attempt == maxAttempts {
			return res, nil, fmt.Errorf("pull: %w", err)
		}
		if err := c.pause(ctx, attempt); err != nil {
			return res, nil, err
		}
	}
}

func (c *Client) tryApplyPage(ctx context.Context, page *dc.PullResponse, cursor int64) (SyncResult, []*dc.Entity, error) {
	var res SyncResult
	// Another tab may have applied this page meanwhile.
	now, err := c.Cursor(ctx)
	if err != nil {
		return res, nil, err
	}
	if now != cursor {
		return res, nil, nil
	}
	plan, err := c.applier.PlanPull(storeSource{ctx: ctx, store: c.store}, page.Events)
	if err != nil {
		return res, nil, err
	}
	b := &dc.Batch{
		NewEvents:     plan.New,
		UpdatedEvents: plan.Confirmed,
		Entities:      plan.Records,
		Meta:          map[string][]byte{cursorKey: encodeCursor(page.NextCursor)},
	}
	logNow, err := c.metaInt(ctx, logCursorKey)
	if err != nil {
		return res, nil, err
	}
	if page.NextLogCursor > logNow { // else another tab stored these entries
		b.Meta[logCursorKey] = encodeCursor(page.NextLogCursor)
		for _, a := range page.SyncLog {
			cp := *a
			cp.ID = 0
			b.Audit = append(b.Audit, &cp)
		}
	}
	res.Failed += markFailed(b, plan.Failed, "no longer applies after sync: ")
	remote := map[string]bool{}
	for _, ev := range plan.New {
		remote[ev.GUID] = true
	}
	for _, a := range page.Audit {
		if remote[a.EventGUID] {
			cp := *a
			b.Audit = append(b.Audit, &cp)
		}
	}
	if err := c.chainPage(ctx, b, page); err != nil {
		return res, nil, err
	}
	if err := c.chainAudit(ctx, b, page); err != nil {
		return res, nil, err
	}
	if err := c.commit(ctx, b); err != nil {
		return res, nil, err
	}
	c.origin.pulled(page)
	res.Pulled = len(page.Events)
	res.Conflicts = plan.Conflicts
	changed := changedOf(plan.Records)
	if err := plan.DivergedError("pull"); err != nil {
		return res, changed, err
	}
	return res, changed, nil
}

// storeSource adapts the store to core.Source.
type storeSource struct {
	ctx   context.Context
	store dc.Store
}

func (s storeSource) Records(guids []string) (map[string]*dc.EntityRecord, error) {
	return s.store.Entities(s.ctx, guids)
}

func (s storeSource) Events(guids []string) (map[string]*dc.Event, error) {
	return s.store.Events(s.ctx, guids)
}

// flight runs one function at a time; callers arriving while it runs join
// it and share its result.
type flight struct {
	mu   sync.Mutex
	call *flightCall
}

type flightCall struct {
	done chan struct{}
	res  SyncResult
	err  error
}

func (f *flight) do(fn func() (SyncResult, error)) (SyncResult, error) {
	f.mu.Lock()
	if c := f.call; c != nil {
		f.mu.Unlock()
		<-c.done
		return c.res, c.err
	}
	c := &flightCall{done: make(chan struct{})}
	f.call = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.call = nil
		f.mu.Unlock()
		close(c.done)
	}()
	c.res, c.err = fn()
	return c.res, c.err
}
