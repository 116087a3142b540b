package syncjs

import dc "github.com/datacollect/datacollect"

// These views give, through encoding/json, the JS shape of events and
// entities (data always an object, groups always with a memberIds array,
// individuals none): the reference that jsonwrite.go's output is tested
// against.

type entityView struct {
	*dc.Entity
	Data      map[string]any `json:"data"`
	MemberIDs *[]string      `json:"memberIds,omitempty"`
}

func viewEntity(e *dc.Entity) any {
	if e == nil {
		return nil
	}
	v := entityView{Entity: e, Data: e.Data}
	if v.Data == nil {
		v.Data = map[string]any{}
	}
	if e.Type == dc.Group {
		m := e.MemberIDs
		if m == nil {
			m = []string{}
		}
		v.MemberIDs = &m
	}
	return v
}

func viewEntities(es []*dc.Entity) any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = viewEntity(e)
	}
	return out
}

type eventView struct {
	*dc.Event
	Data map[string]any `json:"data"`
}

func viewEvent(e *dc.Event) any {
	v := eventView{Event: e, Data: e.Data}
	if v.Data == nil {
		v.Data = map[string]any{}
	}
	return v
}

func viewEvents(es []*dc.Event) any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = viewEvent(e)
	}
	return out
}
