package httpsync

import (
	"context"
	"net/http"
	"strconv"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// pathDigest is the digest endpoint's path (docs/protocol.md).
const pathDigest = "/api/v1/sync/digest"

var _ client.RootTransport = (*Client)(nil)

// Root implements client.RootTransport: the server's digest root (hex)
// after the app's event with sequence number seq.
func (c *Client) Root(ctx context.Context, seq int64) (string, error) {
	var resp dc.DigestResponse
	if err := c.do(ctx, http.MethodGet, pathDigest+"?seq="+strconv.FormatInt(seq, 10), nil, &resp, true); err != nil {
		return "", err
	}
	if resp.Seq != seq {
		return "", dc.Errorf(dc.EINTERNAL, "digest: asked for the root after %d, got the one after %d", seq, resp.Seq)
	}
	return resp.Root, nil
}
