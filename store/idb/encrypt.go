//go:build js && wasm

package idbstore

import (
	"bytes"
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
)

// encryptChunk is how many records Encrypt seals per transaction.
const encryptChunk = 250

// Encrypt sets up the encryption of the database under c: it stores
// params (the caller's: salt, iterations, key check; opaque to the store)
// and seals every record still in clear, reporting progress (records
// done, records in all) after each chunk. From then on s encrypts and
// decrypts with c.
//
// It can stop at any point (a crash, a closed tab) and be resumed: the
// parameters and a marker are written first, in one transaction; each
// chunk is then sealed outside any transaction and written in one
// transaction that replaces only the records still holding the clear
// payload it sealed, so that a write from another tab meanwhile is never
// overwritten; the marker goes last. While the marker is there, reads
// accept clear records. Call SetCipher, then Encrypt again with the stored
// parameters, to resume.
func (s *Store) Encrypt(ctx context.Context, c Cipher, params []byte, progress func(done, total int)) (err error) {
	if err := s.check(); err != nil {
		return err
	}
	if len(params) == 0 {
		return dc.Errorf(dc.EINVALID, "encrypt: no parameters")
	}
	old, ok, err := s.CryptoParams(ctx)
	if err != nil {
		return err
	}
	if ok && !bytes.Equal(old, params) {
		return dc.Errorf(dc.ECRYPTO, "the database is already encrypted under other parameters")
	}
	if !ok {
		s.cipher = nil
		if err := s.Commit(ctx, &dc.Batch{Meta: map[string][]byte{MetaCrypto: params, metaCryptoMigr: {1}}}); err != nil {
			return err
		}
	}
	s.cipher, s.allowPlain = c, true

	defer s.catch(&err)
	stores := []string{storeEvents, storeEntities, storeAudit, storeMeta}
	total := 0
	for _, name := range stores {
		n, err := count(s.objectStore(s.txn(scopeOf(name), jsReadonly), name), js.Null())
		if err != nil {
			return err
		}
		total += n
	}
	done := 0
	for _, name := range stores {
		if err := s.encryptStore(ctx, name, func(n int) {
			done += n
			if progress != nil {
				progress(min(done, total), total)
			}
		}); err != nil {
			return err
		}
	}
	if err := s.Commit(ctx, &dc.Batch{Meta: map[string][]byte{metaCryptoMigr: nil}}); err != nil {
		return err
	}
	s.allowPlain = false
	return nil
}

func scopeOf(name string) uint8 {
	switch name {
	case storeEvents:
		return scopeEvents
	case storeEntities:
		return scopeEntities
	case storeAudit:
		return scopeAudit
	}
	return scopeMeta
}

// encryptStore seals the clear records of the object store name, chunk by
// chunk, in key order.
func (s *Store) encryptStore(ctx context.Context, name string, step func(n int)) error {
	meta := name == storeMeta
	after := js.Undefined()
	for {
		if err := ctx.Err(); err != nil {
			return dc.Errorf(dc.ESTORE, "encrypting: %v", err)
		}
		st := s.objectStore(s.txn(scopeOf(name), jsReadonly), name)
		query := js.Null()
		if !after.IsUndefined() {
			query = jsKeyRange.Call("lowerBound", after, true)
		}
		keysReq := st.Call("getAllKeys", query, encryptChunk)
		vals, err := getAll(st, query, encryptChunk) // completes after keysReq
		if err != nil {
			return err
		}
		keys := keysReq.Get("result")
		n := vals.Length()
		if n == 0 {
			return nil
		}
		var z sealer
		var at []int         // the records to seal, by index in the chunk
		var plain [][]byte   // their clear payloads as read
		var dupKeys []string // entities' clear duplicate keys to hash
		var dupAt []int      // by index in at
		for i := 0; i < n; i++ {
			v := vals.Index(i)
			p := v
			if !meta {
				p = v.Get(fieldP)
			}
			b := readBytes(nil, p)
			if len(b) > 0 && b[0] == sealedMark {
				continue
			}
			b = bytes.Clone(b)
			switch name {
			case storeEvents:
				z.add(b, aadEventPrefix+v.Get(fieldGUID).String())
			case storeEntities:
				dk := ""
				if f := v.Get(fieldDupKey); f.Type() == js.TypeString {
					dk = f.String()
					dupKeys = append(dupKeys, dk)
					dupAt = append(dupAt, len(at))
				}
				z.add(entityPlain(dk, b), aadEntityPrefix+v.Get(fieldGUID).String())
			case storeAudit:
				z.add(b, aadAudit)
			default:
				k := keys.Index(i).String()
				if clearMeta(k) {
					continue
				}
				z.add(b, aadMetaPrefix+k)
			}
			at = append(at, i)
			plain = append(plain, b)
		}
		after = keys.Index(n - 1)
		if len(at) > 0 {
			sealed, err := z.seal(s.cipher)
			if err != nil {
				return err
			}
			var hashed []string
			if len(dupKeys) > 0 {
				if hashed, err = s.cipher.Hash(dupKeys); err != nil {
					return cryptoErr(err, "cannot hash duplicate keys")
				}
			}
			if err := s.replaceClear(name, keys, vals, at, plain, sealed, hashed, dupAt); err != nil {
				return err
			}
		}
		step(n)
	}
}

// replaceClear writes, in one transaction, the sealed payloads of the
// records at (indexes in keys and vals) whose stored payload is still the
// clear one read.
func (s *Store) replaceClear(name string, keys, vals js.Value, at []int, plain, sealed [][]byte,
	hashed []string, dupAt []int) error {
	meta := name == storeMeta
	txn := s.txn(scopeOf(name), jsReadwrite)
	st := s.objectStore(txn, name)
	reqs := make([]js.Value, len(at))
	for j, i := range at {
		reqs[j] = st.Call("get", keys.Index(i))
	}
	if err := awaitRequest(reqs[len(reqs)-1]); err != nil {
		return err
	}
	hashOf := make(map[int]string, len(dupAt))
	for k, j := range dupAt {
		hashOf[j] = hashed[k]
	}
	for j, i := range at {
		cur := reqs[j].Get("result")
		if cur.IsUndefined() {
			continue // deleted meanwhile
		}
		p := cur
		if !meta {
			p = cur.Get(fieldP)
		}
		if !bytes.Equal(readBytes(nil, p), plain[j]) {
			continue // rewritten meanwhile (sealed, by another tab)
		}
		u := jsUint8Array.New(len(sealed[j]))
		js.CopyBytesToJS(u, sealed[j])
		if meta {
			st.Call("put", u, keys.Index(i))
			continue
		}
		cur.Set(fieldP, u)
		if h, ok := hashOf[j]; ok {
			cur.Set(fieldDupKey, h)
		}
		st.Call("put", cur)
	}
	if e := awaitTxn(txn); e != nil {
		return e
	}
	return nil
}
