package client

import (
	"context"
	"fmt"
	"sync"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// hlcKey is the metadata key of the device's hybrid logical clock.
const hlcKey = "clock.hlc"

// origin stamps the events a device records with what conflict resolution
// needs: the device, its pull cursor (what it had seen), a hybrid logical
// clock stamp, and the app's conflict strategy.
type origin struct {
	mu        sync.Mutex
	loaded    bool
	device    string
	cursor    int64
	hlc       core.HLC
	strategy  string
	resolvers map[string]string
}

// SetConflictStrategy sets the strategy ("merge", "lww" or "manual") and the
// per-field resolvers of the merge strategy ("lww", "max", "min", "union")
// recorded on the events this client records from now on. Every replica
// resolves an event's conflicts by the event's own strategy.
func (c *Client) SetConflictStrategy(strategy string, resolvers map[string]string) error {
	switch strategy {
	case "", dc.StrategyMerge, dc.StrategyLWW, dc.StrategyManual:
	default:
		return dc.Errorf(dc.EINVALID, "conflict strategy %q is not merge, lww or manual", strategy)
	}
	for f, r := range resolvers {
		switch r {
		case "lww", "max", "min", "union":
		default:
			return dc.Errorf(dc.EINVALID, "resolver %q of field %s is not lww, max, min or union", r, f)
		}
	}
	c.origin.mu.Lock()
	defer c.origin.mu.Unlock()
	c.origin.strategy, c.origin.resolvers = strategy, resolvers
	return nil
}

// load reads the device id, cursor and clock once.
func (o *origin) load(ctx context.Context, c *Client) error {
	if o.loaded {
		return nil
	}
	device, err := c.DeviceID(ctx)
	if err != nil {
		return err
	}
	cursor, err := c.Cursor(ctx)
	if err != nil {
		return err
	}
	v, ok, err := c.store.Meta(ctx, hlcKey)
	if err != nil {
		return err
	}
	if ok {
		o.hlc.Observe(string(v))
	}
	o.device, o.cursor, o.loaded = device, cursor, true
	return nil
}

// stamp stamps new events.
func (o *origin) stamp(ctx context.Context, c *Client, evs []*dc.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(ctx, c); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	ms := c.now().UnixMilli()
	for _, ev := range evs {
		ev.Device, ev.BaseSeq, ev.HLC, ev.Strategy = o.device, o.cursor, o.hlc.Now(ms), o.strategy
		if o.strategy != dc.StrategyLWW {
			for k := range ev.Data {
				if r, ok := o.resolvers[k]; ok && r != "lww" {
					if ev.Resolvers == nil {
						ev.Resolvers = map[string]string{}
					}
					ev.Resolvers[k] = r
				}
			}
		}
	}
	return nil
}

// saveClock adds the clock to a batch. The clock is saved with each sync
// (not with each form, which would cost every capture a metadata write): a
// device whose clock was set back after a restart may stamp a few events
// lower than its own earlier ones, which only matters against concurrent
// events of other devices, and those are bounded by the server.
func (o *origin) saveClock(b *dc.Batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if last := o.hlc.Last(); o.loaded && last != "" {
		if b.Meta == nil {
			b.Meta = map[string][]byte{}
		}
		b.Meta[hlcKey] = []byte(last)
	}
}

// pulled records a pull page applied: the new cursor, and the clocks seen.
func (o *origin) pulled(page *dc.PullResponse) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.loaded {
		return // load reads both from the store
	}
	o.cursor = max(o.cursor, page.NextCursor)
	for _, ev := range page.Events {
		o.hlc.Observe(ev.HLC)
	}
}
