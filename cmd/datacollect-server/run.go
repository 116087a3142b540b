//go:build !js

package main

import (
	"context"
	"crypto/tls"
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

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
)

// Main is the command; Run parses args and runs one subcommand until ctx
// ends. Ready, if set, receives the listening address once serve listens.
type Main struct {
	Stdout, Stderr io.Writer
	Ready          chan<- string
}

// DefaultDB is the embedded SQLite database used when -db is not given.
const DefaultDB = "data/datacollect.db"

// The demo account that serve -demo creates on first run.
const (
	demoApp      = "demo"
	demoEmail    = "demo@example.org"
	demoPassword = "demo-password"
)

const usage = `usage: datacollect-server <command> [flags]

commands:
  serve      serve the web app and the sync API over HTTP (HTTPS with -tls-cert and -tls-key)
             [-addr 127.0.0.1:8080] [-db DSN] [-web DIR] [-demo] [-tls-cert FILE -tls-key FILE]
             [-envelope required|optional]
             [-token-ttl 15m] [-refresh-ttl 720h] [-trust-proxy]
             [-external-sync-interval D (0: off)]
  user add   create a user of an app
             -app APP -email E -password P [-role sync|admin] [-db DSN]
  inspect    show an app's sync state: event count and latest seq, the devices'
             last reports, the newest sync-log entries
             -app APP [-db DSN] [-device ID] [-log N (default 20)] [-json]
  duplicates list an app's potential duplicates (live entities sharing a
             nationalId, not declared distinct)
             -app APP [-db DSN] [-limit N] [-json]
  audit verify
             check an app's audit hash chain; names the first broken link
             -app APP [-db DSN]
  external config
             store an app's external sync configuration (the secret from an
             environment variable or a file; it is never printed)
             -app APP [-db DSN] [-adapter openspp] -url U [-database D] [-login L]
             [-secret-env VAR | -secret-file F] [-field-map k=v,...] [-option k=v ...]
             [-page-size N] [-interval D] [-disabled]
  external status
             show an app's external sync: configuration (redacted), cursors,
             pending and failed entities, last run
             -app APP [-db DSN]
  external-sync
             run one external sync of an app (outbox, push, pull) and print
             its progress and summary
             -app APP [-db DSN] [-json]

DSN: a SQLite file path (default ` + DefaultDB + `) or postgres://user:pass@host/db
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
	case "user":
		if len(args) < 2 || args[1] != "add" {
			fmt.Fprint(m.Stderr, usage)
			return errors.New("usage: datacollect-server user add -app APP -email E -password P")
		}
		return m.userAdd(ctx, args[2:])
	case "inspect":
		return m.inspect(ctx, args[1:])
	case "duplicates":
		return m.duplicates(ctx, args[1:])
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			fmt.Fprint(m.Stderr, usage)
			return errors.New("usage: datacollect-server audit verify -app APP [-db DSN]")
		}
		return m.auditVerify(ctx, args[2:])
	case "external":
		return m.external(ctx, args[1:])
	case "external-sync":
		return m.externalSync(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		fmt.Fprint(m.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func (m *Main) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return fs
}

func openStore(ctx context.Context, dsn string) (dc.ServerStore, error) {
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return s, nil
}

func (m *Main) userAdd(ctx context.Context, args []string) error {
	fs := m.flags("user add")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	email := fs.String("email", "", "email address")
	password := fs.String("password", "", "password (at least 8 characters)")
	role := fs.String("role", dc.RoleSync, "role: sync or admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := server.CreateUser(ctx, s, *app, *email, *password, *role, time.Now())
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(m.Stdout, "created %s user %s of app %s\n", u.Role, u.Email, u.AppID)
	return nil
}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	web := fs.String("web", ".", "directory holding index.html, wasm_exec.js and web/")
	demo := fs.Bool("demo", false, "create the demo user on first run and print its login")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM) file: serve HTTPS (with -tls-key)")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM) file: serve HTTPS (with -tls-cert)")
	tokenTTL := fs.Duration("token-ttl", 15*time.Minute, "lifetime of an access token")
	refreshTTL := fs.Duration("refresh-ttl", 30*24*time.Hour, "lifetime of a refresh token (each refresh gets a new one)")
	trustProxy := fs.Bool("trust-proxy", false, "count login attempts by the last X-Forwarded-For address (only behind a proxy that sets it)")
	extInterval := fs.Duration("external-sync-interval", 0, "sync every configured, enabled app with its external system this often (0: off)")
	envelopeMode := fs.String("envelope", server.EnvelopeRequired, "event data envelopes: required (every push sealed, every pull sealed) or optional")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *envelopeMode != server.EnvelopeRequired && *envelopeMode != server.EnvelopeOptional {
		return fmt.Errorf("serve: -envelope is required or optional, not %q", *envelopeMode)
	}
	if *extInterval < 0 {
		return errors.New("serve: -external-sync-interval must not be negative")
	}
	if *tokenTTL <= 0 || *refreshTTL <= 0 {
		return errors.New("serve: -token-ttl and -refresh-ttl must be positive")
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("serve: -tls-cert and -tls-key must be given together")
	}
	var tlsConfig *tls.Config
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("serve: load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	if _, err := os.Stat(filepath.Join(*web, "index.html")); err != nil {
		return fmt.Errorf("serve: -web %s has no index.html (run from the repository root or pass -web)", *web)
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, nil))
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if *demo {
		if err := m.ensureDemoUser(ctx, s); err != nil {
			return err
		}
	}
	srv := server.New(s, server.Config{WebDir: *web, Envelope: *envelopeMode,
		TokenTTL: *tokenTTL, RefreshTTL: *refreshTTL, TrustProxy: *trustProxy}, server.Options{Logger: log})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if tlsConfig != nil {
		hs.TLSConfig = tlsConfig
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String() + "/"
	log.Info("serving DataCollect", "url", url, "db", *db, "web", *web, "envelope", *envelopeMode)
	fmt.Fprintf(m.Stdout, "DataCollect is running at %s\n", url)
	if m.Ready != nil {
		m.Ready <- ln.Addr().String()
	}
	extCtx, stopExt := context.WithCancel(ctx)
	extDone := make(chan struct{})
	go func() {
		defer close(extDone)
		srv.RunExternalLoop(extCtx, *extInterval)
	}()
	defer func() { stopExt(); <-extDone }()
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := hs.Shutdown(shutdown)
		stopExt()
		<-extDone
		srv.Close()
		return err
	}
}

func (m *Main) ensureDemoUser(ctx context.Context, s dc.ServerStore) error {
	_, err := server.CreateUser(ctx, s, demoApp, demoEmail, demoPassword, dc.RoleSync, time.Now())
	switch dc.ErrorCode(err) {
	case "":
		fmt.Fprintln(m.Stdout, "Created the demo user.")
	case dc.EEXISTS:
	default:
		return fmt.Errorf("demo user: %w", err)
	}
	fmt.Fprintf(m.Stdout, "Demo login: app %q, email %s, password %s\n", demoApp, demoEmail, demoPassword)
	return nil
}
