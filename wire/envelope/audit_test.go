package envelope_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire/envelope"
)

func TestAuditRoundTrip(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	key[0] = 7
	c, err := envelope.NewGoCodec("app", key)
	require.NoError(t, err)
	in := []*dc.AuditEntry{
		{GUID: "a1", EntityGUID: "p1", Action: "create-individual", Changes: []dc.FieldChange{
			{Field: "name", New: "Ana"}, {Field: "age", Old: int64(3), New: int64(4)}}},
		{GUID: "a2", EntityGUID: "p2", Action: "sync"},
		nil,
	}
	sealed, err := c.SealAudit(ctx, in)
	require.NoError(t, err)
	assert.Len(t, in[0].Changes, 2, "the input is not changed")
	assert.Nil(t, sealed[0].Changes)
	assert.NotEmpty(t, sealed[0].SealedChanges)
	assert.Same(t, in[1], sealed[1])

	require.NoError(t, c.OpenAudit(ctx, sealed))
	assert.Equal(t, in[0].Changes, sealed[0].Changes)
	assert.Nil(t, sealed[0].SealedChanges)

	// Moved to another entry, or tampered: refused, nothing changed.
	again, err := c.SealAudit(ctx, in[:1])
	require.NoError(t, err)
	moved := *again[0]
	moved.GUID = "a9"
	err = c.OpenAudit(ctx, []*dc.AuditEntry{&moved})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
	assert.Nil(t, moved.Changes)
	bad := *again[0]
	bad.SealedChanges = append([]byte{}, bad.SealedChanges...)
	bad.SealedChanges[len(bad.SealedChanges)-1] ^= 1
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(c.OpenAudit(ctx, []*dc.AuditEntry{&bad})))
	// An event's envelope is not an audit entry's.
	ev, err := c.SealEvents(ctx, []*dc.Event{{GUID: "a1", EntityGUID: "p1", Type: "create-individual", Data: map[string]any{"changes": []any{}}}})
	require.NoError(t, err)
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(c.OpenAudit(ctx, []*dc.AuditEntry{{GUID: "a1", EntityGUID: "p1", Action: "create-individual", SealedChanges: ev[0].Sealed}})))
}
