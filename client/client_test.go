package client_test

import (
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client/clienttest"
	"github.com/datacollect/datacollect/store"
)

func TestClientOverMemory(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) dc.Store { return store.NewMemory() })
}
