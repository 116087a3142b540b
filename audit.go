package datacollect

// AuditEntry records one change: who did what, when, through which event, to
// which entity, and which fields changed.
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
}

// FieldChange is one field's value before and after a change. A nil Old
// means the field was added, a nil New that it was removed.
type FieldChange struct {
	Field string `msg:"field" json:"field"`
	Old   any    `msg:"old" json:"old"`
	New   any    `msg:"new" json:"new"`
}
