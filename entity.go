package datacollect

// EntityType is the kind of an entity.
type EntityType string

// The built-in entity types.
const (
	Individual EntityType = "individual"
	Group      EntityType = "group"
)

// Entity is the state that events build: a person or a group of entities
// (a household, with members that may be individuals or sub-groups).
type Entity struct {
	GUID string     `msg:"guid" json:"guid"`
	Type EntityType `msg:"type" json:"type"`
	// Version counts the events applied to the entity.
	Version int64 `msg:"version" json:"version"`
	// Data holds the entity's fields, merged from its events.
	Data map[string]any `msg:"data" json:"data"`
	// MemberIDs lists a group's members in the order they were added.
	MemberIDs []string `msg:"memberIds" json:"memberIds,omitempty"`
	// ExternalID is the id the entity has in an external registry, if any.
	ExternalID string `msg:"externalId" json:"externalId,omitempty"`
	// LastUpdated is the timestamp of the last event applied.
	LastUpdated string `msg:"lastUpdated" json:"lastUpdated"`
	// SyncLevel is LOCAL while some applied event is not yet synced.
	SyncLevel SyncLevel `msg:"syncLevel" json:"syncLevel"`
	// Deleted marks a tombstone, kept so that deletes sync.
	Deleted bool `msg:"deleted" json:"deleted,omitempty"`
	// Stamps record, per field, the event that last wrote it; the key ""
	// stands for the entity as a whole and "deleted" for its deletion.
	// Conflict detection and resolution read them.
	Stamps map[string]Stamp `msg:"stamps,omitempty" json:"-"`
	// Conflicts are the open conflicts of the manual strategy, each resolved
	// by a resolve-conflict event.
	Conflicts []Conflict `msg:"conflicts,omitempty" json:"conflicts,omitempty"`
	// Distinct lists the entities a resolve-duplicate "keep" declared not
	// to be duplicates of this one.
	Distinct []string `msg:"distinct,omitempty" json:"distinct,omitempty"`
	// DupKey is the entity's duplicate-detection key (see core.DupKeys),
	// "" when a key field is missing. It depends on the replica's key
	// configuration, so it is not replicated: the client sets it before
	// each commit and stores index it.
	DupKey string `msg:"-" json:"-"`
}

// Stamp identifies the event that wrote a field, for conflict resolution.
type Stamp struct {
	HLC    string `msg:"h"`
	Event  string `msg:"e"`
	Device string `msg:"d"`
	// Seq is the event's server sequence number (0 while pending).
	Seq int64 `msg:"s"`
	// Base is the event's BaseVersion (the LWW tie-break after HLC).
	Base int64 `msg:"b"`
}

// Conflict is an open conflict of the manual strategy: two concurrent events
// wrote one field. Until it is resolved the field holds the last-writer-wins
// value (the same on every replica).
type Conflict struct {
	// ID is "<event guid>:<field>" of the event that met the conflict.
	ID    string `msg:"id" json:"id"`
	Field string `msg:"field" json:"field"`
	// Current is the side that held the field; Incoming the concurrent
	// event that arrived later in the order of record.
	Current  ConflictSide `msg:"current" json:"current"`
	Incoming ConflictSide `msg:"incoming" json:"incoming"`
}

// ConflictSide is one side of a conflict: a value (nil: the field was
// absent or removed; for the field "deleted", true or false) and the event
// that wrote it.
type ConflictSide struct {
	Value  any    `msg:"value" json:"value"`
	Event  string `msg:"event" json:"event"`
	Device string `msg:"device" json:"device"`
	HLC    string `msg:"hlc" json:"hlc"`
}

// Clone returns a deep copy of e.
func (e *Entity) Clone() *Entity {
	if e == nil {
		return nil
	}
	c := *e
	c.Data = CloneMap(e.Data)
	if e.MemberIDs != nil {
		c.MemberIDs = append([]string(nil), e.MemberIDs...)
	}
	if e.Distinct != nil {
		c.Distinct = append([]string(nil), e.Distinct...)
	}
	if e.Stamps != nil {
		c.Stamps = make(map[string]Stamp, len(e.Stamps))
		for k, v := range e.Stamps {
			c.Stamps[k] = v
		}
	}
	if e.Conflicts != nil {
		c.Conflicts = make([]Conflict, len(e.Conflicts))
		for i, x := range e.Conflicts {
			x.Current.Value, x.Incoming.Value = CloneValue(x.Current.Value), CloneValue(x.Incoming.Value)
			c.Conflicts[i] = x
		}
	}
	return &c
}

// HasMember reports whether guid is a member of the group.
func (e *Entity) HasMember(guid string) bool {
	for _, m := range e.MemberIDs {
		if m == guid {
			return true
		}
	}
	return false
}

// EntityRecord is how a store keeps an entity: as last confirmed by the
// server (Confirmed, nil until then) and as it is now with local changes on
// top (Current). The reference system calls this pair initial/modified.
type EntityRecord struct {
	GUID      string  `msg:"guid" json:"guid"`
	Confirmed *Entity `msg:"confirmed" json:"confirmed"`
	Current   *Entity `msg:"current" json:"current"`
	// Pending lists, in local order, the guids of the events not yet
	// confirmed by a pull that made Current differ from Confirmed.
	Pending []string `msg:"pending" json:"pending,omitempty"`
	// Rev is the store's revision of this record, incremented by every write.
	// It is the precondition of optimistic commits (see Batch).
	Rev int64 `msg:"-" json:"-"`
}

// Clone returns a deep copy of r.
func (r *EntityRecord) Clone() *EntityRecord {
	if r == nil {
		return nil
	}
	c := *r
	c.Confirmed = r.Confirmed.Clone()
	c.Current = r.Current.Clone()
	if r.Pending != nil {
		c.Pending = append([]string(nil), r.Pending...)
	}
	return &c
}
