package client

import (
	"context"
	"encoding/json"
	"fmt"

	dc "github.com/datacollect/datacollect"
)

// Metadata keys of the session.
const (
	deviceKey  = "device.id"
	sessionKey = "auth.session"
)

// Session is the logged-in user of a device, kept across reloads.
type Session struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
	UserID    string `json:"userId"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	// RefreshToken buys the next access token (single use).
	RefreshToken string `json:"refreshToken,omitempty"`
	// AppKey and AppKeyID are the app's envelope key (wire/envelope).
	AppKey   []byte `json:"appKey,omitempty"`
	AppKeyID string `json:"appKeyId,omitempty"`
}

// DeviceID returns the device's id for this app, made on first use and kept.
func (c *Client) DeviceID(ctx context.Context) (string, error) {
	v, ok, err := c.store.Meta(ctx, deviceKey)
	if err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	if ok {
		return string(v), nil
	}
	id := c.newGUID()
	if err := c.store.Commit(ctx, &dc.Batch{Meta: map[string][]byte{deviceKey: []byte(id)}}); err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	return id, nil
}

// Session returns the stored session, or nil.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	v, ok, err := c.store.Meta(ctx, sessionKey)
	if err != nil || !ok {
		return nil, err
	}
	var s Session
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "corrupt session")
	}
	return &s, nil
}

// SetSession stores s (nil logs out) and records its user on new events.
func (c *Client) SetSession(ctx context.Context, s *Session) error {
	var v []byte
	if s != nil {
		var err error
		if v, err = json.Marshal(s); err != nil {
			return dc.Errorf(dc.EINTERNAL, "encode session: %v", err)
		}
	}
	if err := c.store.Commit(ctx, &dc.Batch{Meta: map[string][]byte{sessionKey: v}}); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if s != nil {
		c.SetUser(s.UserID)
	}
	return nil
}
