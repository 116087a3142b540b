package standin

import (
	"maps"
	"slices"
)

// rec holds one record's stored values: strings for char, text, selection,
// date and datetime fields, bool, int, int ids for many2one and sorted []int
// for many2many. An unset field has no key. One2many fields are not stored:
// they are computed from the inverse many2one, as in Odoo.
type rec map[string]any

func (r rec) clone() rec {
	c := maps.Clone(r)
	for k, v := range c {
		if ids, ok := v.([]int); ok {
			c[k] = slices.Clone(ids)
		}
	}
	return c
}

// table holds one model's records.
type table struct {
	nextID int
	recs   map[int]rec
	ids    []int // ascending
}

func (t *table) get(id int) (rec, bool) { r, ok := t.recs[id]; return r, ok }

func (t *table) insert(id int, r rec) {
	t.recs[id] = r
	if n := len(t.ids); n == 0 || t.ids[n-1] < id {
		t.ids = append(t.ids, id)
		return
	}
	i, found := slices.BinarySearch(t.ids, id)
	if !found {
		t.ids = slices.Insert(t.ids, i, id)
	}
}

func (t *table) remove(id int) {
	delete(t.recs, id)
	if i, found := slices.BinarySearch(t.ids, id); found {
		t.ids = slices.Delete(t.ids, i, i+1)
	}
}

// tkey names one record.
type tkey struct {
	model string
	id    int
}

// tx is an undo journal making one call atomic: a call that fails leaves
// no trace, as Odoo rolls back its transaction.
type tx struct {
	e       *engine
	uid     int
	saved   map[tkey]rec // nil: created inside the transaction
	order   []tkey
	nextIDs map[string]int
	now     string
}

func (e *engine) begin(uid int) *tx {
	return &tx{e: e, uid: uid, saved: map[tkey]rec{}, nextIDs: map[string]int{}, now: e.nowString()}
}

// before journals record k before its first change.
func (t *tx) before(k tkey) {
	if _, ok := t.saved[k]; ok {
		return
	}
	var old rec
	if r, ok := t.e.tables[k.model].get(k.id); ok {
		old = r.clone()
	}
	t.saved[k] = old
	t.order = append(t.order, k)
}

// newID allocates the next id of model.
func (t *tx) newID(model string) int {
	tb := t.e.tables[model]
	if _, ok := t.nextIDs[model]; !ok {
		t.nextIDs[model] = tb.nextID
	}
	id := tb.nextID
	tb.nextID++
	return id
}

func (t *tx) rollback() {
	for i := len(t.order) - 1; i >= 0; i-- {
		k := t.order[i]
		tb := t.e.tables[k.model]
		if old := t.saved[k]; old != nil {
			tb.insert(k.id, old)
		} else {
			tb.remove(k.id)
		}
	}
	for m, n := range t.nextIDs {
		t.e.tables[m].nextID = n
	}
}

// touched returns the records of model changed in the transaction that
// still exist.
func (t *tx) touched(model string) []int {
	var ids []int
	for _, k := range t.order {
		if k.model == model {
			if _, ok := t.e.tables[model].get(k.id); ok {
				ids = append(ids, k.id)
			}
		}
	}
	return ids
}

func (t *tx) changed() bool { return len(t.order) > 0 }
