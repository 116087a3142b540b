// Command chaosproxy is a fault-injecting reverse proxy for the sync API (see
// internal/chaosproxy): it forwards every request to -target and disturbs
// those under -prefix with the faults drawn from -seed at the given rates.
//
//	chaosproxy -addr 127.0.0.1:0 -target http://127.0.0.1:8080 -faults 0.2 -seed 1
//
// It prints "chaosproxy listening on http://ADDR" once it listens. Faults go
// off and on with POST /_chaos/faults?enabled=0|1 or the signals SIGUSR1
// (off) and SIGUSR2 (on); GET /_chaos/stats answers the counts as JSON.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/datacollect/datacollect/internal/chaosproxy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chaosproxy:", err)
		os.Exit(1)
	}
}

// Run parses args, serves until ctx ends and prints the fault counts then.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chaosproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	target := fs.String("target", "", "the upstream server's root URL, e.g. http://127.0.0.1:8080")
	faults := fs.Float64("faults", 0.2, "total fault rate, spread evenly over every kind")
	rates := fs.String("rates", "", "per-kind rates overriding -faults' share, e.g. drop-request=0.05,delay=0 (kinds: "+kindNames()+")")
	seed := fs.Uint64("seed", 1, "seed of the fault decisions")
	prefix := fs.String("prefix", "/api/", "comma-separated path prefixes whose requests get faults")
	maxDelay := fs.Duration("max-delay", time.Second, "longest injected delay")
	off := fs.Bool("off", false, "start with faults off")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *faults < 0 || *faults > 1 {
		return fmt.Errorf("-faults %v is not a probability", *faults)
	}
	r, err := chaosproxy.ParseRates(chaosproxy.Even(*faults), *rates)
	if err != nil {
		return err
	}
	p, err := chaosproxy.New(chaosproxy.Config{
		Target: *target, Rates: r, Seed: *seed, Prefixes: strings.Split(*prefix, ","),
		MaxDelay: *maxDelay, Disabled: *off,
	})
	if err != nil {
		return err
	}
	defer p.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	defer toggleOnSignals(p, stderr)()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "chaosproxy listening on http://%s (target %s, seed %d)\n", ln.Addr(), *target, *seed)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	st := p.Stats()
	fmt.Fprintf(stdout, "chaosproxy: %d requests, faults: %s, upstream errors: %d\n", st.Requests, st.Faults, st.UpstreamErrors)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

func kindNames() string {
	names := make([]string, len(chaosproxy.Kinds))
	for i, k := range chaosproxy.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
