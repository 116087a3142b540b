package client

import (
	"context"
	"fmt"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// rebaseRefused recomputes the entities of events the server refused: a
// refused event no longer counts, so each entity it touched becomes its
// confirmed state with the other pending events replayed on top, in one
// commit (retried if another tab wrote meanwhile). The refused events stay
// stored and visible with their Failure until retried.
func (c *Client) rebaseRefused(ctx context.Context, refused []*dc.Event) error {
	seen := map[string]bool{}
	var guids []string
	for _, ev := range refused {
		for _, g := range append(core.Refs(ev), c.applier.NewGUIDs(ev)...) {
			if !seen[g] {
				seen[g] = true
				guids = append(guids, g)
			}
		}
	}
	if len(guids) == 0 {
		return nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for attempt := 1; ; attempt++ {
		changed, err := c.tryRebase(ctx, guids)
		if err == nil {
			c.notify(Change{Entities: changed})
			return nil
		}
		if dc.ErrorCode(err) != dc.ECONFLICT || attempt == maxAttempts {
			return fmt.Errorf("rebase after refusal: %w", err)
		}
		if err := c.pause(ctx, attempt); err != nil {
			return err
		}
	}
}

func (c *Client) tryRebase(ctx context.Context, guids []string) ([]*dc.Entity, error) {
	plan, err := c.applier.PlanRebase(storeSource{ctx: ctx, store: c.store}, guids)
	if err != nil {
		return nil, err
	}
	b := &dc.Batch{Entities: plan.Records}
	markFailed(b, plan.Failed, "no longer applies: ")
	if b.Empty() {
		return nil, nil
	}
	if err := c.commit(ctx, b); err != nil {
		return nil, err
	}
	return changedOf(plan.Records), nil
}

// changedOf returns the new states of the records written (deleted ones
// have none).
func changedOf(records []dc.EntityWrite) []*dc.Entity {
	changed := make([]*dc.Entity, 0, len(records))
	for _, w := range records {
		if w.Record.Current != nil {
			changed = append(changed, w.Record.Current)
		}
	}
	return changed
}

// markFailed adds to b the failed events that were not failed yet, with
// why and the reason they no longer apply, and returns how many.
func markFailed(b *dc.Batch, failed []core.FailedEvent, why string) int {
	n := 0
	for _, f := range failed {
		if f.Event.Failure != nil {
			continue // already failed: its first reason stays
		}
		ev := f.Event.Clone()
		ev.Failure = &dc.Failure{Code: dc.ErrorCode(f.Err), Message: why + dc.ErrorMessage(f.Err)}
		b.UpdatedEvents = append(b.UpdatedEvents, ev)
		n++
	}
	return n
}
