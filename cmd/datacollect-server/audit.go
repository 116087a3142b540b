//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
)

// auditProgressEvery is how many entries audit verify checks between two
// progress lines.
const auditProgressEvery = 10000

// auditVerify checks an app's audit chain (see core.AuditHash):
// datacollect-server audit verify -app APP [-db DSN]. It prints progress
// on Stderr, the result on Stdout, and returns an error naming the first
// broken link if the chain is broken.
func (m *Main) auditVerify(ctx context.Context, args []string) error {
	fs := m.flags("audit verify")
	db := fs.String("db", DefaultDB, "database: SQLite file or postgres:// URL")
	app := fs.String("app", "", "app (tenant) id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("audit verify: -app is required")
	}
	s, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	n, broken, err := s.VerifyAuditProgress(ctx, *app, auditProgressEvery, func(n int) {
		fmt.Fprintf(m.Stderr, "audit verify: %d entries checked\n", n)
	})
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if broken == nil {
		fmt.Fprintf(m.Stdout, "audit chain of %s: %d entries, intact\n", *app, n)
		return nil
	}
	var msg string
	if broken.ID == 0 {
		msg = fmt.Sprintf("audit chain of %s broken after its last entry (%d entries intact): "+
			"the app's audit head is %q, not the last entry's hash %q: entries were removed from the end",
			*app, n, broken.Got, broken.Want)
	} else {
		msg = fmt.Sprintf("audit chain of %s broken at entry %d (event seq %d, guid %s): "+
			"stored hash %q, recomputed %q (%d entries intact before it): "+
			"the entry was altered, or one before it removed or inserted",
			*app, broken.ID, broken.Seq, broken.GUID, broken.Got, broken.Want, n)
	}
	fmt.Fprintln(m.Stdout, msg)
	return errors.New(msg)
}
