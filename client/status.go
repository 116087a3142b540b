package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	dc "github.com/datacollect/datacollect"
)

// Status is what a device shows its user about syncing. The part that
// outlives a page (last sync, last error, next retry, last metrics) is
// persisted in the store's metadata, so it survives reloads and is shared
// by the tabs of one app; the counts are read from the store each time.
type Status struct {
	// LastSyncTime is when the last successful sync ended (RFC 3339), or "".
	LastSyncTime string `json:"lastSyncTime"`
	// SyncInProgress is true while this tab syncs.
	SyncInProgress bool `json:"syncInProgress"`
	// PendingEvents are recorded here and not yet acknowledged by the
	// server (failed ones excluded).
	PendingEvents int `json:"pendingEvents"`
	// FailedEvents were rejected (see inspect().failedItems); retryFailed()
	// queues them again.
	FailedEvents int `json:"failedEvents"`
	// Conflicts counts the open conflicts (strategy manual) waiting for a
	// resolution.
	Conflicts int `json:"conflicts"`
	// NextRetry is when the next automatic retry is due (RFC 3339), or "".
	NextRetry string `json:"nextRetry"`
	// Online is the browser's view of the network.
	Online bool `json:"online"`
	// LastAttempt is when the last sync attempt ended, or "".
	LastAttempt string `json:"lastAttempt"`
	// LastError is the last attempt's error, or nil after a success.
	LastError *ErrorInfo `json:"lastError"`
	// RetryAttempts counts the failed attempts in a row.
	RetryAttempts int `json:"retryAttempts"`
	// AuthRequired is true after the server refused the session (401):
	// automatic sync waits for a new login.
	AuthRequired bool `json:"authRequired"`
}

// ErrorInfo is an error as JSON: its stable code and message.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorInfo(err error) *ErrorInfo {
	if err == nil {
		return nil
	}
	return &ErrorInfo{Code: dc.ErrorCode(err), Message: dc.ErrorMessage(err)}
}

// statusKey is the metadata key of the persisted status.
const statusKey = "sync.status"

// savedStatus is the persisted part of Status.
type savedStatus struct {
	LastSyncTime  string          `json:"lastSyncTime,omitempty"`
	LastAttempt   string          `json:"lastAttempt,omitempty"`
	LastError     *ErrorInfo      `json:"lastError,omitempty"`
	NextRetry     string          `json:"nextRetry,omitempty"`
	RetryAttempts int             `json:"retryAttempts,omitempty"`
	Conflicts     int             `json:"conflicts,omitempty"`
	AuthRequired  bool            `json:"authRequired,omitempty"`
	Metrics       *dc.SyncMetrics `json:"metrics,omitempty"`
}

func (c *Client) savedStatus(ctx context.Context) (savedStatus, error) {
	var s savedStatus
	v, ok, err := c.store.Meta(ctx, statusKey)
	if err != nil || !ok {
		return s, err
	}
	if err := json.Unmarshal(v, &s); err != nil {
		// A corrupt status is not worth failing over: it is rebuilt by
		// the next sync.
		return savedStatus{}, nil
	}
	return s, nil
}

// Counts returns how many events wait for the server (failed ones
// excluded) and how many failed.
func (c *Client) Counts(ctx context.Context) (pending, failed int, err error) {
	local, err := c.store.CountEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	if err != nil {
		return 0, 0, fmt.Errorf("status: %w", err)
	}
	failed, err = c.store.CountEvents(ctx, dc.EventQuery{Failed: true})
	if err != nil {
		return 0, 0, fmt.Errorf("status: %w", err)
	}
	return max(local-failed, 0), failed, nil
}

// FailedEvents returns the events that failed, oldest first, at most limit
// (0: all).
func (c *Client) FailedEvents(ctx context.Context, limit int) ([]*dc.Event, error) {
	return c.store.ListEvents(ctx, dc.EventQuery{Failed: true, Limit: limit})
}

// RetryFailed clears the failure of every failed event, in one commit, so
// that the next push sends them again, and returns how many it re-queued.
func (c *Client) RetryFailed(ctx context.Context) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	evs, err := c.FailedEvents(ctx, 0)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	b := &dc.Batch{}
	for _, e := range evs {
		if e.SyncLevel != dc.Local {
			continue // failed to apply here after a pull: nothing to send
		}
		e.Failure = nil
		b.UpdatedEvents = append(b.UpdatedEvents, e)
	}
	if len(b.UpdatedEvents) == 0 {
		return 0, nil
	}
	if err := c.store.Commit(ctx, b); err != nil {
		return 0, fmt.Errorf("retry failed: %w", err)
	}
	return len(b.UpdatedEvents), nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
