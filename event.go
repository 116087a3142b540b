package datacollect

import "time"

// SyncLevel tells how far an event or entity has travelled.
type SyncLevel string

// Sync levels, in the order an event reaches them.
const (
	// Local: recorded on this device, not yet acknowledged by the server.
	Local SyncLevel = "LOCAL"
	// Synced: durably stored by the sync server, which assigned it a sequence number.
	Synced SyncLevel = "SYNCED"
	// External: also delivered to (or received from) an external registry.
	External SyncLevel = "EXTERNAL"
)

// Valid reports whether l is one of the defined levels.
func (l SyncLevel) Valid() bool { return l == Local || l == Synced || l == External }

// TimeLayout is the layout of every timestamp in DataCollect: RFC 3339 in UTC
// with millisecond precision, e.g. 2026-11-25T10:04:05.123Z.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t in TimeLayout, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime parses an RFC 3339 timestamp (any precision) and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "timestamp %q is not RFC 3339", s)
	}
	return t.UTC(), nil
}

// Event is a form submission: the only way entities change. Events are
// immutable once recorded, except for their sync bookkeeping (SyncLevel, Seq,
// Failure), which only the sync engine changes.
type Event struct {
	// GUID identifies the event everywhere; push is idempotent by it.
	GUID string `msg:"guid" json:"guid"`
	// EntityGUID is the entity the event is about.
	EntityGUID string `msg:"entityGuid" json:"entityGuid"`
	// Type names the event type, e.g. "create-individual".
	Type string `msg:"type" json:"type"`
	// Data is the form's payload. Updates carry only the changed fields.
	Data map[string]any `msg:"data" json:"data"`
	// Sealed, on the wire only, is Data sealed in an AES-GCM envelope under
	// the app's key (package wire/envelope); Data is then nil. Stores never
	// hold it.
	Sealed []byte `msg:"sealed,omitempty" json:"sealed,omitempty"`
	// Timestamp is when the form was submitted, RFC 3339 UTC with milliseconds.
	Timestamp string `msg:"timestamp" json:"timestamp"`
	// UserID is who submitted the form.
	UserID string `msg:"userId" json:"userId"`
	// SyncLevel is LOCAL until the server acknowledges the event durably.
	SyncLevel SyncLevel `msg:"syncLevel" json:"syncLevel"`
	// Seq is the server-assigned sequence number (the order of record); 0
	// while the event is LOCAL.
	Seq int64 `msg:"seq" json:"seq,omitempty"`
	// BaseVersion is the version of the entity this event was based on when
	// it was recorded (0 for creations). Conflict detection uses it.
	BaseVersion int64 `msg:"baseVersion" json:"baseVersion"`
	// Failure is set when the server rejected the event; the event stays
	// visible (never silently dropped) until it is fixed and retried.
	Failure *Failure `msg:"failure" json:"failure,omitempty"`
	// HLC is the hybrid logical clock stamp of the event's recording,
	// "<13-digit Unix milliseconds>.<5-digit counter>": it compares as a
	// string, follows the device's server-corrected clock and never goes
	// backwards. The server bounds it by its own clock when it stores the
	// event, so a device whose clock runs ahead cannot win every conflict.
	HLC string `msg:"hlc,omitempty" json:"hlc,omitempty"`
	// Device is the device that recorded the event.
	Device string `msg:"device,omitempty" json:"device,omitempty"`
	// BaseSeq is the recording device's pull cursor at the time: the device
	// had seen every event with Seq <= BaseSeq. Two events on one entity are
	// concurrent when neither saw the other (see core.Concurrent).
	BaseSeq int64 `msg:"baseSeq,omitempty" json:"baseSeq,omitempty"`
	// Strategy is the recording app's conflict strategy: "merge" (also
	// ""), "lww" or "manual". Every replica resolves the event's conflicts
	// by it, so they all agree.
	Strategy string `msg:"strategy,omitempty" json:"strategy,omitempty"`
	// Resolvers names per-field resolvers of the merge strategy: "lww" (the
	// default), "max", "min" or "union".
	Resolvers map[string]string `msg:"resolvers,omitempty" json:"resolvers,omitempty"`
	// LSeq is the store's local insertion order. It is assigned by the store,
	// never sent over the wire and never part of the event's identity.
	LSeq int64 `msg:"-" json:"-"`
}

// Conflict strategies.
const (
	StrategyMerge  = "merge"
	StrategyLWW    = "lww"
	StrategyManual = "manual"
)

// Failure records why the server refused an event.
type Failure struct {
	Code    string `msg:"code" json:"code"`
	Message string `msg:"message" json:"message"`
}

// Clone returns a deep copy of e.
func (e *Event) Clone() *Event {
	if e == nil {
		return nil
	}
	c := *e
	c.Data = CloneMap(e.Data)
	if e.Failure != nil {
		f := *e.Failure
		c.Failure = &f
	}
	return &c
}
