//go:build !js

package sqlstore

import (
	"context"

	dc "github.com/datacollect/datacollect"
)

// PutDevice implements datacollect.ServerStore. A device without an app or
// a device ID is EINVALID.
func (s *Store) PutDevice(ctx context.Context, d *dc.Device) error {
	if err := s.check(); err != nil {
		return err
	}
	if d == nil || d.AppID == "" || d.DeviceID == "" {
		return dc.Errorf(dc.EINVALID, "put device: need an app and a device id")
	}
	b, err := encodeDeviceReport(&d.Report)
	if err != nil {
		return dc.Errorf(dc.EINVALID, "put device: encode the report of %s: %v", d.DeviceID, err)
	}
	if _, err := s.db.exec(ctx, qPutDevice, d.AppID, d.DeviceID, d.UserID, d.ReportedAt, b); err != nil {
		return s.err("put device", err)
	}
	return nil
}

// Devices implements datacollect.ServerStore. Device IDs are ordered by
// their bytes in both databases.
func (s *Store) Devices(ctx context.Context, app string) ([]*dc.Device, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	r, err := s.db.query(ctx, qDevices, app)
	if err != nil {
		return nil, s.err("read devices", err)
	}
	defer r.Close()
	var out []*dc.Device
	for r.Next() {
		d := &dc.Device{AppID: app}
		var b []byte
		if err := r.Scan(&d.DeviceID, &d.UserID, &d.ReportedAt, &b); err != nil {
			return nil, s.err("read devices", err)
		}
		rep, err := decodeDeviceReport(b)
		if err != nil {
			return nil, err
		}
		d.Report = *rep
		out = append(out, d)
	}
	if err := r.Err(); err != nil {
		return nil, s.err("read devices", err)
	}
	return out, nil
}
