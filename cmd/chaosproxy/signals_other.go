//go:build !unix

package main

import (
	"io"

	"github.com/datacollect/datacollect/internal/chaosproxy"
)

// toggleOnSignals does nothing where there are no SIGUSR1/SIGUSR2: use the
// admin endpoint.
func toggleOnSignals(*chaosproxy.Proxy, io.Writer) (stop func()) { return func() {} }
