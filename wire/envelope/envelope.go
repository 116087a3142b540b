// Package envelope seals event payloads (Event.Data) for the wire in an
// AES-256-GCM envelope under the app's key, which the server hands to
// every device at login. It is a layer in addition to TLS: a proxy that
// terminates TLS, a log of bodies or a cache sees envelopes, not data.
//
// An envelope (Event.Sealed) is
//
//	"DCE1" | key id (4 bytes) | IV (12 bytes) | AES-256-GCM ciphertext and 16-byte tag
//
// where the key id is the first 4 bytes of the key's SHA-256 (its hex form is
// LoginResponse.AppKeyID) and the plaintext is the MessagePack encoding of
// Event.Data, keys sorted at every level (so that sealing is deterministic
// for a given IV): the nil of MessagePack (0xc0) when Data is nil, else a
// map of string keys whose values decode with msgp.ReadIntfBytes, exactly as
// when the event's own MessagePack is decoded. The additional authenticated
// data binds the envelope to its context:
//
//	"DCE1" | key id | len32(app) app | len32(guid) guid | len32(entityGuid) entityGuid | len32(type) type
//
// with len32 a 4-byte big-endian length. An envelope pasted into another
// event, another entity, another app or under another type fails
// authentication.
//
// The Go side builds the header, the AAD and the plaintext; the AES-GCM
// primitive is the AEAD interface, implemented here with crypto/aes and in
// the browser with WebCrypto (package syncjs), so that both sides share one
// format and pass the same test vectors (package envtest).
package envelope

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strconv"

	dc "github.com/datacollect/datacollect"
)

// Format constants.
const (
	// Magic starts every envelope; its last character is the format version.
	Magic = "DCE1"
	// KeyIDSize is the size of the key id in the header.
	KeyIDSize = 4
	// IVSize is the size of the AES-GCM nonce.
	IVSize = 12
	// TagSize is the size of the AES-GCM authentication tag.
	TagSize = 16
	// KeySize is the size of an app key (AES-256).
	KeySize = 32
	// HeaderSize is the size of magic, key id and IV.
	HeaderSize = len(Magic) + KeyIDSize + IVSize
	// Overhead is what sealing adds to the plaintext.
	Overhead = HeaderSize + TagSize
	// MaxSize bounds an envelope. It is the server's default request body
	// limit (server.Config.MaxBodyBytes): no larger envelope can reach a
	// server in a request, so Seal refuses to make one (ETOOLARGE) and Open
	// refuses one (ECRYPTO) before decrypting.
	MaxSize = 8 << 20
)

// HTTP headers of the envelope protocol.
const (
	// HeaderEnvelope, set to "1" on a pull, asks the server to seal the
	// events' data in the answer (a server in required mode always does).
	HeaderEnvelope = "X-Envelope"
	// HeaderKeyID, optional on a pull, names the key id the device holds;
	// a server whose key differs refuses the pull with ECRYPTO.
	HeaderKeyID = "X-Envelope-Key"
)

// ECRYPTO is the code of every envelope error.
const ECRYPTO = dc.ECRYPTO

// Op is one AES-GCM operation of a batch: In is the plaintext (seal) or the
// ciphertext with its tag (open); the AEAD sets Out, or Err when opening
// fails to authenticate. IV and AAD are never nil.
type Op struct {
	IV, AAD, In []byte
	Out         []byte
	Err         error
}

// AEAD is AES-256-GCM under one key, with a 12-byte IV and a 16-byte tag,
// over batches: an implementation may run a batch's operations
// concurrently (the browser's WebCrypto does). Seal fills every op's Out;
// Open fills Out or, when an op does not authenticate, its Err. Either
// returns an error only when the batch as a whole could not run (a
// cancelled ctx, a broken primitive).
type AEAD interface {
	Seal(ctx context.Context, ops []Op) error
	Open(ctx context.Context, ops []Op) error
}

// KeyID returns the identifier of key: the hex of the first 4 bytes of its
// SHA-256, as the server hands it out (LoginResponse.AppKeyID).
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:KeyIDSize])
}

// parseKeyID decodes an 8-hex-digit key id.
func parseKeyID(id string) ([KeyIDSize]byte, error) {
	var k [KeyIDSize]byte
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != KeyIDSize {
		return k, dc.Errorf(ECRYPTO, "envelope key id %q is not %d hex digits", id, 2*KeyIDSize)
	}
	copy(k[:], b)
	return k, nil
}

// AAD returns the additional authenticated data of ev's envelope in app
// under the key keyID (see the package documentation).
func AAD(keyID [KeyIDSize]byte, app string, ev *dc.Event) []byte {
	n := len(Magic) + KeyIDSize + 16 + len(app) + len(ev.GUID) + len(ev.EntityGUID) + len(ev.Type)
	b := make([]byte, 0, n)
	b = append(b, Magic...)
	b = append(b, keyID[:]...)
	for _, s := range []string{app, ev.GUID, ev.EntityGUID, ev.Type} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Codec seals and opens the events of one app under one key. It is safe
// for concurrent use.
type Codec struct {
	app   string
	id    string
	keyID [KeyIDSize]byte
	aead  AEAD
	rand  io.Reader
}

// NewCodec returns a Codec for app's events under the key identified by
// keyID (8 hex digits, see KeyID), whose primitive is aead.
func NewCodec(app, keyID string, aead AEAD) (*Codec, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return nil, err
	}
	if aead == nil {
		return nil, dc.Errorf(ECRYPTO, "envelope codec without an AEAD")
	}
	return &Codec{app: app, id: keyID, keyID: id, aead: aead, rand: rand.Reader}, nil
}

// NewGoCodec returns a Codec over crypto/aes for app under key, whose id is
// computed (KeyID). A key that is not 32 bytes is ECRYPTO.
func NewGoCodec(app string, key []byte) (*Codec, error) {
	a, err := NewAESGCM(key)
	if err != nil {
		return nil, err
	}
	return NewCodec(app, KeyID(key), a)
}

// KeyID returns the id of the codec's key.
func (c *Codec) KeyID() string { return c.id }

// App returns the codec's app.
func (c *Codec) App() string { return c.app }

// IsSealed reports whether ev carries an envelope.
func IsSealed(ev *dc.Event) bool { return ev != nil && len(ev.Sealed) > 0 }

// SealEvents returns evs with their Data sealed: a new slice of shallow
// copies, each with Sealed set and Data nil; evs and its events are not
// changed. Nil events stay nil and events already sealed are passed as
// they are. IVs are random (crypto/rand). A Data that cannot be encoded is
// EINVALID, one whose envelope would exceed MaxSize ETOOLARGE.
func (c *Codec) SealEvents(ctx context.Context, evs []*dc.Event) ([]*dc.Event, error) {
	return c.seal(ctx, evs, nil)
}

// SealEventsIV is SealEvents with the given IVs, one per event (of IVSize
// bytes; the entries of nil and already sealed events are not used). It is
// for test vectors: an IV must never be reused under one key.
func (c *Codec) SealEventsIV(ctx context.Context, evs []*dc.Event, ivs [][]byte) ([]*dc.Event, error) {
	if len(ivs) != len(evs) {
		return nil, dc.Errorf(dc.EINVALID, "seal: %d IVs for %d events", len(ivs), len(evs))
	}
	return c.seal(ctx, evs, ivs)
}

func (c *Codec) seal(ctx context.Context, evs []*dc.Event, ivs [][]byte) ([]*dc.Event, error) {
	out := make([]*dc.Event, len(evs))
	ops := make([]Op, 0, len(evs))
	idx := make([]int, 0, len(evs))
	for i, ev := range evs {
		if ev == nil || IsSealed(ev) {
			out[i] = ev
			continue
		}
		pt, err := Plaintext(ev.Data)
		if err != nil {
			return nil, where(i, ev, err)
		}
		if len(pt)+Overhead > MaxSize {
			return nil, where(i, ev, dc.Errorf(dc.ETOOLARGE, "sealed data would take %d bytes; at most %d", len(pt)+Overhead, MaxSize))
		}
		iv := make([]byte, IVSize)
		if ivs != nil {
			if len(ivs[i]) != IVSize {
				return nil, where(i, ev, dc.Errorf(ECRYPTO, "IV of %d bytes, want %d", len(ivs[i]), IVSize))
			}
			copy(iv, ivs[i])
		} else if _, err := io.ReadFull(c.rand, iv); err != nil {
			return nil, dc.Errorf(ECRYPTO, "seal: random IV: %v", err)
		}
		ops = append(ops, Op{IV: iv, AAD: AAD(c.keyID, c.app, ev), In: pt})
		idx = append(idx, i)
	}
	if len(ops) > 0 {
		if err := c.aead.Seal(ctx, ops); err != nil {
			return nil, batchErr("seal", err)
		}
	}
	for j, op := range ops {
		i := idx[j]
		if len(op.Out) != len(op.In)+TagSize {
			return nil, where(i, evs[i], dc.Errorf(ECRYPTO, "AES-GCM sealed %d bytes into %d, want %d", len(op.In), len(op.Out), len(op.In)+TagSize))
		}
		env := make([]byte, 0, HeaderSize+len(op.Out))
		env = append(env, Magic...)
		env = append(env, c.keyID[:]...)
		env = append(env, op.IV...)
		env = append(env, op.Out...)
		ev := *evs[i]
		ev.Sealed, ev.Data = env, nil
		out[i] = &ev
	}
	return out, nil
}

// OpenEvents opens, in place, the envelope of every sealed event of evs:
// Data is set to what was sealed and Sealed cleared. Plain events (no
// Sealed) and nil ones are left alone. The first event that fails is
// ECRYPTO naming it and why (bad magic, truncated, another key, failed
// authentication: tampered or moved to another event, entity, type or
// app); then no event of evs is changed.
func (c *Codec) OpenEvents(ctx context.Context, evs []*dc.Event) error {
	ops := make([]Op, 0, len(evs))
	idx := make([]int, 0, len(evs))
	for i, ev := range evs {
		if !IsSealed(ev) {
			continue
		}
		// MessagePack carries a nil Data as an empty map: only a
		// non-empty one is plain data.
		if len(ev.Data) != 0 {
			return where(i, ev, dc.Errorf(ECRYPTO, "a sealed event must not also carry plain data"))
		}
		iv, ct, err := c.parse(ev.Sealed)
		if err != nil {
			return where(i, ev, err)
		}
		ops = append(ops, Op{IV: iv, AAD: AAD(c.keyID, c.app, ev), In: ct})
		idx = append(idx, i)
	}
	if len(ops) == 0 {
		return nil
	}
	if err := c.aead.Open(ctx, ops); err != nil {
		return batchErr("open", err)
	}
	data := make([]map[string]any, len(ops))
	for j, op := range ops {
		i := idx[j]
		if op.Err != nil {
			return where(i, evs[i], dc.Errorf(ECRYPTO, "envelope does not authenticate: tampered, sealed under another key, or moved from another event, entity, type or app"))
		}
		d, err := DecodePlaintext(op.Out)
		if err != nil {
			return where(i, evs[i], err)
		}
		data[j] = d
	}
	for j, i := range idx {
		evs[i].Data, evs[i].Sealed = data[j], nil
	}
	return nil
}

// parse checks an envelope's header and returns its IV and ciphertext.
func (c *Codec) parse(env []byte) (iv, ct []byte, err error) {
	switch {
	case len(env) > MaxSize:
		return nil, nil, dc.Errorf(ECRYPTO, "envelope of %d bytes exceeds %d", len(env), MaxSize)
	case len(env) < len(Magic) || string(env[:len(Magic)]) != Magic:
		return nil, nil, dc.Errorf(ECRYPTO, "not an envelope: bad magic (want %q)", Magic)
	case len(env) < Overhead:
		return nil, nil, dc.Errorf(ECRYPTO, "truncated envelope: %d bytes, at least %d", len(env), Overhead)
	}
	if id := env[len(Magic) : len(Magic)+KeyIDSize]; string(id) != string(c.keyID[:]) {
		return nil, nil, dc.Errorf(ECRYPTO, "envelope sealed under key %x, this key is %s: log in again to get the app's key", id, c.id)
	}
	return env[len(Magic)+KeyIDSize : HeaderSize], env[HeaderSize:], nil
}

// where prefixes err with the event it is about, keeping its code.
func where(i int, ev *dc.Event, err error) error {
	return &dc.Error{Code: dc.ErrorCode(err), Message: "event " + strconv.Itoa(i) + " (" + ev.GUID + "): " + dc.ErrorMessage(err)}
}

// batchErr wraps the error of a whole batch: a context's error as it is,
// anything else as ECRYPTO.
func batchErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return dc.Errorf(ECRYPTO, "%s: %s", op, dc.ErrorMessage(err))
}
