package client

import (
	"context"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// The audit chain on the device. The server's audit entries of an app form
// a hash chain in the order pulls deliver them (see core.AuditHash). The
// device keeps the hash of the last entry it pulled (the audit head) in
// its metadata, stored in the commit that applies each pull page, and
// checks every entry a page brings against the chain continued from it: an
// entry altered, inserted or removed on the server since the device pulled
// the ones before it makes the page fail, and nothing of it is applied.
//
// A server that sends entries without hashes (older than the chain) is not
// checked. A device without a head past cursor 0 (it pulled before the
// chain existed) trusts the first chained entry it pulls and checks the
// chain from there. An entry whose event is not in the page cannot be
// checked (its hash covers the event's seq): the chain continues from the
// hash it carries.

// auditHeadKey is the metadata key of the device's audit head: the hash of
// the last server audit entry pulled, in hex.
const auditHeadKey = "audit.head"

// AuditHead returns the hash of the last server audit entry the device
// pulled and checked, "" if none.
func (c *Client) AuditHead(ctx context.Context) (string, error) {
	v, _, err := c.store.Meta(ctx, auditHeadKey)
	if err != nil {
		return "", err
	}
	return string(v), nil
}

// chainAudit checks the chain of page's audit entries, continued from the
// device's audit head, and adds the new head to b, the commit that applies
// page. A broken link is EINTERNAL: the page must not be applied.
func (c *Client) chainAudit(ctx context.Context, b *dc.Batch, page *dc.PullResponse) error {
	hashed := 0
	for _, a := range page.Audit {
		if a.Hash != "" {
			hashed++
		}
	}
	if hashed == 0 {
		return nil // nothing chained: an older server, or no entries
	}
	seqs := make(map[string]int64, len(page.Events))
	for _, ev := range page.Events {
		seqs[ev.GUID] = ev.Seq
	}
	head, err := c.AuditHead(ctx)
	if err != nil {
		return err
	}
	// Trust on first use: no head, and entries before this page.
	first := head == "" && len(page.Events) > 0 && page.Events[0].Seq != 1
	for i, a := range page.Audit {
		seq, ok := seqs[a.EventGUID]
		if (i == 0 && first || !ok) && a.Hash != "" {
			// Taken as is: the first entry after an unknown head, or one
			// whose event the page lacks (its seq, which the hash covers,
			// is unknown; a real server sends the events of its entries).
			head = a.Hash
			continue
		}
		if want := core.AuditHash(head, a, seq); a.Hash != want {
			return dc.Errorf(dc.EINTERNAL, "audit chain broken at entry %s (event seq %d): the server's audit log was altered", a.GUID, seq)
		}
		head = a.Hash
	}
	b.Meta[auditHeadKey] = []byte(head)
	return nil
}
