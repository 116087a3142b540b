package client

import (
	"context"
	"fmt"
	"math"
	"sort"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// Proof of convergence. The device keeps the digest root of the confirmed
// events it holds (core.Chain over the order of record, up to its pull
// cursor) in its metadata, updated in the commit that applies each pull
// page: one hash per event. Verify compares it, and the root of the events
// the store holds, with the server's root at the same cursor (one
// request); on a mismatch it finds the first sequence number where the
// histories differ by binary search over the server's per-event roots
// (O(log n) requests), re-pulls from there and rebuilds what those events
// touch.

// rootKey is the metadata key of the device's digest root (32 bytes): the
// chain's root after the events up to the pull cursor. A device that pulled
// before digests existed has none until Verify rebuilds it.
const rootKey = "sync.root"

// repairPage is the page size of a repair's re-pull.
const repairPage = 500

// RootTransport is what Verify needs of a transport: the server's digest
// root after a sequence number (hex, GET /api/v1/sync/digest) and, to
// repair, the server's events.
type RootTransport interface {
	// Root returns the server's root after the app's event seq.
	Root(ctx context.Context, seq int64) (string, error)
	// Pull fetches the page of events after a cursor.
	Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error)
}

// Verification is what Verify found: whether the device's root matches the
// server's at the device's cursor (after any repair), and what the repair
// did.
type Verification struct {
	Match bool `json:"match"`
	// Cursor is the pull cursor the roots are compared at.
	Cursor int64 `json:"cursor"`
	// LocalRoot is the root of the confirmed events the device holds up to
	// Cursor, ServerRoot the server's there, in hex.
	LocalRoot  string `json:"localRoot"`
	ServerRoot string `json:"serverRoot"`
	// Repaired is set when a mismatch was repaired.
	Repaired bool `json:"repaired"`
	// DivergedAt is the first sequence number whose event differed (0 when
	// only the stored root was wrong or missing).
	DivergedAt int64 `json:"divergedAt"`
	// Refetched counts the events pulled again to repair.
	Refetched int `json:"refetched"`
}

// localRoot returns the device's maintained root; ok is false when it has
// none (or a corrupt one, which Verify replaces: pulls must not fail for
// it).
func (c *Client) localRoot(ctx context.Context) (root core.Root, ok bool, err error) {
	v, ok, err := c.store.Meta(ctx, rootKey)
	if err != nil || !ok || len(v) != len(root) {
		return core.ZeroRoot, false, err
	}
	copy(root[:], v)
	return root, true, nil
}

// chainPage adds to b, the commit that applies page and advances the
// cursor, the root after the page's events: the stored root (zero at cursor
// 0) chained with them in order. A device without a root past cursor 0
// keeps none: Verify rebuilds it.
func (c *Client) chainPage(ctx context.Context, b *dc.Batch, page *dc.PullResponse) error {
	if len(page.Events) == 0 {
		return nil
	}
	root, ok, err := c.localRoot(ctx)
	if err != nil {
		return err
	}
	if !ok && page.Events[0].Seq != 1 {
		return nil
	}
	root = core.ChainAll(root, page.Events)
	b.Meta[rootKey] = root[:]
	return nil
}

// Verify proves that the device holds the same confirmed events as the
// server. It compares, at the device's pull cursor, three roots: the
// server's, the one the device maintained as it applied pull pages (what
// it received), and the one of the confirmed events it holds now,
// recomputed from its store (a linear pass over local data, no network:
// this catches events altered or lost at rest). They match when the device
// converged.
//
// On a mismatch it repairs the device: it finds by binary search over its
// per-event roots the first sequence number whose root differs from the
// server's (O(log n) requests), pulls the server's events from there to
// the cursor, and in one commit stores the missing ones, replaces the
// differing ones, rebuilds the confirmed state of every entity they touch
// (all confirmed events replayed in sequence order, the server's copies
// winning) with its pending events rebased on top, and stores the correct
// root. Then it verifies again. Local events the server holds at no
// sequence number of the range leave the confirmed history, marked failed.
//
// Verify may run alongside syncs: a pull that moves the cursor meanwhile
// makes it start again.
func (c *Client) Verify(ctx context.Context, t RootTransport) (*Verification, error) {
	st, err := c.digestState(ctx, t)
	if err != nil || st.match() {
		return st.verification(), err
	}
	var rep repaired
	for attempt := 1; ; attempt++ {
		rep, err = c.repair(ctx, t, st)
		if err == nil {
			break
		}
		if dc.ErrorCode(err) != dc.ECONFLICT || attempt == maxAttempts {
			return nil, fmt.Errorf("verify: repair: %w", err)
		}
		if err := c.pause(ctx, attempt); err != nil {
			return nil, err
		}
		if st, err = c.digestState(ctx, t); err != nil || st.match() {
			return st.verification(), err
		}
	}
	if st, err = c.digestState(ctx, t); err != nil {
		return nil, err
	}
	v := st.verification()
	v.Repaired, v.DivergedAt, v.Refetched = true, rep.from, rep.refetched
	return v, nil
}

// digest is a device's digest at its cursor, what it holds, and the
// server's root there.
type digest struct {
	cursor int64
	// stored is the maintained root (ok: the device has one).
	stored core.Root
	ok     bool
	// local are the confirmed events held, up to the cursor, in Seq order,
	// and roots[i] the root after local[i].
	local  []*dc.Event
	roots  []core.Root
	server core.Root
}

// rootAt returns the root of the events held up to seq.
func (d *digest) rootAt(seq int64) core.Root {
	i := sort.Search(len(d.local), func(i int) bool { return d.local[i].Seq > seq })
	if i == 0 {
		return core.ZeroRoot
	}
	return d.roots[i-1]
}

// held is the root of the events held up to the cursor.
func (d *digest) held() core.Root { return d.rootAt(d.cursor) }

func (d *digest) match() bool {
	return d.held() == d.server && (d.ok || d.cursor == 0) && d.stored == d.server
}

// verification reports d; LocalRoot is the root of the events held ("" for
// a nil d).
func (d *digest) verification() *Verification {
	if d == nil {
		return nil
	}
	return &Verification{Match: d.match(), Cursor: d.cursor, LocalRoot: core.RootHex(d.held()), ServerRoot: core.RootHex(d.server)}
}

// digestState reads the cursor and the maintained root (in one state: they
// are written together), the confirmed events held up to the cursor (pulls
// only add events above it), and asks the server's root at the cursor.
func (c *Client) digestState(ctx context.Context, t RootTransport) (*digest, error) {
	d := &digest{}
	c.writeMu.Lock()
	var err error
	d.cursor, err = c.Cursor(ctx)
	if err == nil {
		d.stored, d.ok, err = c.localRoot(ctx)
	}
	c.writeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	all, err := c.store.ListEvents(ctx, dc.EventQuery{Confirmed: true})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	// Own events pushed but not pulled yet lie beyond the cursor.
	d.local = all[:sort.Search(len(all), func(i int) bool { return all[i].Seq > d.cursor })]
	d.roots = make([]core.Root, len(d.local))
	r := core.ZeroRoot
	for i, ev := range d.local {
		r = core.Chain(r, ev)
		d.roots[i] = r
	}
	if d.server, err = c.serverRoot(ctx, t, d.cursor); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return d, nil
}

func (c *Client) serverRoot(ctx context.Context, t RootTransport, seq int64) (core.Root, error) {
	if seq == 0 {
		return core.ZeroRoot, nil
	}
	s, err := t.Root(ctx, seq)
	if err != nil {
		return core.ZeroRoot, err
	}
	r, err := core.ParseRoot(s)
	if err != nil {
		return core.ZeroRoot, dc.Errorf(dc.EINTERNAL, "the server's root after %d: %s", seq, dc.ErrorMessage(err))
	}
	return r, nil
}

// repaired is what a repair did.
type repaired struct {
	from      int64 // first differing sequence number, 0 if only the root
	refetched int
}

// errMoved makes Verify start again: the cursor moved during a repair.
var errMoved = dc.Errorf(dc.ECONFLICT, "the pull cursor moved during the repair")

// repair repairs the confirmed history up to d's cursor. It returns
// ECONFLICT when the store changed meanwhile.
func (c *Client) repair(ctx context.Context, t RootTransport, d *digest) (repaired, error) {
	var rep repaired
	if d.held() == d.server {
		// The events are right; only the maintained root was wrong (or the
		// device pulled before digests existed).
		return rep, c.commitRepair(ctx, d, nil)
	}
	// root(0) matches and root(cursor) does not: find the first k whose
	// root differs (differing is monotone in k).
	lo, hi := int64(0), d.cursor
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		r, err := c.serverRoot(ctx, t, mid)
		if err != nil {
			return rep, err
		}
		if r == d.rootAt(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	rep.from = hi

	// The server's events from there to the cursor.
	in := &repairInput{from: rep.from}
	for since := rep.from - 1; since < d.cursor; {
		// No sync-log entries: the next pull brings them.
		page, err := t.Pull(ctx, dc.PullQuery{Since: since, Limit: repairPage, LogSince: math.MaxInt64})
		if err != nil {
			return rep, err
		}
		if err := checkPage(page, since); err != nil {
			return rep, err
		}
		if len(page.Events) == 0 {
			return rep, dc.Errorf(dc.EINTERNAL, "the server has no events after %d, below the cursor %d", since, d.cursor)
		}
		for _, ev := range page.Events {
			if ev.Seq <= d.cursor {
				in.server = append(in.server, ev)
			}
		}
		in.audit = append(in.audit, page.Audit...)
		since = page.Events[len(page.Events)-1].Seq
	}
	if got := core.ChainAll(d.rootAt(rep.from-1), in.server); got != d.server {
		return rep, dc.Errorf(dc.EINTERNAL, "the server's events %d..%d do not chain to its root", rep.from, d.cursor)
	}
	rep.refetched = len(in.server)
	return rep, c.commitRepair(ctx, d, in)
}

// repairInput is the corrected part of the history.
type repairInput struct {
	from   int64
	server []*dc.Event
	audit  []*dc.AuditEntry
}

// commitRepair writes the server's root at d's cursor and, with in, the
// repaired history, in one commit, unless the cursor moved.
func (c *Client) commitRepair(ctx context.Context, d *digest, in *repairInput) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	now, err := c.Cursor(ctx)
	if err != nil {
		return err
	}
	if now != d.cursor {
		return errMoved
	}
	b := &dc.Batch{Meta: map[string][]byte{rootKey: d.server[:]}}
	if in == nil {
		return c.store.Commit(ctx, b)
	}
	plan, err := c.applier.PlanRepair(storeSource{ctx: ctx, store: c.store}, d.local, in.server, in.from)
	if err != nil {
		return err
	}
	b.NewEvents, b.UpdatedEvents, b.Entities = plan.New, plan.Confirmed, plan.Records
	for _, ev := range plan.Dropped {
		cp := ev.Clone()
		cp.Failure = &dc.Failure{Code: dc.EINTERNAL, Message: fmt.Sprintf("verify: the server holds another event at sequence %d", ev.Seq)}
		cp.Seq, cp.SyncLevel = 0, dc.Local
		b.UpdatedEvents = append(b.UpdatedEvents, cp)
	}
	markFailed(b, plan.Failed, "no longer applies after sync: ")
	added := map[string]bool{}
	for _, ev := range plan.New {
		added[ev.GUID] = true
	}
	for _, a := range in.audit {
		if added[a.EventGUID] {
			cp := *a
			cp.ID = 0
			b.Audit = append(b.Audit, &cp)
		}
	}
	if err := c.commit(ctx, b); err != nil {
		return err
	}
	changed := changedOf(plan.Records)
	c.notify(Change{Entities: changed})
	return plan.DivergedError("repair")
}
