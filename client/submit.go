package client

import (
	"context"
	"fmt"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// Form is a form submission as an app hands it in.
type Form struct {
	// Type is the event type, e.g. "create-individual".
	Type string `json:"type"`
	// EntityGUID names the entity; generated for create-* types when empty.
	EntityGUID string `json:"entityGuid,omitempty"`
	// Data is the form's content (for updates, only the changed fields).
	Data map[string]any `json:"data"`
	// GUID makes the submission idempotent: resubmitting the same form with
	// the same guid returns the stored event. Generated when empty.
	GUID string `json:"guid,omitempty"`
	// Timestamp is RFC 3339; the client's clock when empty.
	Timestamp string `json:"timestamp,omitempty"`
}

// maxAttempts bounds the optimistic retries of one submission when another
// writer (another tab) keeps changing the same entities.
const maxAttempts = 10

// SubmitForm records one form: the event is stored and applied to its
// entities in one atomic commit. It returns the stored event (LOCAL).
func (c *Client) SubmitForm(ctx context.Context, f Form) (*dc.Event, error) {
	evs, err := c.submit(ctx, []Form{f}, false)
	if err != nil {
		return nil, err
	}
	return evs[0], nil
}

// SubmitForms records a batch of forms atomically: either every event is
// stored and applied, or (on any invalid form) none is. Later forms see the
// effect of earlier ones (create a household, then add to it).
func (c *Client) SubmitForms(ctx context.Context, fs []Form) ([]*dc.Event, error) {
	if len(fs) == 0 {
		return []*dc.Event{}, nil
	}
	return c.submit(ctx, fs, true)
}

func (c *Client) submit(ctx context.Context, fs []Form, batch bool) ([]*dc.Event, error) {
	where := func(i int, err error) error {
		if !batch {
			return err
		}
		return &dc.Error{Code: dc.ErrorCode(err), Message: fmt.Sprintf("forms[%d]: %s", i, dc.ErrorMessage(err))}
	}
	evs := make([]*dc.Event, len(fs))
	seen := make(map[string]int, len(fs))
	var given []string
	user := c.user()
	for i, f := range fs {
		ev, err := c.prepare(f, user)
		if err != nil {
			return nil, where(i, err)
		}
		if j, dup := seen[ev.GUID]; dup {
			return nil, where(i, dc.Errorf(dc.EINVALID, "guid %s repeats forms[%d]", ev.GUID, j))
		}
		seen[ev.GUID] = i
		if f.GUID != "" {
			given = append(given, ev.GUID)
		}
		evs[i] = ev
	}
	// Writers of this client take turns, so they never conflict with each
	// other; only another client (another tab) can make a commit retry.
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for attempt := 1; ; attempt++ {
		out, changed, err := c.tryCommit(ctx, evs, given, attempt == 1, where)
		if err == nil {
			c.notify(Change{Entities: changed, Local: true})
			return out, nil
		}
		if dc.ErrorCode(err) != dc.ECONFLICT || attempt == maxAttempts {
			return nil, err
		}
		if err := c.pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// pause waits a random time that grows with the attempt (full jitter), so
// that two tabs retrying against each other stop colliding.
func (c *Client) pause(ctx context.Context, attempt int) error {
	ceiling := time.Millisecond << min(attempt, 7)
	t := time.NewTimer(time.Duration(c.rand.Int64N(int64(ceiling)) + 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// prepare turns a form into a new LOCAL event.
func (c *Client) prepare(f Form, user string) (*dc.Event, error) {
	ev := &dc.Event{
		GUID: f.GUID, EntityGUID: f.EntityGUID, Type: f.Type, Data: f.Data,
		UserID: user, SyncLevel: dc.Local,
	}
	if ev.GUID == "" {
		ev.GUID = c.newGUID()
	}
	if ev.EntityGUID == "" && c.applier.Creates(ev.Type) {
		ev.EntityGUID = c.newGUID()
	}
	if f.Timestamp == "" {
		ev.Timestamp = dc.FormatTime(c.now())
	} else {
		t, err := dc.ParseTime(f.Timestamp)
		if err != nil {
			return nil, err
		}
		ev.Timestamp = dc.FormatTime(t)
	}
	if err := c.applier.Prepare(ev, c.newGUID); err != nil {
		return nil, err
	}
	return ev, nil
}

// tryCommit reads what the events need, applies them and commits, once.
// It returns ECONFLICT when a concurrent writer got in between.
//
// With optimistic set, entities the events create are not read first.
func (c *Client) tryCommit(ctx context.Context, evs []*dc.Event, given []string, optimistic bool, where func(int, error) error) ([]*dc.Event, []*dc.Entity, error) {
	out := make([]*dc.Event, len(evs))
	todo := evs
	if len(given) > 0 {
		stored, err := c.store.Events(ctx, given)
		if err != nil {
			return nil, nil, fmt.Errorf("submit: %w", err)
		}
		todo = todo[:0:0]
		for i, ev := range evs {
			s, ok := stored[ev.GUID]
			switch {
			case !ok:
				todo = append(todo, ev)
			case s.Type == ev.Type && s.EntityGUID == ev.EntityGUID && sameData(s.Data, ev.Data):
				out[i] = s
			default:
				return nil, nil, where(i, dc.Errorf(dc.EEXISTS, "event %s already exists with other content", ev.GUID))
			}
		}
		if len(todo) == 0 {
			return out, nil, nil
		}
	}
	ents := newStoreEntities(ctx, c.store)
	if optimistic {
		// Entities the batch creates are assumed absent without a read: the
		// commit adds them, and fails with ECONFLICT if one exists after all,
		// so the next attempt reads them.
		for _, ev := range todo {
			for _, g := range c.applier.NewGUIDs(ev) {
				ents.Assume(g, nil)
			}
		}
	}
	var refs []string
	for _, ev := range todo {
		refs = append(refs, core.Refs(ev)...)
	}
	if err := ents.Load(refs); err != nil {
		return nil, nil, fmt.Errorf("submit: %w", err)
	}
	w := core.NewWorking(ents)
	b := &dc.Batch{NewEvents: make([]*dc.Event, 0, len(todo))}
	if err := c.origin.stamp(ctx, c, todo); err != nil {
		return nil, nil, err
	}
	for _, ev := range todo {
		cp := *ev // events are immutable once prepared: a shallow copy suffices
		ev = &cp
		cur, err := w.Peek(ev.EntityGUID)
		if err != nil {
			return nil, nil, fmt.Errorf("submit: %w", err)
		}
		ev.BaseVersion = 0
		if cur != nil {
			ev.BaseVersion = cur.Version
		}
		audit, err := c.applier.Apply(w, ev)
		if err != nil {
			return nil, nil, where(indexOf(evs, ev.GUID), err)
		}
		b.NewEvents = append(b.NewEvents, ev)
		b.Audit = append(b.Audit, audit...)
	}
	touchedBy := map[string][]string{} // entity -> events that changed it, in order
	for _, a := range b.Audit {
		if t := touchedBy[a.EntityGUID]; len(t) == 0 || t[len(t)-1] != a.EventGUID {
			touchedBy[a.EntityGUID] = append(t, a.EventGUID)
		}
	}
	changes := w.Changes()
	changed := make([]*dc.Entity, 0, len(changes))
	for _, ch := range changes {
		prev := ents.Peek(ch.After.GUID)
		rec := &dc.EntityRecord{GUID: ch.After.GUID, Current: ch.After}
		var rev int64
		if prev != nil {
			rec.Confirmed, rev = prev.Confirmed, prev.Rev
			rec.Pending = append(rec.Pending, prev.Pending...)
		}
		rec.Pending = append(rec.Pending, touchedBy[ch.After.GUID]...)
		b.Entities = append(b.Entities, dc.EntityWrite{Record: rec, ExpectRev: rev})
		changed = append(changed, ch.After)
	}
	if err := c.commit(ctx, b); err != nil {
		return nil, nil, fmt.Errorf("submit: %w", err)
	}
	j := 0
	for i := range out {
		if out[i] == nil {
			out[i] = b.NewEvents[j]
			j++
		}
	}
	return out, changed, nil
}

func indexOf(evs []*dc.Event, guid string) int {
	for i, e := range evs {
		if e.GUID == guid {
			return i
		}
	}
	return -1
}

func sameData(a, b map[string]any) bool {
	na, err1 := dc.NormalizeMap(a)
	nb, err2 := dc.NormalizeMap(b)
	return err1 == nil && err2 == nil && dc.EqualValues(na, nb)
}

// storeEntities reads entity records from the store for the core's Working
// set and remembers them (with their revisions) for the commit.
type storeEntities struct {
	*core.Cache[*dc.EntityRecord]
}

func newStoreEntities(ctx context.Context, s dc.Store) storeEntities {
	return storeEntities{core.NewCache(func(guids []string) (map[string]*dc.EntityRecord, error) {
		return s.Entities(ctx, guids)
	})}
}

// Entity implements core.Entities.
func (s storeEntities) Entity(guid string) (*dc.Entity, error) {
	r, err := s.Get(guid)
	if r == nil || err != nil {
		return nil, err
	}
	return r.Current, nil
}
