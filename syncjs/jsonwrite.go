package syncjs

import (
	"math"
	"strconv"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/jsonx"
)

// Events and entities, which the API returns by the thousand, are encoded by
// hand: encoding/json's reflection is several times slower in WebAssembly.
// The JS shape: data is always an object, groups always have a memberIds
// array, individuals none (jsonwrite_test.go checks it against
// encoding/json's encoding of the same shape).

// appendJSONList writes xs as a JSON array, each with appendOne.
func appendJSONList[T any](b []byte, xs []T, appendOne func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, x)
	}
	return append(b, ']')
}

func appendEventsJSON(b []byte, evs []*dc.Event) []byte {
	return appendJSONList(b, evs, appendEventJSON)
}

func appendEventJSON(b []byte, e *dc.Event) []byte {
	b = append(b, `{"guid":`...)
	b = jsonx.AppendString(b, e.GUID)
	b = append(b, `,"entityGuid":`...)
	b = jsonx.AppendString(b, e.EntityGUID)
	b = append(b, `,"type":`...)
	b = jsonx.AppendString(b, e.Type)
	b = append(b, `,"data":`...)
	b = appendJSONMap(b, e.Data, true)
	b = append(b, `,"timestamp":`...)
	b = jsonx.AppendString(b, e.Timestamp)
	b = append(b, `,"userId":`...)
	b = jsonx.AppendString(b, e.UserID)
	b = append(b, `,"syncLevel":`...)
	b = jsonx.AppendString(b, string(e.SyncLevel))
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, e.Seq, 10)
	}
	b = append(b, `,"baseVersion":`...)
	b = strconv.AppendInt(b, e.BaseVersion, 10)
	if e.Failure != nil {
		b = append(b, `,"failure":{"code":`...)
		b = jsonx.AppendString(b, e.Failure.Code)
		b = append(b, `,"message":`...)
		b = jsonx.AppendString(b, e.Failure.Message)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendEntitiesJSON(b []byte, es []*dc.Entity) []byte {
	return appendJSONList(b, es, appendEntityJSON)
}

func appendEntityJSON(b []byte, e *dc.Entity) []byte {
	b = append(b, `{"guid":`...)
	b = jsonx.AppendString(b, e.GUID)
	b = append(b, `,"type":`...)
	b = jsonx.AppendString(b, string(e.Type))
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, e.Version, 10)
	b = append(b, `,"data":`...)
	b = appendJSONMap(b, e.Data, true)
	if e.Type == dc.Group {
		b = append(b, `,"memberIds":[`...)
		for i, m := range e.MemberIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, m)
		}
		b = append(b, ']')
	}
	if e.ExternalID != "" {
		b = append(b, `,"externalId":`...)
		b = jsonx.AppendString(b, e.ExternalID)
	}
	b = append(b, `,"lastUpdated":`...)
	b = jsonx.AppendString(b, e.LastUpdated)
	b = append(b, `,"syncLevel":`...)
	b = jsonx.AppendString(b, string(e.SyncLevel))
	if e.Deleted {
		b = append(b, `,"deleted":true`...)
	}
	return append(b, '}')
}

// appendJSONMap writes m (nil as {} when emptyObject, else null). Key order
// does not matter to JSON.parse.
func appendJSONMap(b []byte, m map[string]any, emptyObject bool) []byte {
	if m == nil && !emptyObject {
		return append(b, "null"...)
	}
	b = append(b, '{')
	first := true
	for k, v := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonx.AppendString(b, k)
		b = append(b, ':')
		b = appendJSONValue(b, v)
	}
	return append(b, '}')
}

func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return jsonx.AppendString(b, x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case map[string]any:
		return appendJSONMap(b, x, false)
	case []any:
		if x == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	default:
		// Data is normalised; anything else is written as a string.
		return jsonx.AppendString(b, "unsupported value")
	}
}
