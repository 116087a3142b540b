//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/server/sqlstore"
)

// inspection is what inspect shows of an app: its events, its devices'
// last reports and the newest entries of its sync log (ID ascending). With
// a device, only that device's report and entries.
type inspection struct {
	App       string           `json:"app"`
	Device    string           `json:"device,omitempty"`
	Events    int              `json:"events"`
	LatestSeq int64            `json:"latestSeq"`
	Devices   []*dc.Device     `json:"devices"`
	SyncLog   []*dc.AuditEntry `json:"syncLog"`
}

// inspect prints an app's sync state: datacollect-server inspect -app APP
// [-db DSN] [-device ID] [-log N] [-json].
func (m *Main) inspect(ctx context.Context, args []string) error {
	fs := m.flags("inspect")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	device := fs.String("device", "", "show only this device (X-Client-ID)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	logN := fs.Int("log", 20, "number of sync-log entries to show")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("inspect: -app is required")
	}
	if *logN < 0 {
		return errors.New("inspect: -log must not be negative")
	}
	s, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	in, err := gather(ctx, s, *app, *device, *logN)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	printInspection(m.Stdout, in, *logN)
	return nil
}

// openExisting opens the store of dsn, refusing an SQLite file that does
// not exist (opening would create an empty one).
func openExisting(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		if _, err := os.Stat(strings.TrimPrefix(dsn, "sqlite:")); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return s, nil
}

// gather reads what inspect shows. Sequence numbers are gap-free (a
// failed push consumes none), so the latest is the count's.
func gather(ctx context.Context, s *sqlstore.Store, app, device string, logN int) (*inspection, error) {
	in := &inspection{App: app, Device: device, Devices: []*dc.Device{}, SyncLog: []*dc.AuditEntry{}}
	var err error
	if in.Events, err = s.CountAfter(ctx, app, 0); err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	if in.Events > 0 {
		evs, _, _, err := s.Pull(ctx, app, int64(in.Events-1), 1)
		if err != nil {
			return nil, fmt.Errorf("read the latest event: %w", err)
		}
		if len(evs) > 0 {
			in.LatestSeq = evs[0].Seq
		}
	}
	devs, err := s.Devices(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("read devices: %w", err)
	}
	for _, d := range devs {
		if device == "" || d.DeviceID == device {
			in.Devices = append(in.Devices, d)
		}
	}
	if logN > 0 {
		log, err := s.LastSyncLog(ctx, app, dc.SyncLogQuery{Limit: logN, DeviceID: device})
		if err != nil {
			return nil, fmt.Errorf("read the sync log: %w", err)
		}
		in.SyncLog = append(in.SyncLog, log...)
	}
	return in, nil
}

// printInspection prints in as text: a summary line, a table of devices
// and a table of sync-log entries.
func printInspection(w io.Writer, in *inspection, logN int) {
	fmt.Fprintf(w, "app %s: %d events, latest seq %d\n", in.App, in.Events, in.LatestSeq)
	fmt.Fprintln(w)
	switch {
	case len(in.Devices) > 0:
		fmt.Fprintf(w, "devices (%d):\n", len(in.Devices))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE\tUSER\tREPORTED\tLAST SYNC\tPENDING\tFAILED\tCONFLICTS\tDURATION MS\tRETRIES\tERRORS\tLAST ERROR")
		for _, d := range in.Devices {
			r := d.Report
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", cell(d.DeviceID), cell(d.UserID),
				cell(d.ReportedAt), cell(r.LastSyncTime), r.Pending, r.Failed, r.Conflicts,
				r.Metrics.SyncDuration, r.Metrics.RetryAttempts, r.Metrics.ErrorsEncountered, cell(r.LastError))
		}
		tw.Flush()
	case in.Device != "":
		fmt.Fprintf(w, "device %s has not reported\n", in.Device)
	default:
		fmt.Fprintln(w, "no device has reported")
	}
	if logN == 0 {
		return
	}
	fmt.Fprintln(w)
	switch {
	case len(in.SyncLog) == 0:
		fmt.Fprintln(w, "sync log: empty")
		return
	case in.Device != "":
		fmt.Fprintf(w, "sync log of device %s (last %d):\n", in.Device, len(in.SyncLog))
	default:
		fmt.Fprintf(w, "sync log (last %d):\n", len(in.SyncLog))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tOP\tDEVICE\tUSER\tENTITIES\tEVENTS\tDURATION MS\tSTATUS\tERROR")
	for _, a := range in.SyncLog {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", a.ID, cell(a.Timestamp), cell(a.Action),
			cell(a.DeviceID), cell(a.UserID), a.Entities, a.Events, a.DurationMs, cell(a.Status), cell(a.Error))
	}
	tw.Flush()
}

// maxCell bounds the characters of a table cell; -json shows everything.
const maxCell = 60

// cell returns s fit for a table cell: "-" if empty, on one line, without
// tabs, and cut to maxCell characters.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxCell {
		s = string([]rune(s)[:maxCell-1]) + "…"
	}
	return s
}
