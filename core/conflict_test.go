package core_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/scenario"
)

// TestConflictScenarios runs testdata/conflicts/*.txt: events applied in the
// order of record (the server's), as every replica applies them. Commands:
//
//	apply type=T entity=E guid=G device=D hlc=SECONDS base=SEQ seq=SEQ [strategy=S] [resolvers=f:r,...]
//	      input: the event's data as JSON
//	show entity=E
//	bound hlc=SECONDS now=SECONDS   (the server's bound on a device clock)
//
// apply prints the entities the event changed (with their open conflicts)
// and the conflicts met, or the error.
func TestConflictScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/conflicts", func(t *testing.T) func(*scenario.Command) string {
		a := core.NewApplier()
		state := core.MapEntities{}
		n := 0
		num := func(c *scenario.Command, k string) int64 {
			v, _ := strconv.ParseInt(c.Arg(k, "0"), 10, 64)
			return v
		}
		return func(c *scenario.Command) string {
			switch c.Name {
			case "apply":
				n++
				ev := &dc.Event{
					GUID: c.Arg("guid", fmt.Sprintf("e%d", n)), EntityGUID: c.Arg("entity", ""), Type: c.Arg("type", core.UpdateIndividual),
					Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u", SyncLevel: dc.Synced,
					Device: c.Arg("device", ""), HLC: core.FormatHLC(num(c, "hlc")*1000, 0),
					BaseSeq: num(c, "base"), Seq: num(c, "seq"), Strategy: c.Arg("strategy", ""),
				}
				if r := c.Arg("resolvers", ""); r != "" {
					ev.Resolvers = map[string]string{}
					for _, kv := range strings.Split(r, ",") {
						k, v, _ := strings.Cut(kv, ":")
						ev.Resolvers[k] = v
					}
				}
				if c.Input != "" {
					if err := json.Unmarshal([]byte(c.Input), &ev.Data); err != nil {
						return "bad input: " + err.Error()
					}
				}
				if err := a.Prepare(ev, func() string { n++; return fmt.Sprintf("m%d", n) }); err != nil {
					return "error " + err.Error()
				}
				w := core.NewWorking(state)
				audit, err := a.Apply(w, ev)
				if err != nil {
					return "error " + err.Error()
				}
				var out []string
				for _, ch := range w.Changes() {
					state[ch.After.GUID] = ch.After
					out = append(out, showConflicts(ch.After))
				}
				if len(out) == 0 {
					out = append(out, "no change")
				}
				for _, e := range audit {
					if e.Action == core.AuditConflict {
						out = append(out, fmt.Sprintf("conflict %s %s: there %s, incoming %s, kept %s", e.EntityGUID,
							e.Changes[0].Field, js(e.Changes[0].Old), js(e.Changes[0].New), js(e.Changes[1].New)))
					}
				}
				return strings.Join(out, "\n")
			case "show":
				e := state[c.Arg("entity", "")]
				if e == nil {
					return "none"
				}
				return showConflicts(e)
			case "bound":
				now := time.UnixMilli(num(c, "now") * 1000)
				return core.BoundHLC(core.FormatHLC(num(c, "hlc")*1000, 0), now)
			}
			return "unknown command " + c.Name
		}
	})
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func showConflicts(e *dc.Entity) string {
	s := show(e)
	for _, c := range e.Conflicts {
		s += fmt.Sprintf("\n  open %s field=%s current=%s (%s@%s) incoming=%s (%s@%s)", c.ID, c.Field,
			js(c.Current.Value), c.Current.Event, c.Current.Device, js(c.Incoming.Value), c.Incoming.Event, c.Incoming.Device)
	}
	return s
}

func TestHLC(t *testing.T) {
	var h core.HLC
	assert.Equal(t, "", h.Last())
	a := h.Now(1000)
	b := h.Now(1000) // same millisecond
	c := h.Now(500)  // clock set back
	assert.Equal(t, []string{"0000000001000.00000", "0000000001000.00001", "0000000001000.00002"}, []string{a, b, c})
	h.Observe("0000000009000.00007") // a later stamp from elsewhere
	d := h.Now(2000)
	assert.Equal(t, "0000000009000.00008", d)
	h.Observe("garbage")
	assert.Equal(t, d, h.Last())
	stamps := []string{d, a, c, b}
	sort.Strings(stamps)
	assert.Equal(t, []string{a, b, c, d}, stamps, "stamps sort as strings")
	_, _, ok := core.ParseHLC("12.3")
	assert.False(t, ok)
}

func TestConcurrentAndLater(t *testing.T) {
	ev := &dc.Event{GUID: "b", Device: "B", BaseSeq: 5}
	assert.False(t, core.Concurrent(ev, dc.Stamp{}), "no writer")
	assert.False(t, core.Concurrent(ev, dc.Stamp{Event: "a", Device: "A", Seq: 5}), "B had pulled it")
	assert.True(t, core.Concurrent(ev, dc.Stamp{Event: "a", Device: "A", Seq: 6}), "confirmed after B's cursor")
	assert.True(t, core.Concurrent(ev, dc.Stamp{Event: "a", Device: "A"}), "A's pending edit")
	assert.False(t, core.Concurrent(ev, dc.Stamp{Event: "a", Device: "B", Seq: 9}), "B's own")
	x := dc.Stamp{HLC: "0000000001000.00000", Event: "x", Base: 1}
	y := dc.Stamp{HLC: "0000000001000.00000", Event: "y", Base: 1}
	assert.True(t, core.Later(y, x))
	assert.False(t, core.Later(x, y))
	x.Base = 2
	assert.True(t, core.Later(x, y), "a higher version beats the guid")
	y.HLC = "0000000001000.00001"
	assert.True(t, core.Later(y, x), "the clock comes first")
}
