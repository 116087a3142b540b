package store_test

import (
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/store"
	"github.com/datacollect/datacollect/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dc.Store { return store.NewMemory() })
}
