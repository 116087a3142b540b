package datacollect

// AuditEntry records one change: who did what, when, through which event, to
// which entity, and which fields changed. Sync operations are audited too
// (Action "sync", "push" or "pull", on the device and on the server): they
// name no event but the device, the number of entities affected, the
// duration, the status ("ok" or "error") and the error.
type AuditEntry struct {
	// ID is assigned by the store in insertion order; 0 before it is stored.
	ID         int64         `msg:"-" json:"id"`
	GUID       string        `msg:"guid" json:"guid"`
	Timestamp  string        `msg:"timestamp" json:"timestamp"`
	UserID     string        `msg:"userId" json:"userId"`
	Action     string        `msg:"action" json:"action"`
	EventGUID  string        `msg:"eventGuid" json:"eventGuid,omitempty"`
	EntityGUID string        `msg:"entityGuid" json:"entityGuid,omitempty"`
	Changes    []FieldChange `msg:"changes" json:"changes,omitempty"`
	// SealedChanges, on the wire only, are Changes sealed in an AES-GCM
	// envelope under the app's key (package wire/envelope); Changes is
	// then nil. Stores never hold it.
	SealedChanges []byte `msg:"sealedChanges,omitempty" json:"sealedChanges,omitempty"`

	DeviceID   string `msg:"deviceId,omitempty" json:"deviceId,omitempty"`
	Entities   int    `msg:"entities,omitempty" json:"entities,omitempty"`
	Events     int    `msg:"events,omitempty" json:"events,omitempty"`
	DurationMs int64  `msg:"durationMs,omitempty" json:"durationMs,omitempty"`
	Status     string `msg:"status,omitempty" json:"status,omitempty"`
	Error      string `msg:"error,omitempty" json:"error,omitempty"`

	// Hash, on the server's audit entries of an app, is the hex SHA-256
	// chaining the entry to the previous one (see core.AuditHash): the
	// entries form a tamper-evident chain in the order of record.
	Hash string `msg:"hash,omitempty" json:"hash,omitempty"`
}

// Sync audit actions and statuses.
const (
	AuditSync  = "sync" // a device's whole sync (push then pull)
	AuditPush  = "push" // one push request, audited by the server
	AuditPull  = "pull" // one pull request, audited by the server
	AuditOK    = "ok"
	AuditError = "error"
)

// FieldChange is one field's value before and after a change. A nil Old
// means the field was added, a nil New that it was removed.
type FieldChange struct {
	Field string `msg:"field" json:"field"`
	Old   any    `msg:"old" json:"old"`
	New   any    `msg:"new" json:"new"`
}
