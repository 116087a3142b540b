package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sync"

	dc "github.com/datacollect/datacollect"
)

// The digest of a replica's confirmed events: proof that two replicas hold
// the same history.
//
// Every replica holds the app's confirmed events with Seq <= its pull
// cursor, and the server's sequence numbers are one order of record that
// every replica shares. The digest is therefore a hash chain over that
// order rather than a Merkle tree over a set:
//
//	root(0) = 32 zero bytes
//	root(n) = SHA-256(root(n-1) || EventHash(event n))
//
// root(n) commits to the whole prefix of events 1..n, it costs one hash
// per event when the event is stored (never a rebuild), and two replicas
// with the same cursor compare their roots in one request. A Merkle tree
// would only pay off if replicas held the same events in different orders,
// or compared arbitrary subsets; they compare prefixes of one order.
//
// A divergence is localised by binary search: the server keeps root(n)
// beside every event n, and "root(k) differs" is monotone in k (once two
// chains differ they never meet again, short of a SHA-256 collision), so a
// replica that recomputes its own per-seq roots finds the first differing
// sequence number in O(log n) requests, and re-pulls from there.
//
// EventHash covers what every replica holds identically of a confirmed
// event: its identity, its content and the server's stamps, but not the
// replica's bookkeeping (SyncLevel, Failure, LSeq). The encoding is
// canonical and unambiguous: every value is typed and length-prefixed, map
// keys are sorted, numbers are float64 (Data's only number type after
// dc.NormalizeMap: an int64 from MessagePack hashes as the float64 of the
// same value), and a nil map hashes as an empty one.

// Root is a digest root: the chain's value after some sequence number.
type Root = [32]byte

// ZeroRoot is the root at cursor 0, before any event.
var ZeroRoot Root

// eventHashV1 separates this encoding from any other use of SHA-256.
const eventHashV1 = "datacollect/event/v1\x00"

// EventHash returns the SHA-256 of the canonical encoding of a confirmed
// event: Seq, GUID, EntityGUID, Type, UserID, Timestamp, HLC, Device,
// BaseSeq, BaseVersion, Strategy, Resolvers (sorted by field) and Data
// (keys sorted at every level, numbers as float64). SyncLevel, Failure and
// LSeq, which differ between replicas, are left out.
func EventHash(ev *dc.Event) [32]byte {
	bp := encodeBufs.Get().(*[]byte)
	b := append((*bp)[:0], eventHashV1...)
	b = appendInt(b, ev.Seq)
	b = appendString(b, ev.GUID)
	b = appendString(b, ev.EntityGUID)
	b = appendString(b, ev.Type)
	b = appendString(b, ev.UserID)
	b = appendString(b, ev.Timestamp)
	b = appendString(b, ev.HLC)
	b = appendString(b, ev.Device)
	b = appendInt(b, ev.BaseSeq)
	b = appendInt(b, ev.BaseVersion)
	b = appendString(b, ev.Strategy)
	b = append(b, 'm')
	b = appendLen(b, len(ev.Resolvers))
	for _, k := range dc.SortedKeys(ev.Resolvers) {
		b = appendString(b, k)
		b = appendString(b, ev.Resolvers[k])
	}
	b = appendMap(b, ev.Data)
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 { // keep no huge buffer
		*bp = b
		encodeBufs.Put(bp)
	}
	return sum
}

// encodeBufs recycles the encoding buffers of EventHash.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Chain returns the root after ev given the root before it:
// SHA-256(prev || EventHash(ev)). It costs two SHA-256 blocks plus the
// event's encoding.
func Chain(prev Root, ev *dc.Event) Root {
	h := EventHash(ev)
	var buf [64]byte
	copy(buf[:32], prev[:])
	copy(buf[32:], h[:])
	return sha256.Sum256(buf[:])
}

// ChainAll returns the root after events, in order, starting from prev.
func ChainAll(prev Root, events []*dc.Event) Root {
	for _, ev := range events {
		prev = Chain(prev, ev)
	}
	return prev
}

// RootHex is a root as the wire carries it: 64 lower-case hex digits.
func RootHex(r Root) string { return hex.EncodeToString(r[:]) }

// ParseRoot parses a root in hex; anything but 64 hex digits is EINVALID.
func ParseRoot(s string) (Root, error) {
	var r Root
	if len(s) != 2*len(r) {
		return r, dc.Errorf(dc.EINVALID, "digest root %q is not 64 hex digits", s)
	}
	if _, err := hex.Decode(r[:], []byte(s)); err != nil {
		return r, dc.Errorf(dc.EINVALID, "digest root %q is not 64 hex digits", s)
	}
	return r, nil
}

// RootOf reads a root from its 32 stored bytes; nil or empty bytes are
// ZeroRoot (a database NULL), any other length is ESTORE.
func RootOf(b []byte) (Root, error) {
	var r Root
	switch len(b) {
	case 0:
		return r, nil
	case len(r):
		copy(r[:], b)
		return r, nil
	default:
		return r, dc.Errorf(dc.ESTORE, "corrupt digest root: %d bytes", len(b))
	}
}

// Value tags of the canonical encoding.
const (
	tagNil    = 'n'
	tagFalse  = 'f'
	tagTrue   = 't'
	tagNumber = 'd'
	tagString = 's'
	tagArray  = 'a'
	tagMap    = 'm'
	tagInt    = 'i'
	tagOther  = 'x'
)

func appendLen(b []byte, n int) []byte { return binary.BigEndian.AppendUint64(b, uint64(n)) }

func appendInt(b []byte, n int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, tagInt), uint64(n))
}

func appendString(b []byte, s string) []byte {
	return append(appendLen(append(b, tagString), len(s)), s...)
}

func appendNumber(b []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 and 0 are one number in JSON
	}
	return binary.BigEndian.AppendUint64(append(b, tagNumber), math.Float64bits(f))
}

func appendMap(b []byte, m map[string]any) []byte {
	b = appendLen(append(b, tagMap), len(m))
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendString(b, k)
		b = appendValue(b, m[k])
	}
	return b
}

// appendValue encodes a JSON-like value. Values that dc.NormalizeValue
// converts (other number types, []string, typed nil containers) encode as
// what they normalise to, so a replica hashes the same whichever decoder
// produced the value.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil)
	case bool:
		if x {
			return append(b, tagTrue)
		}
		return append(b, tagFalse)
	case string:
		return appendString(b, x)
	case float64:
		return appendNumber(b, x)
	case float32:
		return appendNumber(b, float64(x))
	case int:
		return appendNumber(b, float64(x))
	case int8:
		return appendNumber(b, float64(x))
	case int16:
		return appendNumber(b, float64(x))
	case int32:
		return appendNumber(b, float64(x))
	case int64:
		return appendNumber(b, float64(x))
	case uint:
		return appendNumber(b, float64(x))
	case uint8:
		return appendNumber(b, float64(x))
	case uint16:
		return appendNumber(b, float64(x))
	case uint32:
		return appendNumber(b, float64(x))
	case uint64:
		return appendNumber(b, float64(x))
	case map[string]any:
		if x == nil {
			return append(b, tagNil)
		}
		return appendMap(b, x)
	case []any:
		if x == nil {
			return append(b, tagNil)
		}
		b = appendLen(append(b, tagArray), len(x))
		for _, e := range x {
			b = appendValue(b, e)
		}
		return b
	case []string:
		b = appendLen(append(b, tagArray), len(x))
		for _, e := range x {
			b = appendString(b, e)
		}
		return b
	default:
		// Not JSON-like (the applier refuses such data): hash something
		// deterministic rather than fail.
		return appendString(append(b, tagOther), fmt.Sprintf("%T:%v", v, v))
	}
}
