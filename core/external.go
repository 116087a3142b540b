package core

import (
	dc "github.com/datacollect/datacollect"
)

// LinkExternal is the event type that records an entity's id in an
// external registry (OpenSPP, ...). Only the server writes it, after the
// external system acknowledged the entity, with data
// {"adapter": name, "externalId": id}; devices receive it through the
// normal pull and learn the id the same way.
const LinkExternal = "link-external"

// linkExternalType sets the entity's ExternalID; the applier then makes
// the entity EXTERNAL once the event is no longer LOCAL (see
// EventType.Level). Applying the same link again changes nothing: an
// entity that already holds the id and is EXTERNAL stays as it is (no new
// version, no audit entry). A deleted entity may be linked too (its
// tombstone was delivered).
var linkExternalType = EventType{Apply: applyLinkExternal, Level: dc.External}

func applyLinkExternal(w *Working, ev *dc.Event) error {
	id, ok := ev.Data["externalId"].(string)
	if !ok || id == "" {
		return invalid(ev, "data.externalId must be a non-empty string")
	}
	if a, present := ev.Data["adapter"]; present {
		if s, ok := a.(string); !ok || s == "" {
			return invalid(ev, "data.adapter must be a non-empty string")
		}
	}
	e, err := w.Get(ev.EntityGUID)
	if err != nil {
		return err
	}
	if e == nil {
		return dc.Errorf(dc.ENOTFOUND, "%s %s: entity %s does not exist", ev.Type, ev.GUID, ev.EntityGUID)
	}
	if e.ExternalID == id && (e.SyncLevel == dc.External || ev.SyncLevel == dc.Local) {
		return nil // already linked: idempotent
	}
	e.ExternalID = id
	return w.Put(e)
}
