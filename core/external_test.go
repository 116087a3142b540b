package core_test

import (
	"testing"

	dc "github.com/datacollect/datacollect"
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
	scenario.RunDir(t, "testdata/external", applierRunner(dc.Synced, showExternal, "no change"))
}

func showExternal(e *dc.Entity) string {
	s := show(e) + " " + string(e.SyncLevel)
	if e.ExternalID != "" {
		s += " externalId=" + e.ExternalID
	}
	return s
}
