package server

import (
	"context"
	"net/http"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// pathDigest is the digest endpoint's path.
const pathDigest = "/api/v1/sync/digest"

// rootStore is a server store that keeps the digest of each app's events
// (sqlstore.Store does).
type rootStore interface {
	// Root returns the root of app's event chain after the event with
	// sequence number seq: zero for 0, ENOTFOUND beyond the app's last.
	Root(ctx context.Context, app string, seq int64) ([32]byte, error)
}

// handleDigest answers GET /api/v1/sync/digest?seq=N: the root of the
// app's event chain after event N, which a device compares with its own to
// prove that it holds the same events (see core.Chain). It changes nothing
// and is not audited. A seq that is not a non-negative integer is
// EINVALID, one beyond the app's last event ENOTFOUND; a store without
// digests is answered 501.
func (s *Server) handleDigest(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	seq, err := cursorParam(r.URL.Query(), "seq")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rs, ok := s.store.(rootStore)
	if !ok {
		s.write(w, r, http.StatusNotImplemented, &dc.ErrorResponse{Code: dc.EINTERNAL, Message: "this server's store keeps no digest"})
		return
	}
	root, err := rs.Root(r.Context(), c.App, seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, &dc.DigestResponse{Seq: seq, Root: core.RootHex(root)})
}
