package datacollect

// DigestResponse answers GET /api/v1/sync/digest?seq=N: the root of the
// app's event chain after the event with sequence number N (see
// core.Chain), as 64 hex digits. A device whose pull cursor is N holds the
// same events as the server exactly when its own root is this one.
type DigestResponse struct {
	// Seq is the N asked for.
	Seq int64 `msg:"seq" json:"seq"`
	// Root is the chain's root after event N (64 zeros for 0).
	Root string `msg:"root" json:"root"`
}
