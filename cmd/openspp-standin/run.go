//go:build !js

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/datacollect/datacollect/external/openspp/standin"
)

// Main is the command; Run parses args and serves until ctx ends. Ready, if
// set, receives the listening address once the server listens.
type Main struct {
	Stdout, Stderr io.Writer
	Ready          chan<- string
}

// Run parses the flags and serves the stand-in until ctx is done.
func (m *Main) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("openspp-standin", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:8069", "address to listen on (port 0 picks a free one)")
	db := fs.String("db", "openspp", "database name callers must pass")
	login := fs.String("login", "admin", "login of the read-write user (uid 2)")
	password := fs.String("password", "admin", "password of the read-write user")
	roLogin := fs.String("readonly-login", "", "login of an optional read-only user (uid 3)")
	roPassword := fs.String("readonly-password", "", "password of the read-only user")
	data := fs.String("data", "", "JSON file keeping the data across restarts (default: memory only)")
	seed := fs.Bool("seed", true, "create group kinds, the Head membership kind, ID types and genders (not when -data exists)")
	custom := fs.String("custom-fields", standin.DefaultCustomField, "comma-separated extra char fields of res.partner")
	pattern := fs.String("national-id-pattern", "", "validation regex of the seeded National ID type")
	failRate := fs.Float64("fail-rate", 0, "fraction of calls (0..1) answering an injected error")
	failError := fs.String("fail-error", standin.ErrSerializationFailure, "Odoo error name of injected failures")
	latency := fs.Duration("latency", 0, "delay added to every call, e.g. 200ms")
	randSeed := fs.Uint64("rand-seed", 1, "seed of the generator choosing failing calls")
	verbose := fs.Bool("v", false, "log every call")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *failRate < 0 || *failRate > 1 {
		return errors.New("-fail-rate must be between 0 and 1")
	}
	fields := []string{}
	for _, f := range strings.Split(*custom, ",") {
		if f = strings.TrimSpace(f); f != "" {
			fields = append(fields, f)
		}
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, nil))
	opts := standin.Options{DB: *db, Login: *login, Password: *password,
		ReadOnlyLogin: *roLogin, ReadOnlyPassword: *roPassword, DataFile: *data, Seed: *seed,
		CustomFields: fields, NationalIDPattern: *pattern, RandSeed: *randSeed}
	if *verbose {
		opts.Logger = log
	}
	srv, err := standin.Open(opts)
	if err != nil {
		return err
	}
	if *failRate > 0 {
		srv.FailRate(*failRate, *failError)
	}
	srv.SetLatency(*latency)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(m.Stdout, "OpenSPP stand-in listening on %s (POST %s/jsonrpc, db %q, login %q)\n", url, url, *db, *login)
	if m.Ready != nil {
		m.Ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
