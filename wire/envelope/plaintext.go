package envelope

import (
	"slices"

	"github.com/tinylib/msgp/msgp"

	dc "github.com/datacollect/datacollect"
)

// Plaintext returns the MessagePack encoding of data that an envelope
// seals: nil (0xc0) for a nil map, else a map whose keys are sorted at every
// level, so that the encoding of a value is unique. Values are encoded as
// the event's own encoding does (msgp.AppendIntf); a value msgp cannot
// encode is EINVALID.
func Plaintext(data map[string]any) ([]byte, error) {
	if data == nil {
		return msgp.AppendNil(nil), nil
	}
	b, err := appendMap(make([]byte, 0, 64), data)
	if err != nil {
		return nil, dc.Errorf(dc.EINVALID, "seal: data cannot be encoded: %v", err)
	}
	return b, nil
}

func appendMap(b []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = msgp.AppendMapHeader(b, uint32(len(m)))
	var err error
	for _, k := range keys {
		b = msgp.AppendString(b, k)
		if b, err = appendValue(b, m[k]); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return msgp.AppendNil(b), nil
		}
		return appendMap(b, x)
	case []any:
		if x == nil {
			return msgp.AppendNil(b), nil
		}
		b = msgp.AppendArrayHeader(b, uint32(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	return msgp.AppendIntf(b, v)
}

// DecodePlaintext decodes an envelope's plaintext into the Data it sealed:
// nil for MessagePack nil, else a map decoded exactly as the generated
// decoder of dc.Event decodes its data (msgp.ReadIntfBytes per value), so
// numbers, strings and containers get the same Go types as without an
// envelope. Anything else, or trailing bytes, is ECRYPTO (the sealer was
// broken: the envelope did authenticate).
func DecodePlaintext(b []byte) (map[string]any, error) {
	if msgp.IsNil(b) && len(b) == 1 {
		return nil, nil
	}
	// Check the structure first: the decoder allocates what headers claim.
	if rest, err := msgp.Skip(b); err != nil || len(rest) != 0 {
		return nil, dc.Errorf(ECRYPTO, "sealed data is not one MessagePack value")
	}
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return nil, dc.Errorf(ECRYPTO, "sealed data is not a MessagePack map: %v", err)
	}
	m := make(map[string]any, n)
	for ; n > 0; n-- {
		var k string
		var v any
		if k, b, err = msgp.ReadStringBytes(b); err != nil {
			return nil, dc.Errorf(ECRYPTO, "sealed data: bad key: %v", err)
		}
		if v, b, err = msgp.ReadIntfBytes(b); err != nil {
			return nil, dc.Errorf(ECRYPTO, "sealed data: bad value of %q: %v", k, err)
		}
		m[k] = v
	}
	return m, nil
}
