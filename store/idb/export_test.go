//go:build js && wasm

package idbstore

import (
	"context"
	"errors"

	"github.com/hack-pad/go-indexeddb/idb"
)

// OpenFailingUpgrade is Open with an upgrade that fails after creating the
// schema.
func OpenFailingUpgrade(ctx context.Context, name string) (*Store, error) {
	return open(ctx, name, func(db *idb.Database, oldVersion uint) error {
		if err := upgrade(db, oldVersion); err != nil {
			return err
		}
		return errors.New("injected failure")
	})
}
