//go:build js && wasm

package idbstore

import (
	"context"
	"encoding/binary"

	dc "github.com/datacollect/datacollect"
)

// A Cipher encrypts the store's payloads at rest. The browser's is AES-GCM
// under a non-extractable WebCrypto key (package syncjs); the store only
// frames its output. Each method takes a whole batch, so that an
// asynchronous implementation waits once per batch, not once per record.
type Cipher interface {
	// Seal encrypts each plain[i], authenticating aad[i] with it, under a
	// fresh random IV, and returns the IV and ciphertext together.
	Seal(plain, aad [][]byte) ([][]byte, error)
	// Open reverses Seal; a ciphertext that fails authentication (tampered,
	// another key, another aad) is an error.
	Open(sealed, aad [][]byte) ([][]byte, error)
	// Hash returns a keyed hash of each key, as an index key that reveals
	// nothing of the key without the cipher's secret.
	Hash(keys []string) ([]string, error)
}

// sealedMark is the first byte of an encrypted payload; a clear payload
// starts with payload.Version (1).
const sealedMark = 0xE1

// Clear metadata: the encryption's parameters (salt, iterations, key
// check), opaque to the store, and the marker of an unfinished encryption
// of an existing database.
const (
	MetaCrypto      = "crypto"
	metaCryptoMigr  = "crypto.migrate"
	aadEventPrefix  = "e:"
	aadEntityPrefix = "n:"
	aadMetaPrefix   = "m:"
	aadAudit        = "a"
)

// clearMeta reports whether the metadata key k is kept in clear: the
// encryption's parameters and the store's migration markers, which are
// read before any key exists.
func clearMeta(k string) bool {
	return k == MetaCrypto || k == metaCryptoMigr || k == metaMigrateFailed || k == metaMigrateConflicted
}

func errTampered(what string) *dc.Error {
	return dc.Errorf(dc.ECRYPTO, "%s fails authentication: it was tampered with, or sealed under another key", what)
}

func errPlain(what string) *dc.Error {
	return dc.Errorf(dc.ECRYPTO, "%s is not encrypted in an encrypted database: it was tampered with", what)
}

// sealer gathers the payloads of one batch to seal them together.
type sealer struct {
	plain, aad [][]byte
}

func (z *sealer) add(p []byte, aad string) int {
	z.plain = append(z.plain, p)
	z.aad = append(z.aad, []byte(aad))
	return len(z.plain) - 1
}

// seal seals everything added and frames each result.
func (z *sealer) seal(c Cipher) ([][]byte, error) {
	if len(z.plain) == 0 {
		return nil, nil
	}
	out, err := c.Seal(z.plain, z.aad)
	if err != nil {
		return nil, cryptoErr(err, "cannot encrypt")
	}
	if len(out) != len(z.plain) {
		return nil, dc.Errorf(dc.EINTERNAL, "cipher sealed %d of %d payloads", len(out), len(z.plain))
	}
	for i, b := range out {
		out[i] = append([]byte{sealedMark}, b...)
	}
	return out, nil
}

// cryptoErr keeps a dc.Error's code and makes other errors ECRYPTO.
func cryptoErr(err error, what string) error {
	if dc.ErrorCode(err) != "" && dc.ErrorCode(err) != dc.EINTERNAL {
		return err
	}
	return dc.Errorf(dc.ECRYPTO, "%s: %v", what, err)
}

// entityPlain is what an entity record's ciphertext holds: its duplicate
// key (which the clear record only holds hashed), then its payload.
func entityPlain(dupKey string, payload []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(dupKey)+len(payload)+2), uint64(len(dupKey)))
	return append(append(b, dupKey...), payload...)
}

func splitEntityPlain(b []byte) (dupKey string, payload []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// sealedBatch holds a batch's sealed payloads, in the order of the batch's
// slices, and its entities' hashed duplicate keys; nil without a cipher.
type sealedBatch struct {
	newEvents, updEvents, entities, audit [][]byte
	dupKeys                               []string // hashed, per entity ("" when none)
	meta                                  map[string][]byte
}

// sealBatch encrypts everything b writes. merged maps the guid of an event
// new in b to its last update in b, which is what gets written.
func (s *Store) sealBatch(b *dc.Batch, merged map[string]*dc.Event) (*sealedBatch, error) {
	c := s.cipher
	if c == nil {
		return nil, nil
	}
	var z sealer
	out := &sealedBatch{}
	var buf []byte
	var err error
	encode := func(what, guid string, f func() ([]byte, error)) ([]byte, error) {
		p, err := f()
		if err != nil {
			return nil, encodeErr(what, guid, err)
		}
		return p, nil
	}
	for _, e := range b.NewEvents {
		src := e
		if m := merged[e.GUID]; m != nil {
			src = m
		}
		if buf, err = encode("event", src.GUID, func() ([]byte, error) { return appendEvent(nil, src) }); err != nil {
			return nil, err
		}
		z.add(buf, aadEventPrefix+src.GUID)
	}
	for _, e := range b.UpdatedEvents {
		if buf, err = encode("event", e.GUID, func() ([]byte, error) { return appendEvent(nil, e) }); err != nil {
			return nil, err
		}
		z.add(buf, aadEventPrefix+e.GUID)
	}
	var keys []string
	var keyAt []int
	for i, w := range b.Entities {
		r := w.Record
		if r.Gone() {
			z.add(nil, "") // keeps the indexes aligned; never written
			continue
		}
		if buf, err = encode("entity", r.GUID, func() ([]byte, error) { return appendRecord(nil, r) }); err != nil {
			return nil, err
		}
		var dk string
		if r.Current != nil {
			dk = r.Current.DupKey
		}
		if dk != "" {
			keys = append(keys, dk)
			keyAt = append(keyAt, i)
		}
		z.add(entityPlain(dk, buf), aadEntityPrefix+r.GUID)
	}
	for _, a := range b.Audit {
		if buf, err = encode("audit entry", a.GUID, func() ([]byte, error) { return appendAudit(nil, a) }); err != nil {
			return nil, err
		}
		z.add(buf, aadAudit)
	}
	var metaKeys []string
	for k, v := range b.Meta {
		if v != nil && !clearMeta(k) {
			metaKeys = append(metaKeys, k)
			z.add(v, aadMetaPrefix+k)
		}
	}
	sealed, err := z.seal(c)
	if err != nil {
		return nil, err
	}
	take := func(n int) [][]byte { s := sealed[:n:n]; sealed = sealed[n:]; return s }
	out.newEvents = take(len(b.NewEvents))
	out.updEvents = take(len(b.UpdatedEvents))
	out.entities = take(len(b.Entities))
	out.audit = take(len(b.Audit))
	if len(metaKeys) > 0 {
		out.meta = make(map[string][]byte, len(metaKeys))
		for i, k := range metaKeys {
			out.meta[k] = sealed[i]
		}
	}
	if len(keys) > 0 {
		h, err := c.Hash(keys)
		if err != nil {
			return nil, cryptoErr(err, "cannot hash duplicate keys")
		}
		out.dupKeys = make([]string, len(b.Entities))
		for j, i := range keyAt {
			out.dupKeys[i] = h[j]
		}
	}
	return out, nil
}

// open decrypts the payloads of recs in place. what names the records in
// errors; aadOf returns record j's additional data. For entity records
// (entities set), the duplicate keys come out of the ciphertext into
// recs.strs.
func (s *Store) open(recs *records, what string, aadOf func(j int) string, entities bool) error {
	c := s.cipher
	if c == nil || recs.len() == 0 {
		return nil
	}
	var sealed, aad [][]byte
	var at []int
	n := recs.len()
	plainAt := make([]bool, n)
	for j := 0; j < n; j++ {
		p := recs.payload(j)
		if len(p) == 0 || p[0] != sealedMark {
			if !s.allowPlain {
				return errPlain(what)
			}
			plainAt[j] = true
			continue
		}
		sealed = append(sealed, p[1:])
		aad = append(aad, []byte(aadOf(j)))
		at = append(at, j)
	}
	var opened [][]byte
	if len(sealed) > 0 {
		var err error
		if opened, err = c.Open(sealed, aad); err != nil {
			if dc.ErrorCode(err) == dc.ECRYPTO {
				return errTampered(what)
			}
			return cryptoErr(err, "cannot decrypt "+what)
		}
	}
	buf := make([]byte, 0, len(recs.buf))
	ends := make([]int, n)
	k := 0
	for j := 0; j < n; j++ {
		p := recs.payload(j)
		if !plainAt[j] {
			p = opened[k]
			k++
			if entities {
				dk, rest, ok := splitEntityPlain(p)
				if !ok {
					return errTampered(what)
				}
				recs.strs[j], p = dk, rest
			}
		} else if entities {
			recs.strs[j] = "" // a clear record read mid-migration: its key is re-derived on its next write
		}
		buf = append(buf, p...)
		ends[j] = len(buf)
	}
	recs.buf, recs.ends = buf, ends
	return nil
}

// SetCipher makes s encrypt everything it writes and decrypt what it
// reads, for a database whose encryption is set up (see Encrypt). Records
// still in clear are refused unless an encryption of the database is
// unfinished, in which case they are read and Encrypt must be called to
// finish it.
func (s *Store) SetCipher(ctx context.Context, c Cipher) (unfinished bool, err error) {
	if err := s.check(); err != nil {
		return false, err
	}
	s.cipher = c
	_, unfinished, err = s.Meta(ctx, metaCryptoMigr)
	s.allowPlain = unfinished
	return unfinished, err
}

// Encrypted reports whether the database has encryption parameters, and
// returns them.
func (s *Store) CryptoParams(ctx context.Context) ([]byte, bool, error) {
	return s.Meta(ctx, MetaCrypto)
}
