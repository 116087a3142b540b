package openspp

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
)

// Keys MapFromExternal reads besides res.partner fields; Pull adds them to
// each row from the related records.
const (
	// KeyMemberIDs holds a group's current members' partner ids ([]int).
	KeyMemberIDs = "__member_partner_ids"
	// KeyRegIDs holds the registrant's IDs, id type name → value
	// (map[string]string).
	KeyRegIDs = "__reg_id_values"
)

const odooDatetime = "2006-01-02 15:04:05"

// MapToExternal returns the res.partner values of e: is_registrant,
// is_group, the guid field and the mapped data fields (only those present
// in e.Data; a present nil clears the field), the gender translated to a
// gender.type value and, for groups, the kind. Memberships and IDs are not
// included (Push computes them from the remote state). Entities that
// cannot be mapped fail with EVALIDATION (no name; unknown gender; bad
// birthdate). Gender and kind need the reference data loaded by
// Authenticate (or a Push/Pull); before that it fails with ECONFIG.
func (a *Adapter) MapToExternal(e *dc.Entity) (map[string]any, error) {
	a.rmu.Lock()
	r := a.refs
	a.rmu.Unlock()
	if r == nil {
		return nil, external.Errorf(external.ECONFIG, "openspp: reference data not loaded: call Authenticate first")
	}
	return a.mapToExternal(e, r)
}

func (a *Adapter) mapToExternal(e *dc.Entity, r *refs) (map[string]any, error) {
	if e == nil {
		return nil, external.Errorf(external.EVALIDATION, "nil entity")
	}
	isGroup := e.Type == dc.Group
	vals := map[string]any{"is_registrant": true, "is_group": isGroup, a.guidField: e.GUID}
	keys := make([]string, 0, len(a.fields))
	for k := range a.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		field := a.fields[key]
		v, present := e.Data[key]
		if !present {
			continue
		}
		if v == nil || v == "" {
			vals[field] = false
			continue
		}
		switch field {
		case "gender":
			if isGroup {
				continue
			}
			s := strings.ToLower(strings.TrimSpace(fmt.Sprint(v)))
			g, ok := r.genders[s]
			if !ok {
				return nil, &external.Error{Code: external.EVALIDATION,
					Message: fmt.Sprintf("gender %q is not a gender.type value of OpenSPP", fmt.Sprint(v))}
			}
			vals[field] = g
		case "birthdate":
			d, err := odooDate(v)
			if err != nil {
				return nil, err
			}
			vals[field] = d
		default:
			switch x := v.(type) {
			case string, bool, int, int64, float64:
				vals[field] = x
			default:
				vals[field] = fmt.Sprint(x)
			}
		}
	}
	if isGroup {
		vals["kind"] = r.kindID
		for _, f := range []string{"given_name", "family_name", "addl_name", "birthdate", "gender"} {
			delete(vals, f)
		}
	}
	if name, _ := vals["name"].(string); strings.TrimSpace(name) == "" {
		var parts []string
		if !isGroup {
			for _, f := range []string{"given_name", "addl_name", "family_name"} {
				if s, _ := vals[f].(string); strings.TrimSpace(s) != "" {
					parts = append(parts, strings.TrimSpace(s))
				}
			}
		}
		if len(parts) == 0 {
			return nil, &external.Error{Code: external.EVALIDATION, Message: fmt.Sprintf("%s %s has no name", e.Type, e.GUID)}
		}
		vals["name"] = strings.Join(parts, " ")
	}
	return vals, nil
}

// odooDate formats a date value as YYYY-MM-DD: it accepts YYYY-MM-DD and
// RFC 3339 timestamps (their date, in UTC).
func odooDate(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &external.Error{Code: external.EVALIDATION, Message: fmt.Sprintf("birthdate %v is not a date", v)}
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Format(time.DateOnly), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.DateOnly), nil
	}
	return "", &external.Error{Code: external.EVALIDATION, Message: fmt.Sprintf("birthdate %q is not a date (YYYY-MM-DD)", s)}
}

// MapFromExternal maps a res.partner row (as search_read returns it,
// optionally with KeyMemberIDs and KeyRegIDs added) to a Record: mapped
// fields become data keys (unset fields are left out), the national ID
// (option id_type) becomes data[id_key], the guid field becomes GUID and
// write_date UpdatedAt.
func (a *Adapter) MapFromExternal(row map[string]any) (*external.Record, error) {
	id, ok := row["id"].(int)
	if !ok {
		if f, isF := row["id"].(float64); isF {
			id, ok = int(f), true
		}
	}
	if !ok || id <= 0 {
		return nil, external.Errorf(external.EREMOTE, "openspp: record without an id")
	}
	rec := &external.Record{ExternalID: strconv.Itoa(id), Type: dc.Individual, Data: map[string]any{}}
	if row["is_group"] == true {
		rec.Type = dc.Group
	}
	if g := str(row[a.guidField]); g != "" {
		rec.GUID = g
	}
	for key, field := range a.fields {
		v, ok := row[field]
		if !ok || v == false || v == nil {
			continue
		}
		if l, isList := v.([]any); isList && len(l) == 2 { // many2one
			v = l[1]
		}
		rec.Data[key] = v
	}
	if ids, ok := row[KeyRegIDs].(map[string]string); ok {
		for typ, val := range ids {
			if strings.EqualFold(typ, a.idType) && val != "" {
				rec.Data[a.idKey] = val
			}
		}
	}
	if members, ok := row[KeyMemberIDs].([]int); ok {
		for _, m := range members {
			rec.MemberExternalIDs = append(rec.MemberExternalIDs, strconv.Itoa(m))
		}
	}
	if wd := str(row["write_date"]); wd != "" {
		if t, err := time.Parse(odooDatetime, wd); err == nil {
			rec.UpdatedAt = dc.FormatTime(t)
		} else {
			rec.UpdatedAt = wd
		}
	}
	return rec, nil
}
