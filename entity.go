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
