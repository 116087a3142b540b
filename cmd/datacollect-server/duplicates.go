//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	dc "github.com/datacollect/datacollect"
)

// duplicateGroup is one group that duplicates prints: live entities of an
// app sharing a duplicate key.
type duplicateGroup struct {
	Key      string       `json:"key"`
	Entities []*dc.Entity `json:"entities"`
}

// duplicates prints an app's potential duplicates under the server's keys
// (core.DefaultDupKeys): datacollect-server duplicates -app APP [-db DSN]
// [-limit N] [-json].
func (m *Main) duplicates(ctx context.Context, args []string) error {
	fs := m.flags("duplicates")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	limit := fs.Int("limit", 0, "show at most this many groups (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON array of {key, entities}")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("duplicates: -app is required")
	}
	if *limit < 0 {
		return errors.New("duplicates: -limit must not be negative")
	}
	s, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	gs, err := s.Duplicates(ctx, *app, *limit)
	if err != nil {
		return fmt.Errorf("duplicates: %w", err)
	}
	out := make([]duplicateGroup, 0, len(gs))
	for _, g := range gs {
		out = append(out, duplicateGroup{Key: g[0].DupKey, Entities: g})
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printDuplicates(m.Stdout, *app, out)
	return nil
}

// printDuplicates prints the groups as text: per group its key, then a
// table of its entities.
func printDuplicates(w io.Writer, app string, gs []duplicateGroup) {
	if len(gs) == 0 {
		fmt.Fprintf(w, "app %s: no potential duplicates\n", app)
		return
	}
	fmt.Fprintf(w, "app %s: %d groups of potential duplicates\n", app, len(gs))
	for _, g := range gs {
		fmt.Fprintf(w, "\n%s (%d entities):\n", cell(g.Key), len(g.Entities))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "GUID\tTYPE\tVERSION\tUPDATED\tDATA")
		for _, e := range g.Entities {
			data, _ := json.Marshal(e.Data)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", cell(e.GUID), cell(string(e.Type)), e.Version,
				cell(e.LastUpdated), cell(strings.TrimSpace(string(data))))
		}
		tw.Flush()
	}
}
