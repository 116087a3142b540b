package openspp

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/datacollect/datacollect/external"
)

// Pull returns the registrants changed after cursor, ordered by
// (write_date, id), with keyset paging: the cursor is the last record's
// "write_date|id", so records sharing a write_date (Odoo stamps to the
// second) are each returned exactly once. Groups carry their current
// members (memberships not ended); the national ID comes from the
// registrant's IDs. More is true when the page is full.
//
// Records this adapter pushed come back too (with their GUID set): the
// caller should treat a record equal to its entity as an echo. A
// membership edited directly in OpenSPP (not through its group) does not
// change the group's write_date and is seen at the group's next change.
func (a *Adapter) Pull(ctx context.Context, cursor string, limit int) (*external.PullPage, error) {
	r, err := a.ready(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = a.pageSize
	}
	domain := []any{[]any{"is_registrant", "=", true}}
	if cursor != "" {
		t, last, err := parseCursor(cursor)
		if err != nil {
			return nil, err
		}
		domain = append(domain, "|", []any{"write_date", ">", t}, "&", []any{"write_date", "=", t}, []any{"id", ">", last})
	}
	rows, err := a.c.searchRead(ctx, partnerModel, domain, a.pullFields(), "write_date asc, id asc", limit)
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	if err := a.addRelated(ctx, rows, r); err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	page := &external.PullPage{Records: make([]*external.Record, 0, len(rows)), Next: cursor, More: len(rows) == limit}
	for _, row := range rows {
		rec, err := a.MapFromExternal(row)
		if err != nil {
			return nil, err
		}
		page.Records = append(page.Records, rec)
	}
	if n := len(rows); n > 0 {
		id, _ := rows[n-1]["id"].(int)
		page.Next = str(rows[n-1]["write_date"]) + "|" + strconv.Itoa(id)
	}
	return page, nil
}

func parseCursor(c string) (string, int, error) {
	t, idStr, ok := strings.Cut(c, "|")
	id, err := strconv.Atoi(idStr)
	if !ok || err != nil || id < 0 {
		return "", 0, external.Errorf(external.ECONFIG, "openspp: bad cursor %q", c)
	}
	if _, err := time.Parse(odooDatetime, t); err != nil {
		return "", 0, external.Errorf(external.ECONFIG, "openspp: bad cursor %q", c)
	}
	return t, id, nil
}

// pullFields lists the res.partner fields Pull reads.
func (a *Adapter) pullFields() []string {
	set := map[string]bool{"id": true, "is_group": true, "write_date": true, a.guidField: true,
		"group_membership_ids": true, "reg_ids": true}
	for _, f := range a.fields {
		set[f] = true
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// addRelated reads the page's memberships and IDs (one call each) and adds
// them to the rows under KeyMemberIDs and KeyRegIDs.
func (a *Adapter) addRelated(ctx context.Context, rows []map[string]any, r *refs) error {
	var mids, rids []int
	for _, row := range rows {
		if row["is_group"] == true {
			mids = append(mids, intList(row["group_membership_ids"])...)
		}
		rids = append(rids, intList(row["reg_ids"])...)
	}
	members := map[int][]int{}
	if len(mids) > 0 {
		ms, err := a.c.read(ctx, membershipModel, mids, []string{"group", "individual", "is_ended"})
		if err != nil {
			return fmt.Errorf("read memberships: %w", err)
		}
		for _, m := range ms {
			if m["is_ended"] == true {
				continue
			}
			g := many2oneID(m["group"])
			members[g] = append(members[g], many2oneID(m["individual"]))
		}
	}
	ids := map[int]map[string]string{}
	if len(rids) > 0 {
		rs, err := a.c.read(ctx, regIDModel, rids, []string{"partner_id", "id_type", "value"})
		if err != nil {
			return fmt.Errorf("read IDs: %w", err)
		}
		for _, x := range rs {
			p := many2oneID(x["partner_id"])
			name := r.idTypes[many2oneID(x["id_type"])]
			if l, ok := x["id_type"].([]any); ok && len(l) == 2 {
				name = str(l[1])
			}
			if ids[p] == nil {
				ids[p] = map[string]string{}
			}
			ids[p][name] = str(x["value"])
		}
	}
	for _, row := range rows {
		id, _ := row["id"].(int)
		if row["is_group"] == true {
			m := members[id]
			if m == nil {
				m = []int{}
			}
			row[KeyMemberIDs] = m
		}
		if v := ids[id]; v != nil {
			row[KeyRegIDs] = v
		}
	}
	return nil
}
