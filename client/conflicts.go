package client

import (
	"context"
	"fmt"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// ConflictView is an open conflict of the manual strategy as this device
// shows it: its own side is "local", the other device's "remote". Until it
// is resolved the field holds the last-writer-wins value, the same on every
// replica.
type ConflictView struct {
	ID          string `json:"id"`
	EntityGUID  string `json:"entityGuid"`
	Field       string `json:"field"`
	LocalValue  any    `json:"localValue"`
	RemoteValue any    `json:"remoteValue"`
	LocalEvent  string `json:"localEvent"`
	RemoteEvent string `json:"remoteEvent"`
	// Value is the field's value now.
	Value any `json:"value"`
}

// Resolution answers a conflict: keep the "local" or the "remote" value,
// or ("manual") Value.
type Resolution struct {
	Strategy string `json:"strategy"`
	Value    any    `json:"value"`
}

// Conflicts returns the open conflicts of the device's entities, found
// through the store's index of conflicted entities.
func (c *Client) Conflicts(ctx context.Context) ([]ConflictView, error) {
	recs, err := c.conflicted(ctx)
	if err != nil {
		return nil, err
	}
	device, err := c.DeviceID(ctx)
	if err != nil {
		return nil, err
	}
	out := []ConflictView{}
	for _, r := range recs {
		if r.Current == nil {
			continue
		}
		for _, x := range r.Current.Conflicts {
			out = append(out, viewConflict(r.Current, x, device))
		}
	}
	return out, nil
}

// conflicted returns the records with open conflicts, through the index.
func (c *Client) conflicted(ctx context.Context) ([]*dc.EntityRecord, error) {
	recs, err := c.store.ListEntities(ctx, dc.EntityQuery{Conflicted: true})
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	return recs, nil
}

// openConflicts counts the open conflicts (status reads it after every
// change: no device lookup, no views).
func (c *Client) openConflicts(ctx context.Context) (int, error) {
	recs, err := c.conflicted(ctx)
	n := 0
	for _, r := range recs {
		if r.Current != nil {
			n += len(r.Current.Conflicts)
		}
	}
	return n, err
}

func viewConflict(e *dc.Entity, x dc.Conflict, device string) ConflictView {
	local, remote := x.Current, x.Incoming
	if x.Incoming.Device == device {
		local, remote = x.Incoming, x.Current
	}
	v := any(nil)
	if x.Field == "deleted" {
		v = e.Deleted
	} else if e.Data != nil {
		v = e.Data[x.Field]
	}
	return ConflictView{ID: x.ID, EntityGUID: e.GUID, Field: x.Field, LocalValue: local.Value, RemoteValue: remote.Value,
		LocalEvent: local.Event, RemoteEvent: remote.Event, Value: v}
}

// ResolveConflict records a resolve-conflict event settling the open
// conflict id with r; it syncs like any event, so every device applies it.
// ENOTFOUND if the conflict is not open (any more).
func (c *Client) ResolveConflict(ctx context.Context, id string, r Resolution) (*dc.Event, error) {
	open, err := c.Conflicts(ctx)
	if err != nil {
		return nil, err
	}
	var view *ConflictView
	for i := range open {
		if open[i].ID == id {
			view = &open[i]
		}
	}
	if view == nil {
		return nil, dc.Errorf(dc.ENOTFOUND, "no open conflict %s", id)
	}
	var value any
	switch r.Strategy {
	case "local":
		value = view.LocalValue
	case "remote":
		value = view.RemoteValue
	case "manual":
		value = r.Value
	default:
		return nil, dc.Errorf(dc.EINVALID, "a resolution's strategy is local, remote or manual, not %q", r.Strategy)
	}
	return c.SubmitForm(ctx, Form{Type: core.ResolveConflict, EntityGUID: view.EntityGUID,
		Data: map[string]any{"conflictId": id, "value": value}})
}
