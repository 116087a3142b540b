//go:build js && wasm

package syncjs

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/jsonx"
)

// DuplicatesOptions are duplicates()'s options.
type DuplicatesOptions struct {
	Limit int `json:"limit"`
}

// duplicates lists the potential duplicates: [{key, entities: [Entity]}],
// by key (see client.Client.Duplicates).
func (a *API) duplicates(args []js.Value) func() (any, error) {
	var o DuplicatesOptions
	if err := optionalFromJS(arg(args, 0), &o, "duplicates options"); err != nil {
		return failed(err)
	}
	if o.Limit < 0 {
		return failed(dc.Errorf(dc.EINVALID, "duplicates: limit must not be negative"))
	}
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		gs, err := c.Duplicates(context.Background(), o.Limit)
		if err != nil {
			return nil, err
		}
		return rawJSON(appendJSONList(nil, gs, appendDuplicateGroupJSON)), nil
	}
}

func appendDuplicateGroupJSON(b []byte, g client.DuplicateGroup) []byte {
	b = append(b, `{"key":`...)
	b = jsonx.AppendString(b, g.Key)
	b = append(b, `,"entities":`...)
	b = appendEntitiesJSON(b, g.Entities)
	return append(b, '}')
}

// setDupKeys applies init's duplicateKeys option to c: absent (nil) keeps
// the default (nationalId); each entry names an entity type ("individual"
// or "group") and its key fields, an empty list (or {}) flagging none.
// Anything else is EINVALID.
func setDupKeys(c *client.Client, keys map[string][]string) error {
	if keys == nil {
		return nil
	}
	k := make(core.DupKeys, len(keys))
	for typ, fields := range keys {
		if t := dc.EntityType(typ); t != dc.Individual && t != dc.Group {
			return dc.Errorf(dc.EINVALID, "duplicateKeys: unknown entity type %q (individual or group)", typ)
		}
		for _, f := range fields {
			if f == "" {
				return dc.Errorf(dc.EINVALID, "duplicateKeys.%s: a field name is empty", typ)
			}
		}
		k[dc.EntityType(typ)] = fields
	}
	c.SetDupKeys(k)
	return nil
}
