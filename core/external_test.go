package core_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/scenario"
)

// TestExternalScenarios runs testdata/external/*.txt. Commands:
//
//	apply type=T entity=E [guid=G] [level=LOCAL|SYNCED|EXTERNAL]   input: the event's data as JSON
//	show entity=E
//
// apply prints each entity the event changed (with its external id and
// sync level) and its audit entries, "no change", or the error.
func TestExternalScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/external", func(t *testing.T) func(*scenario.Command) string {
		a := core.NewApplier()
		state := core.MapEntities{}
		n := 0
		newGUID := func() string { n++; return fmt.Sprintf("auto%d", n) }
		return func(c *scenario.Command) string {
			switch c.Name {
			case "apply":
				ev := &dc.Event{
					GUID: c.Arg("guid", newGUID()), EntityGUID: c.Arg("entity", ""), Type: c.Arg("type", ""),
					Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u", SyncLevel: dc.SyncLevel(c.Arg("level", string(dc.Synced))),
				}
				if c.Input != "" {
					if err := json.Unmarshal([]byte(c.Input), &ev.Data); err != nil {
						return "bad input: " + err.Error()
					}
				}
				if err := a.Prepare(ev, newGUID); err != nil {
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
					out = append(out, showExternal(ch.After))
				}
				for _, e := range audit {
					var fields []string
					for _, f := range e.Changes {
						fields = append(fields, f.Field)
					}
					out = append(out, fmt.Sprintf("audit %s %s [%s]", e.EntityGUID, e.Action, strings.Join(fields, " ")))
				}
				if len(out) == 0 {
					return "no change"
				}
				return strings.Join(out, "\n")
			case "show":
				e := state[c.Arg("entity", "")]
				if e == nil {
					return "none"
				}
				return showExternal(e)
			}
			return "unknown command " + c.Name
		}
	})
}

func showExternal(e *dc.Entity) string {
	s := show(e) + " " + string(e.SyncLevel)
	if e.ExternalID != "" {
		s += " externalId=" + e.ExternalID
	}
	return s
}
