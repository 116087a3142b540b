//go:build !js

package standin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(DatetimeFormat, s)
	require.NoError(t, err)
	return tm
}

func jsonDecode(resp *http.Response, v any) error {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func TestDomains(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	household := c.idOf(GroupKind, "name", "Household")
	nid := c.idOf(IDType, "name", "National ID")
	amina := c.create(Partner, map[string]any{"name": "Amina", "gender": "Female", "birthdate": "1990-01-01", "is_registrant": true,
		"reg_ids": []any{[]any{0, 0, map[string]any{"id_type": nid, "value": "A-1"}}}})
	juma := c.create(Partner, map[string]any{"name": "Juma", "gender": "Male", "birthdate": "1985-06-30", "is_registrant": true, "phone": "+2547"})
	baraka := c.create(Partner, map[string]any{"name": "baraka", "is_registrant": true})
	hh := c.create(Partner, map[string]any{"name": "Household Juma", "is_group": true, "is_registrant": true, "kind": household})
	c.create(Partner, map[string]any{"name": "Not a registrant"})

	q := func(domain ...any) []int {
		t.Helper()
		return ids(c.searchRead(Partner, domain, map[string]any{"fields": []any{"id"}, "order": "id asc"}))
	}
	assert.Equal(t, []int{amina, juma, baraka, hh}, q([]any{"is_registrant", "=", true}))
	assert.Equal(t, []int{amina, juma}, q("|", []any{"gender", "=", "Female"}, []any{"gender", "=", "Male"}))
	assert.Equal(t, []int{juma}, q("&", []any{"is_registrant", "=", true}, []any{"phone", "!=", false}))
	assert.Equal(t, []int{juma}, q([]any{"is_registrant", "=", true}, []any{"phone", "!=", false}), "implicit &")
	assert.Equal(t, []int{baraka, hh}, q([]any{"is_registrant", "=", true}, "!", []any{"gender", "!=", false}))
	assert.Equal(t, []int{amina, juma}, q([]any{"gender", "in", []any{"Male", "Female"}}))
	assert.Equal(t, []int{baraka, hh}, q([]any{"is_registrant", "=", true}, []any{"gender", "not in", []any{"Male", "Female"}}), "not in matches NULL")
	assert.Equal(t, []int{juma, hh}, q([]any{"name", "ilike", "JUMA"}))
	assert.Equal(t, []int{juma}, q([]any{"name", "like", "Juma"}, []any{"is_group", "=", false}))
	assert.Equal(t, []int{baraka}, q([]any{"name", "=like", "b%"}))
	assert.Equal(t, []int{baraka}, q([]any{"name", "=ilike", "BARAK_"}))
	assert.Equal(t, []int{juma}, q([]any{"birthdate", "<", "1990-01-01"}))
	assert.Equal(t, []int{amina, juma}, q([]any{"birthdate", "<=", "1990-01-01"}))
	assert.Equal(t, []int{amina}, q([]any{"birthdate", ">", "1989-12-31"}))
	assert.Equal(t, []int{amina}, q([]any{"birthdate", ">=", "1990-01-01"}))
	assert.Equal(t, []int{hh}, q([]any{"kind", "=", household}))
	assert.Equal(t, []int{hh}, q([]any{"kind.name", "=", "Household"}))
	assert.Equal(t, []int{hh}, q([]any{"kind", "=", "Household"}), "a string compares display names")
	assert.Equal(t, []int{amina}, q([]any{"reg_ids.value", "=", "A-1"}))
	assert.Equal(t, []int{amina}, q([]any{"reg_ids", "!=", false}))
	assert.Equal(t, []int{amina, juma}, q("|", "&", []any{"gender", "=", "Female"}, []any{"is_registrant", "=", true}, []any{"phone", "=", "+2547"}))
	assert.Equal(t, []int{amina, juma, baraka, hh}, q("!", []any{"name", "=", "Not a registrant"}))
	assert.Equal(t, []int{amina}, q([]any{"id", "in", []any{amina, 99999}}))

	_, err := c.execErr(Partner, "search", []any{[]any{"|", []any{"name", "=", "x"}}}, nil)
	require.NotNil(t, err, "'|' lacks an operand")
	assert.Equal(t, ErrValue, err.Data.Name)
	_, err = c.execErr(Partner, "search", []any{[]any{[]any{"name", "~", "x"}}}, nil)
	require.NotNil(t, err)

	// Orders, limits, offsets; the default order is name asc, id desc.
	assert.Equal(t, []any{amina, hh, juma, baraka}, c.exec(Partner, "search", []any{[]any{[]any{"is_registrant", "=", true}}}, nil))
	assert.Equal(t, []any{amina, hh, juma, baraka}, c.exec(Partner, "search", []any{[]any{[]any{"is_registrant", "=", true}}}, map[string]any{"order": "name asc"}),
		"uppercase sorts before lowercase (C collation)")
	assert.Equal(t, []any{baraka, juma}, c.exec(Partner, "search", []any{[]any{[]any{"is_registrant", "=", true}}}, map[string]any{"order": "name desc", "limit": 2}))
	assert.Equal(t, []any{hh, amina}, c.exec(Partner, "search", []any{[]any{[]any{"is_registrant", "=", true}}}, map[string]any{"order": "birthdate desc, id asc", "offset": 1, "limit": 2}),
		"NULLs first descending")
	assert.Equal(t, []any{juma, amina}, c.exec(Partner, "search", []any{[]any{[]any{"is_registrant", "=", true}}, 2, 5, "id desc"}, nil), "positional offset, limit, order")
	_, err = c.execErr(Partner, "search", []any{[]any{}}, map[string]any{"order": "nope asc"})
	require.NotNil(t, err)
	_, err = c.execErr(Partner, "search", []any{[]any{}}, map[string]any{"order": "id sideways"})
	require.NotNil(t, err)
	assert.Equal(t, 4, c.exec(Partner, "search_count", []any{[]any{[]any{"is_registrant", "=", true}}}, nil))
}

// TestKeysetPaging pages 2,000 records sharing few write_dates with the
// keyset domain an adapter uses, and sees every record exactly once.
func TestKeysetPaging(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	s.Freeze(mustTime(t, "2024-03-01 08:00:00"))
	const total = 2000
	for i := 0; i < total; i += 100 {
		batch := make([]any, 100)
		for j := range batch {
			batch[j] = map[string]any{"name": fmt.Sprintf("P%04d", i+j), "is_registrant": true}
		}
		c.exec(Partner, "create", []any{batch}, nil)
		if i%300 == 0 { // 8 distinct write_dates, up to 300 records each
			s.Advance(time.Second)
		}
	}
	dates := map[any]int{}
	for _, r := range c.searchRead(Partner, []any{}, map[string]any{"fields": []any{"write_date"}}) {
		dates[r["write_date"]]++
	}
	assert.Len(t, dates, 8)

	page := func(since string, last int) []map[string]any {
		domain := []any{}
		if since != "" {
			domain = []any{"|", []any{"write_date", ">", since}, "&", []any{"write_date", "=", since}, []any{"id", ">", last}}
		}
		return c.searchRead(Partner, domain, map[string]any{"fields": []any{"write_date", "name"}, "order": "write_date asc, id asc", "limit": 100})
	}
	seen := map[int]int{}
	since, last, pages := "", 0, 0
	for {
		rows := page(since, last)
		if len(rows) == 0 {
			break
		}
		pages++
		require.LessOrEqual(t, len(rows), 100)
		for _, r := range rows {
			seen[r["id"].(int)]++
		}
		end := rows[len(rows)-1]
		since, last = end["write_date"].(string), end["id"].(int)
	}
	assert.Len(t, seen, total)
	for id, n := range seen {
		require.Equal(t, 1, n, "record %d seen %d times", id, n)
	}
	assert.Equal(t, total/100, pages)

	// Changes after the cursor come back, and only they.
	s.Advance(time.Second)
	changed := []any{seen0(seen), last}
	c.exec(Partner, "write", []any{changed, map[string]any{"phone": "1"}}, nil)
	rows := page(since, last)
	assert.ElementsMatch(t, changed, anyIDs(rows))
}

func seen0(seen map[int]int) int {
	lowest := 0
	for id := range seen {
		if lowest == 0 || id < lowest {
			lowest = id
		}
	}
	return lowest
}

func anyIDs(rows []map[string]any) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r["id"]
	}
	return out
}
