package standin

import (
	"regexp"
	"slices"
)

// validate runs the models' constraints over the records the transaction
// touched, as Odoo runs them before commit.
func (t *tx) validate() *Error {
	e := t.e
	for _, name := range sortedKeys(e.models) {
		m := e.models[name]
		for _, id := range t.touched(name) {
			r := e.tables[name].recs[id]
			for _, fn := range m.fieldNames() {
				f := m.fields[fn]
				if f.required && !isSet(r[fn]) {
					return newErr(ErrValidation, "The operation cannot be completed: Missing required value for the field '%s' (%s).\nModel: %s (%s)",
						f.label, f.name, m.description, m.name)
				}
			}
		}
	}
	for _, id := range t.touched(Partner) {
		if !isSet(e.tables[Partner].recs[id]["name"]) {
			return newErr(ErrValidation, "The operation cannot be completed: Contacts require a name")
		}
	}
	groups := map[int]bool{}
	for _, id := range t.touched(Membership) {
		g, _ := e.tables[Membership].recs[id]["group"].(int)
		groups[g] = true
	}
	for _, g := range sortedKeys(groups) {
		if err := e.checkGroup(g); err != nil {
			return err
		}
	}
	partners := map[int]bool{}
	for _, id := range t.touched(RegID) {
		p, _ := e.tables[RegID].recs[id]["partner_id"].(int)
		partners[p] = true
	}
	for _, p := range sortedKeys(partners) {
		if err := e.checkRegIDs(p); err != nil {
			return err
		}
	}
	return nil
}

// checkGroup enforces: an individual is a member of a group once, and a
// unique membership kind (Head) appears once per group.
func (e *engine) checkGroup(group int) *Error {
	tb := e.tables[Membership]
	seen := map[int]bool{}
	kinds := map[int]int{}
	for _, id := range tb.ids {
		r := tb.recs[id]
		if g, _ := r["group"].(int); g != group {
			continue
		}
		ind, _ := r["individual"].(int)
		if seen[ind] {
			return newErr(ErrValidation, "Duplicate Members: %s is already a member of %s",
				e.displayName(e.models[Partner], ind), e.displayName(e.models[Partner], group))
		}
		seen[ind] = true
		ks, _ := r["kind"].([]int)
		for _, k := range ks {
			kinds[k]++
		}
	}
	kt := e.tables[MembershipKind]
	for _, k := range sortedKeys(kinds) {
		if kinds[k] > 1 && kt.recs[k]["is_unique"] == true {
			return newErr(ErrValidation, "Only one %s is allowed per group", e.displayName(e.models[MembershipKind], k))
		}
	}
	return nil
}

// checkRegIDs enforces one ID of each type per registrant and the types'
// validation expressions.
func (e *engine) checkRegIDs(partner int) *Error {
	tb := e.tables[RegID]
	types := map[int]bool{}
	for _, id := range tb.ids {
		r := tb.recs[id]
		if p, _ := r["partner_id"].(int); p != partner {
			continue
		}
		typ, _ := r["id_type"].(int)
		if types[typ] {
			return newErr(ErrValidation, "ID Type must be unique. %s already has a %s.",
				e.displayName(e.models[Partner], partner), e.displayName(e.models[IDType], typ))
		}
		types[typ] = true
		if expr, _ := e.tables[IDType].recs[typ]["id_validation"].(string); expr != "" {
			re, err := regexp.Compile(expr)
			value, _ := r["value"].(string)
			if err == nil && !re.MatchString(value) {
				return newErr(ErrValidation, "The ID Number %s for %s is invalid.", pyRepr(value), e.displayName(e.models[IDType], typ))
			}
		}
	}
	return nil
}

func isSet(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	}
	return true
}

func sortedKeys[K int | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
