//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/datacollect/datacollect/internal/chaosproxy"
)

// toggleOnSignals switches p's faults off on SIGUSR1 and on on SIGUSR2,
// until the returned function is called.
func toggleOnSignals(p *chaosproxy.Proxy, stderr io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			on := s == syscall.SIGUSR2
			p.SetEnabled(on)
			fmt.Fprintf(stderr, "chaosproxy: faults enabled=%v\n", on)
		}
	}()
	return func() { signal.Stop(sigs); close(sigs) }
}
