package syncjs

import (
	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// formsFromJSON decodes a form (single) or an array of forms from JSON
// text, strictly: unknown fields and wrong types are EINVALID.
func formsFromJSON(b []byte, single bool) ([]client.Form, error) {
	v, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	if single {
		f, err := formFromValue(v, "form")
		if err != nil {
			return nil, err
		}
		return []client.Form{f}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, dc.Errorf(dc.EINVALID, "forms must be an array")
	}
	out := make([]client.Form, len(list))
	for i, e := range list {
		f, err := formFromValue(e, "forms["+itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func formFromValue(v any, where string) (client.Form, error) {
	var f client.Form
	m, ok := v.(map[string]any)
	if !ok {
		return f, dc.Errorf(dc.EINVALID, "%s must be an object", where)
	}
	str := func(k string, dst *string) error {
		switch x := m[k].(type) {
		case nil:
			return nil
		case string:
			*dst = x
			return nil
		default:
			return dc.Errorf(dc.EINVALID, "%s.%s must be a string", where, k)
		}
	}
	for k, val := range m {
		var err error
		switch k {
		case "type":
			err = str(k, &f.Type)
		case "entityGuid":
			err = str(k, &f.EntityGUID)
		case "guid":
			err = str(k, &f.GUID)
		case "timestamp":
			err = str(k, &f.Timestamp)
		case "data":
			switch d := val.(type) {
			case nil:
			case map[string]any:
				f.Data = d
			default:
				err = dc.Errorf(dc.EINVALID, "%s.data must be an object", where)
			}
		default:
			err = dc.Errorf(dc.EINVALID, "%s has an unknown field %q", where, k)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}
