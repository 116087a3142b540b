//go:build js && wasm

package syncjs

import (
	"context"
	"strconv"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// pathDigest is the digest endpoint's path (docs/protocol.md).
const pathDigest = "/api/v1/sync/digest"

var _ client.RootTransport = (*FetchTransport)(nil)

// Root implements client.RootTransport: the server's digest root (hex)
// after the app's event with sequence number seq.
func (t *FetchTransport) Root(ctx context.Context, seq int64) (string, error) {
	var resp dc.DigestResponse
	if err := t.do(ctx, "GET", pathDigest+"?seq="+strconv.FormatInt(seq, 10), nil, &resp, true); err != nil {
		return "", err
	}
	if resp.Seq != seq {
		return "", dc.Errorf(dc.EINTERNAL, "digest: asked for the root after %d, got the one after %d", seq, resp.Seq)
	}
	return resp.Root, nil
}

// verify is verify(): it proves that this device holds the server's events
// up to its cursor, repairing it if not, and resolves to {match, localRoot,
// serverRoot, cursor, repaired, divergedAt, refetched}.
func (a *API) verify(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.c.Verify(ctx, p.t) })(args)
}
