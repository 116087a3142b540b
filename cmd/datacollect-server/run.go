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
	"os"
	"path/filepath"
	"time"

	"github.com/datacollect/datacollect/server"
)

// Main is the command; Run parses args and runs one subcommand until ctx
// ends. Ready, if set, receives the listening address once serve listens.
type Main struct {
	Stdout, Stderr io.Writer
	Ready          chan<- string
}

const usage = `usage: datacollect-server <command> [flags]

commands:
  serve    serve the web app (and the sync API) over HTTP
`

// Run runs the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		fmt.Fprint(m.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	web := fs.String("web", ".", "directory holding index.html, wasm_exec.js and web/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*web, "index.html")); err != nil {
		return fmt.Errorf("serve: -web %s has no index.html (run from the repository root or pass -web)", *web)
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.Handle("/", server.AppHandler(*web))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	log.Info("serving DataCollect", "url", url, "web", *web)
	fmt.Fprintf(m.Stdout, "DataCollect is running at %s\n", url)
	if m.Ready != nil {
		m.Ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}
