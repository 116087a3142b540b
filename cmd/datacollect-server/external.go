//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/server"

	// The adapters external sync can use.
	_ "github.com/datacollect/datacollect/external/openspp"
	_ "github.com/datacollect/datacollect/external/webhook"
)

// kvFlag collects repeated or comma-separated k=v flags.
type kvFlag map[string]string

func (f kvFlag) String() string { return "" }

func (f kvFlag) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("%q is not key=value", kv)
		}
		f[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return nil
}

// external runs "external config" and "external status".
func (m *Main) external(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: datacollect-server external config|status ...")
	}
	switch args[0] {
	case "config":
		return m.externalConfig(ctx, args[1:])
	case "status":
		return m.externalStatus(ctx, args[1:])
	}
	return fmt.Errorf("unknown external command %q (config or status)", args[0])
}

// externalConfig stores an app's external sync configuration and prints
// it with the secret redacted. The secret comes from an environment
// variable or a file, never from the command line.
func (m *Main) externalConfig(ctx context.Context, args []string) error {
	fs := m.flags("external config")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	adapter := fs.String("adapter", "openspp", "adapter: "+strings.Join(external.Names(), ", "))
	url := fs.String("url", "", "the external system's base URL")
	database := fs.String("database", "", "the external system's database (OpenSPP)")
	login := fs.String("login", "", "login")
	secretEnv := fs.String("secret-env", "", "read the secret (password, API key) from this environment variable")
	secretFile := fs.String("secret-file", "", "read the secret from this file (trailing newline removed)")
	fieldMap, options := kvFlag{}, kvFlag{}
	fs.Var(fieldMap, "field-map", "data key=external field, comma-separated (repeatable)")
	fs.Var(options, "option", "adapter option key=value (repeatable)")
	pageSize := fs.Int("page-size", 0, "records per pull page (0: the adapter's default)")
	interval := fs.Duration("interval", 0, "this app's own background sync interval (0: serve's -external-sync-interval)")
	disabled := fs.Bool("disabled", false, "store the configuration but do not sync the app")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("external config: -app is required")
	}
	if *secretEnv != "" && *secretFile != "" {
		return errors.New("external config: give -secret-env or -secret-file, not both")
	}
	var secret string
	switch {
	case *secretEnv != "":
		v, ok := os.LookupEnv(*secretEnv)
		if !ok || v == "" {
			return fmt.Errorf("external config: environment variable %s is not set", *secretEnv)
		}
		secret = v
	case *secretFile != "":
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return fmt.Errorf("external config: read the secret: %w", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg := external.Config{Adapter: *adapter, URL: *url, Database: *database, Login: *login, Secret: secret, PageSize: *pageSize}
	if len(fieldMap) > 0 {
		cfg.FieldMap = fieldMap
	}
	if len(options) > 0 {
		cfg.Options = options
	}
	v, err := server.SetExternalConfig(ctx, s, *app, server.ExternalSettings{Config: cfg, Enabled: !*disabled, Interval: *interval}, time.Now())
	if err != nil {
		return fmt.Errorf("external config: %w", err)
	}
	fmt.Fprintf(m.Stdout, "stored the external sync configuration of app %s:\n", *app)
	return printJSON(m, v)
}

func printJSON(m *Main, v any) error {
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// externalStatus prints an app's external sync status (config redacted,
// cursors, outbox counts, last run) and its failures.
func (m *Main) externalStatus(ctx context.Context, args []string) error {
	fs := m.flags("external status")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("external status: -app is required")
	}
	s, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := server.ExternalStatusOf(ctx, s, *app, time.Now())
	if err != nil {
		return fmt.Errorf("external status: %w", err)
	}
	failures, err := s.OutboxItems(ctx, *app, "failed", 100)
	if err != nil {
		return fmt.Errorf("external status: %w", err)
	}
	fmt.Fprintf(m.Stdout, "app %s: adapter %s, %s, enabled %v\n", *app, st.Config.Adapter, st.Config.URL, st.Config.Enabled)
	fmt.Fprintf(m.Stdout, "outbox: %d pending, %d failed (cursor at event %d); pull cursor %q; running %v\n",
		st.Pending, st.Failed, st.OutboxCursor, st.PullCursor, st.Running)
	if lr := st.LastRun; lr != nil {
		fmt.Fprintf(m.Stdout, "last run %s: %s\n", lr.StartedAt, summaryLine(lr))
	}
	for _, f := range failures {
		fmt.Fprintf(m.Stdout, "failed %s: %s %s (attempts %d)\n", f.EntityGUID, f.LastCode, f.LastMessage, f.Attempts)
	}
	return nil
}

func summaryLine(s *server.ExternalSummary) string {
	line := fmt.Sprintf("pushed %d (created %d, updated %d), failed %d, pulled %d, applied %d in %dms",
		s.Pushed, s.Created, s.Updated, s.Failed, s.Pulled, s.Applied, s.DurationMs)
	if s.Error != "" {
		line += "; stopped: " + s.Error
	}
	return line
}

// externalSync runs one external sync of an app, printing its progress
// and summary: datacollect-server external-sync -db DSN -app APP [-json].
func (m *Main) externalSync(ctx context.Context, args []string) error {
	fs := m.flags("external-sync")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("external-sync: -app is required")
	}
	s, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	srv := server.New(s, server.Config{}, server.Options{})
	defer srv.Close()
	last := map[string]int{}
	progress := func(phase string, done, total int) {
		if done == last[phase] && done != 0 {
			return
		}
		last[phase] = done
		if total > 0 {
			fmt.Fprintf(m.Stdout, "%s: %d/%d\n", phase, done, total)
		} else {
			fmt.Fprintf(m.Stdout, "%s: %d\n", phase, done)
		}
	}
	sum, err := srv.RunExternalSync(ctx, *app, progress)
	if err != nil {
		return fmt.Errorf("external-sync: %w", err)
	}
	if *asJSON {
		return printJSON(m, sum)
	}
	fmt.Fprintf(m.Stdout, "app %s: %s\n", *app, summaryLine(sum))
	for _, n := range sum.Notes {
		fmt.Fprintln(m.Stdout, "note:", n)
	}
	return nil
}
