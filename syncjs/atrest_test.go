//go:build js && wasm

package syncjs

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
	"github.com/datacollect/datacollect/store/storetest"
)

var bg = context.Background()

// WebCrypto's output is what the format says: Go derives the same keys
// from the passphrase and opens it, and computes the same hashes.
func TestWebCipherMatchesGo(t *testing.T) {
	salt := []byte("0123456789abcdef")
	c, err := deriveCipher(bg, "correct horse", salt, 1000)
	require.NoError(t, err)
	plain := [][]byte{[]byte("hello"), {}, []byte("ünïcode ✓")}
	aad := [][]byte{[]byte("e:g1"), []byte("a"), []byte("m:k")}
	sealed, err := c.Seal(plain, aad)
	require.NoError(t, err)

	bits, err := pbkdf2.Key(sha256.New, "correct horse", salt, 1000, 64)
	require.NoError(t, err)
	block, err := aes.NewCipher(bits[:32])
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	for i, s := range sealed {
		require.Len(t, s, 12+len(plain[i])+16)
		got, err := gcm.Open(nil, s[:12], s[12:], aad[i])
		require.NoError(t, err, "vector %d", i)
		assert.Equal(t, string(plain[i]), string(got))
	}
	// Go-sealed opens in WebCrypto.
	iv := []byte("abcdefghijkl")
	goSealed := gcm.Seal(append([]byte{}, iv...), iv, []byte("from go"), []byte("n:x"))
	opened, err := c.Open([][]byte{goSealed}, [][]byte{[]byte("n:x")})
	require.NoError(t, err)
	assert.Equal(t, "from go", string(opened[0]))

	h, err := c.Hash([]string{"individual|ab 123", "individual|ab 123", "x"})
	require.NoError(t, err)
	m := hmac.New(sha256.New, bits[32:])
	m.Write([]byte("individual|ab 123"))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(m.Sum(nil)), h[0])
	assert.Equal(t, h[0], h[1])
	assert.NotEqual(t, h[0], h[2])

	// IVs are fresh: the same plaintext seals differently.
	again, err := c.Seal(plain[:1], aad[:1])
	require.NoError(t, err)
	assert.NotEqual(t, sealed[0], again[0])
}

func TestWebCipherRefusesTampering(t *testing.T) {
	c, err := deriveCipher(bg, "correct horse", []byte("0123456789abcdef"), 1000)
	require.NoError(t, err)
	sealed, err := c.Seal([][]byte{[]byte("secret")}, [][]byte{[]byte("e:g1")})
	require.NoError(t, err)
	bad := append([]byte{}, sealed[0]...)
	bad[14] ^= 0x80
	_, err = c.Open([][]byte{bad}, [][]byte{[]byte("e:g1")})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
	_, err = c.Open(sealed, [][]byte{[]byte("e:g2")})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err), "bound to its additional data")
	_, err = c.Open([][]byte{sealed[0][:20]}, [][]byte{[]byte("e:g1")})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
	other, err := deriveCipher(bg, "wrong horse", []byte("0123456789abcdef"), 1000)
	require.NoError(t, err)
	_, err = other.Open(sealed, [][]byte{[]byte("e:g1")})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
}

// The store contract holds with WebCrypto doing the encryption.
func TestConformanceWebCrypto(t *testing.T) {
	c, err := deriveCipher(bg, "correct horse", []byte("0123456789abcdef"), 1000)
	require.NoError(t, err)
	storetest.Run(t, func(t *testing.T) dc.Store {
		name := fmt.Sprintf("syncjs-atrest-%d", time.Now().UnixNano())
		s, err := idbstore.Open(bg, name)
		require.NoError(t, err)
		require.NoError(t, s.Encrypt(bg, c, []byte(`{"test":1}`), nil))
		t.Cleanup(func() { _ = s.Close(); _ = idbstore.Delete(bg, name) })
		return s
	})
}

// The API: init({passphrase}) encrypts, a wrong or missing passphrase is
// ECRYPTO and changes nothing, lock() forgets the key, unlock() restores
// it, and IndexedDB never holds the data in clear.
func TestPassphraseAPI(t *testing.T) {
	obj := jsObject.New()
	Install(obj, nil)
	name := fmt.Sprintf("syncjs-pass-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		awaitTest(obj.Call("close"))
		js.Global().Get("indexedDB").Call("deleteDatabase", name)
	})
	initWith := func(pass string) (js.Value, js.Value) {
		o := fmt.Sprintf(`{"appId":"t","dbName":%q,"autoSync":false`, name)
		if pass != "" {
			o += fmt.Sprintf(`,"passphrase":%q`, pass)
		}
		return awaitTest(obj.Call("init", jsValue(t, o+"}")))
	}
	code := func(e js.Value) string {
		if e.IsUndefined() {
			return ""
		}
		return e.Get("code").String()
	}

	_, e := initWith("short")
	assert.Equal(t, "EINVALID", code(e))
	res, e := initWith("correct horse battery")
	require.True(t, e.IsUndefined(), "init: %v", e)
	assert.True(t, res.Get("encrypted").Bool())
	_, e = awaitTest(obj.Call("submitForm", jsValue(t, `{"type":"create-individual","entityGuid":"p1","data":{"name":"MARKER-Amara-77"}}`)))
	require.True(t, e.IsUndefined())

	_, e = awaitTest(obj.Call("lock"))
	require.True(t, e.IsUndefined())
	_, e = awaitTest(obj.Call("getEntity", "p1"))
	assert.Equal(t, "ECRYPTO", code(e))
	_, e = awaitTest(obj.Call("unlock", "wrong horse battery"))
	assert.Equal(t, "ECRYPTO", code(e))
	_, e = awaitTest(obj.Call("getEntity", "p1"))
	assert.Equal(t, "ECRYPTO", code(e), "still locked")
	_, e = awaitTest(obj.Call("unlock", "correct horse battery"))
	require.True(t, e.IsUndefined(), "unlock: %v", e)
	ent, e := awaitTest(obj.Call("getEntity", "p1"))
	require.True(t, e.IsUndefined())
	assert.Equal(t, "MARKER-Amara-77", ent.Get("data").Get("name").String())

	awaitTest(obj.Call("close"))
	_, e = initWith("")
	assert.Equal(t, "ECRYPTO", code(e), "an encrypted database needs its passphrase")
	_, e = initWith("wrong horse battery")
	assert.Equal(t, "ECRYPTO", code(e))
	_, e = initWith("correct horse battery")
	require.True(t, e.IsUndefined())
	ent, _ = awaitTest(obj.Call("getEntity", "p1"))
	assert.Equal(t, "MARKER-Amara-77", ent.Get("data").Get("name").String())
	awaitTest(obj.Call("close"))

	s, err := idbstore.Open(bg, name)
	require.NoError(t, err)
	defer s.Close()
	raw, err := idbstore.RawDump(s)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "MARKER-Amara")
	assert.NotContains(t, string(raw), "Amara")
}
