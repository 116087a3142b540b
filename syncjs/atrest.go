//go:build js && wasm

package syncjs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"syscall/js"
	"unicode/utf8"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
)

// Encryption at rest: a passphrase given to init() derives, with
// PBKDF2-HMAC-SHA256 over a random salt kept beside the data, 512 bits
// that become two non-extractable WebCrypto keys: an AES-256-GCM key that
// seals every payload the IndexedDB store writes (idbstore.Cipher) and an
// HMAC-SHA-256 key that hashes the duplicate keys its index holds. The
// derived bits are zeroed once imported; neither the passphrase nor a key
// is ever written anywhere.

// PBKDF2Iterations is the work factor of new databases (OWASP's 2023
// figure for PBKDF2-HMAC-SHA256). Existing databases keep theirs.
const PBKDF2Iterations = 600_000

// MinPassphrase is the shortest passphrase init() accepts, in characters.
const MinPassphrase = 8

// cryptoParams are what an encrypted database keeps in clear (metadata
// idbstore.MetaCrypto).
type cryptoParams struct {
	V          int    `json:"v"`
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	// Check is a known text sealed under the key: opening it tells a
	// wrong passphrase before anything else is read.
	Check []byte `json:"check"`
}

const (
	kdfPBKDF2 = "PBKDF2-SHA256"
	checkText = "datacollect key check"
	checkAAD  = "k:check"
)

// webCipher is an idbstore.Cipher on WebCrypto.
type webCipher struct {
	aes, hmac js.Value // non-extractable CryptoKeys
}

var _ idbstore.Cipher = (*webCipher)(nil)

func webSubtle() js.Value { return js.Global().Get("crypto").Get("subtle") }

// cryptoFail turns a WebCrypto rejection into ECRYPTO.
func cryptoFail(what string, err error) error {
	if dc.ErrorCode(err) != "" {
		return err
	}
	return dc.Errorf(dc.ECRYPTO, "%s: %v", what, err)
}

// deriveCipher derives the keys of passphrase with salt.
func deriveCipher(ctx context.Context, passphrase string, salt []byte, iterations int) (*webCipher, error) {
	if !webSubtle().Truthy() {
		return nil, dc.Errorf(dc.ECRYPTO, "WebCrypto is not available (it needs a secure context: https or localhost)")
	}
	pass := js.Global().Get("TextEncoder").New().Call("encode", passphrase)
	defer pass.Call("fill", 0)
	base, err := await(ctx, webSubtle().Call("importKey", "raw", pass, "PBKDF2", false, []any{"deriveBits"}))
	if err != nil {
		return nil, cryptoFail("importing the passphrase", err)
	}
	alg := jsObject.New()
	alg.Set("name", "PBKDF2")
	alg.Set("hash", "SHA-256")
	alg.Set("salt", bytesToJS(salt))
	alg.Set("iterations", iterations)
	bitsBuf, err := await(ctx, webSubtle().Call("deriveBits", alg, base, 512))
	if err != nil {
		return nil, cryptoFail("deriving the key", err)
	}
	bits := js.Global().Get("Uint8Array").New(bitsBuf)
	defer bits.Call("fill", 0)
	aesKey, err := await(ctx, webSubtle().Call("importKey", "raw", bits.Call("subarray", 0, 32),
		map[string]any{"name": "AES-GCM"}, false, []any{"encrypt", "decrypt"}))
	if err != nil {
		return nil, cryptoFail("importing the key", err)
	}
	hmacKey, err := await(ctx, webSubtle().Call("importKey", "raw", bits.Call("subarray", 32, 64),
		map[string]any{"name": "HMAC", "hash": "SHA-256"}, false, []any{"sign"}))
	if err != nil {
		return nil, cryptoFail("importing the key", err)
	}
	return &webCipher{aes: aesKey, hmac: hmacKey}, nil
}

// joined copies the byte slices into one Uint8Array and returns it with
// each slice's offset (offsets[i], offsets[i+1]).
func joined(parts ...[][]byte) (js.Value, []int) {
	n := 0
	for _, p := range parts {
		for _, b := range p {
			n += len(b)
		}
	}
	buf := make([]byte, 0, n)
	offsets := []int{0}
	for _, p := range parts {
		for _, b := range p {
			buf = append(buf, b...)
			offsets = append(offsets, len(buf))
		}
	}
	return bytesToJS(buf), offsets
}

// all waits for every promise of ps and returns their ArrayBuffer results
// concatenated, as Go bytes: copied one by one for a few results, else
// joined by a Blob first (one copy for the whole batch, one more wait).
func all(ctx context.Context, ps js.Value) ([]byte, error) {
	res, err := await(ctx, js.Global().Get("Promise").Call("all", ps))
	if err != nil {
		return nil, err
	}
	if n := res.Length(); n <= 16 {
		var out []byte
		for i := 0; i < n; i++ {
			out = append(out, bytesFromJS(res.Index(i))...)
		}
		return out, nil
	}
	ab, err := await(ctx, js.Global().Get("Blob").New(res).Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	return bytesFromJS(ab), nil
}

const ivLen, tagLen = 12, 16

// gcm issues one AES-GCM operation (method "encrypt" or "decrypt") per
// input and returns the outputs; in[i] is data[off[i]:off[i+1]], aad[i]
// follows the n inputs in data.
func (c *webCipher) gcm(method string, ivs []byte, data js.Value, off []int, n int, outLen func(i int) int) ([][]byte, error) {
	ivJS := bytesToJS(ivs)
	ps := js.Global().Get("Array").New(n)
	for i := 0; i < n; i++ {
		alg := jsObject.New()
		alg.Set("name", "AES-GCM")
		alg.Set("iv", ivJS.Call("subarray", i*ivLen, (i+1)*ivLen))
		alg.Set("additionalData", data.Call("subarray", off[n+i], off[n+i+1]))
		ps.SetIndex(i, webSubtle().Call(method, alg, c.aes, data.Call("subarray", off[i], off[i+1])))
	}
	flat, err := all(context.Background(), ps)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	at := 0
	for i := range out {
		l := outLen(i)
		if l < 0 || at+l > len(flat) {
			return nil, dc.Errorf(dc.EINTERNAL, "WebCrypto returned %d bytes", len(flat))
		}
		out[i] = flat[at : at+l : at+l]
		at += l
	}
	return out, nil
}

// Seal implements idbstore.Cipher: each result is the 12-byte IV, then
// the ciphertext and its 16-byte tag.
func (c *webCipher) Seal(plain, aad [][]byte) ([][]byte, error) {
	n := len(plain)
	if n == 0 {
		return nil, nil
	}
	ivs := make([]byte, n*ivLen)
	if _, err := rand.Read(ivs); err != nil {
		return nil, dc.Errorf(dc.ECRYPTO, "no random IV: %v", err)
	}
	data, off := joined(plain, aad)
	cts, err := c.gcm("encrypt", ivs, data, off, n, func(i int) int { return len(plain[i]) + tagLen })
	if err != nil {
		return nil, cryptoFail("encrypting", err)
	}
	out := make([][]byte, n)
	for i, ct := range cts {
		out[i] = append(append(make([]byte, 0, ivLen+len(ct)), ivs[i*ivLen:(i+1)*ivLen]...), ct...)
	}
	return out, nil
}

// Open implements idbstore.Cipher.
func (c *webCipher) Open(sealed, aad [][]byte) ([][]byte, error) {
	n := len(sealed)
	if n == 0 {
		return nil, nil
	}
	ivs := make([]byte, 0, n*ivLen)
	cts := make([][]byte, n)
	for i, s := range sealed {
		if len(s) < ivLen+tagLen {
			return nil, dc.Errorf(dc.ECRYPTO, "a ciphertext is truncated")
		}
		ivs = append(ivs, s[:ivLen]...)
		cts[i] = s[ivLen:]
	}
	data, off := joined(cts, aad)
	out, err := c.gcm("decrypt", ivs, data, off, n, func(i int) int { return len(cts[i]) - tagLen })
	if err != nil {
		// WebCrypto's OperationError: the tag does not match.
		return nil, dc.Errorf(dc.ECRYPTO, "decryption failed: %v", err)
	}
	return out, nil
}

// Hash implements idbstore.Cipher: base64url HMAC-SHA-256 of each key.
func (c *webCipher) Hash(keys []string) ([]string, error) {
	n := len(keys)
	if n == 0 {
		return nil, nil
	}
	bs := make([][]byte, n)
	for i, k := range keys {
		if !utf8.ValidString(k) {
			k = string([]rune(k)) // as JavaScript would see it
		}
		bs[i] = []byte(k)
	}
	data, off := joined(bs)
	ps := js.Global().Get("Array").New(n)
	for i := 0; i < n; i++ {
		ps.SetIndex(i, webSubtle().Call("sign", "HMAC", c.hmac, data.Call("subarray", off[i], off[i+1])))
	}
	flat, err := all(context.Background(), ps)
	if err != nil || len(flat) != 32*n {
		return nil, cryptoFail("hashing", err)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = base64.RawURLEncoding.EncodeToString(flat[32*i : 32*(i+1)])
	}
	return out, nil
}

// unlockStore sets up the encryption of s under passphrase ("": none):
// on a new or clear database it encrypts it (reporting progress), on an
// encrypted one it checks the passphrase and resumes an unfinished
// encryption. A wrong passphrase is ECRYPTO and changes nothing.
func unlockStore(ctx context.Context, s *idbstore.Store, passphrase string, progress func(done, total int)) (encrypted bool, err error) {
	raw, ok, err := s.CryptoParams(ctx)
	if err != nil {
		return false, err
	}
	if passphrase == "" {
		if ok {
			return false, dc.Errorf(dc.ECRYPTO, "this database is encrypted: init() needs its passphrase")
		}
		return false, nil
	}
	if ok {
		var p cryptoParams
		if err := json.Unmarshal(raw, &p); err != nil || p.V != 1 || p.KDF != kdfPBKDF2 || p.Iterations < 1 || len(p.Salt) < 16 {
			return false, dc.Errorf(dc.ECRYPTO, "this database's encryption parameters are unreadable")
		}
		c, err := deriveCipher(ctx, passphrase, p.Salt, p.Iterations)
		if err != nil {
			return false, err
		}
		if got, err := c.Open([][]byte{p.Check}, [][]byte{[]byte(checkAAD)}); err != nil || string(got[0]) != checkText {
			return false, dc.Errorf(dc.ECRYPTO, "wrong passphrase")
		}
		unfinished, err := s.SetCipher(ctx, c)
		if err != nil {
			return false, err
		}
		if unfinished {
			if err := s.Encrypt(ctx, c, raw, progress); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	if utf8.RuneCountInString(passphrase) < MinPassphrase {
		return false, dc.Errorf(dc.EINVALID, "a passphrase needs at least %d characters", MinPassphrase)
	}
	p := cryptoParams{V: 1, KDF: kdfPBKDF2, Iterations: PBKDF2Iterations, Salt: make([]byte, 16)}
	if _, err := rand.Read(p.Salt); err != nil {
		return false, dc.Errorf(dc.ECRYPTO, "no random salt: %v", err)
	}
	c, err := deriveCipher(ctx, passphrase, p.Salt, p.Iterations)
	if err != nil {
		return false, err
	}
	check, err := c.Seal([][]byte{[]byte(checkText)}, [][]byte{[]byte(checkAAD)})
	if err != nil {
		return false, err
	}
	p.Check = check[0]
	raw, err = json.Marshal(p)
	if err != nil {
		return false, dc.Errorf(dc.EINTERNAL, "encode parameters: %v", err)
	}
	return true, s.Encrypt(ctx, c, raw, progress)
}
