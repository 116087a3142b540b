//go:build js && wasm

package idbstore_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
	"github.com/datacollect/datacollect/store/storetest"
)

// goCipher is an idbstore.Cipher on Go's AES-GCM and HMAC-SHA256: the
// store's framing and its reads and writes are what these tests check;
// the browser's WebCrypto cipher (package syncjs) has its own tests.
type goCipher struct {
	aead     cipher.AEAD
	mac      []byte
	failSeal int // when > 0, the failSeal-th Seal call fails
	seals    int
}

func newGoCipher(t testing.TB) *goCipher {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	mac := make([]byte, 32)
	_, _ = rand.Read(mac)
	return &goCipher{aead: aead, mac: mac}
}

var errInjected = errors.New("injected failure")

func (c *goCipher) Seal(plain, aad [][]byte) ([][]byte, error) {
	c.seals++
	if c.failSeal > 0 && c.seals == c.failSeal {
		return nil, errInjected
	}
	out := make([][]byte, len(plain))
	for i, p := range plain {
		iv := make([]byte, 12)
		_, _ = rand.Read(iv)
		out[i] = c.aead.Seal(iv, iv, p, aad[i])
	}
	return out, nil
}

func (c *goCipher) Open(sealed, aad [][]byte) ([][]byte, error) {
	out := make([][]byte, len(sealed))
	for i, s := range sealed {
		if len(s) < 12 {
			return nil, dc.Errorf(dc.ECRYPTO, "short")
		}
		p, err := c.aead.Open(nil, s[:12], s[12:], aad[i])
		if err != nil {
			return nil, dc.Errorf(dc.ECRYPTO, "open: %v", err)
		}
		out[i] = p
	}
	return out, nil
}

func (c *goCipher) Hash(keys []string) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		m := hmac.New(sha256.New, c.mac)
		m.Write([]byte(k))
		out[i] = hex.EncodeToString(m.Sum(nil))
	}
	return out, nil
}

var params = []byte(`{"test":1}`)

// openEncrypted opens a fresh database encrypted under c.
func openEncrypted(t testing.TB, c idbstore.Cipher) (*idbstore.Store, string) {
	s, name := openNew(t)
	require.NoError(t, s.Encrypt(ctx, c, params, nil))
	return s, name
}

// The whole store contract holds on an encrypted database.
func TestConformanceEncrypted(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dc.Store {
		s, _ := openEncrypted(t, newGoCipher(t))
		return s
	})
}

const marker = "MARKER-zq81-Ngozi"

// fill writes an event, an entity with a duplicate key, an audit entry and
// a metadata value, each holding marker.
func fillMarked(t *testing.T, s dc.Store) {
	ev := storetest.Event("e1", "p1", dc.Local, map[string]any{"name": marker})
	rec := storetest.Record("p1", dc.Individual, map[string]any{"name": marker})
	rec.Current.DupKey = "individual|" + marker
	rec2 := storetest.Record("p2", dc.Individual, map[string]any{"name": "other"})
	rec2.Current.DupKey = "individual|" + marker
	require.NoError(t, s.Commit(ctx, &dc.Batch{
		NewEvents: []*dc.Event{ev},
		Entities:  []dc.EntityWrite{{Record: rec}, {Record: rec2}},
		Audit:     []*dc.AuditEntry{{GUID: "a1", EntityGUID: "p1", Action: "create", Changes: []dc.FieldChange{{Field: "name", New: marker}}}},
		Meta:      map[string][]byte{"session": []byte(`{"token":"` + marker + `"}`)},
	}))
}

func checkFilled(t *testing.T, s *idbstore.Store) {
	evs, err := s.Events(ctx, []string{"e1"})
	require.NoError(t, err)
	assert.Equal(t, marker, evs["e1"].Data["name"])
	list, err := s.ListEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	require.NotEmpty(t, list)
	for _, e := range list {
		require.Equal(t, marker, e.Data["name"])
	}
	recs, err := s.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	assert.Equal(t, marker, recs["p1"].Current.Data["name"])
	au, err := s.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	require.Len(t, au, 1)
	assert.Equal(t, marker, au[0].Changes[0].New)
	v, ok, err := s.Meta(ctx, "session")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Contains(t, string(v), marker)
}

// checkDupKeys checks the duplicate keys fillMarked wrote, which an
// unfinished encryption does not serve.
func checkDupKeys(t *testing.T, s *idbstore.Store) {
	recs, err := s.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	assert.Equal(t, "individual|"+marker, recs["p1"].Current.DupKey)
	byKey, err := s.ListEntities(ctx, dc.EntityQuery{DupKey: "individual|" + marker})
	require.NoError(t, err)
	assert.Len(t, byKey, 2)
	counts, err := s.DupKeyCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"individual|" + marker: 2}, counts)
}

func TestEncryptedHoldsNoPlaintext(t *testing.T) {
	s, _ := openEncrypted(t, newGoCipher(t))
	fillMarked(t, s)
	checkFilled(t, s)
	checkDupKeys(t, s)
	raw, err := idbstore.RawDump(s)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), marker)
	assert.NotContains(t, string(raw), "MARKER")
	// The clear store would show it: the dump does see payloads.
	plain, _ := openNew(t)
	fillMarked(t, plain)
	raw, err = idbstore.RawDump(plain)
	require.NoError(t, err)
	assert.Contains(t, string(raw), marker)
}

func TestEncryptExistingDatabase(t *testing.T) {
	s, name := openNew(t)
	fillMarked(t, s)
	for i := 0; i < 600; i++ { // more than two chunks
		g := string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i >> 8), byte(i)})
		require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{storetest.Event("x"+g, "p1", dc.Local, map[string]any{"name": marker})}}))
	}
	c := newGoCipher(t)
	var last, total int
	require.NoError(t, s.Encrypt(ctx, c, params, func(done, all int) { last, total = done, all }))
	assert.Equal(t, total, last)
	assert.GreaterOrEqual(t, total, 605)
	checkFilled(t, s)
	checkDupKeys(t, s)
	raw, err := idbstore.RawDump(s)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), marker)

	// Reopened with the cipher: everything reads; without it, nothing
	// pretends to be clear.
	require.NoError(t, s.Close())
	s2, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s2.Close()
	p, ok, err := s2.CryptoParams(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, params, p)
	unfinished, err := s2.SetCipher(ctx, c)
	require.NoError(t, err)
	assert.False(t, unfinished)
	checkFilled(t, s2)
	checkDupKeys(t, s2)
}

// An encryption interrupted half-way resumes, and clear records are read
// meanwhile.
func TestEncryptResumes(t *testing.T) {
	s, name := openNew(t)
	fillMarked(t, s)
	for i := 0; i < 600; i++ {
		g := hex.EncodeToString([]byte{byte(i >> 8), byte(i)})
		require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{storetest.Event("x"+g, "p1", dc.Local, map[string]any{"name": marker})}}))
	}
	c := newGoCipher(t)
	c.failSeal = 2 // the second chunk of events fails
	err := s.Encrypt(ctx, c, params, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), errInjected.Error())
	require.NoError(t, s.Close())

	s2, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s2.Close()
	c.failSeal = 0
	unfinished, err := s2.SetCipher(ctx, c)
	require.NoError(t, err)
	require.True(t, unfinished)
	checkFilled(t, s2) // half sealed, half clear: all readable
	raw, err := idbstore.RawDump(s2)
	require.NoError(t, err)
	assert.Contains(t, string(raw), marker)
	require.NoError(t, s2.Encrypt(ctx, c, params, nil))
	raw, err = idbstore.RawDump(s2)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), marker)
	checkFilled(t, s2)
	checkDupKeys(t, s2)
	unfinished, err = s2.SetCipher(ctx, c)
	require.NoError(t, err)
	assert.False(t, unfinished)
	// Other parameters are refused.
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(s2.Encrypt(ctx, c, []byte(`{"other":1}`), nil)))
}

func TestTamperedCiphertextIsRefused(t *testing.T) {
	c := newGoCipher(t)
	s, _ := openEncrypted(t, c)
	fillMarked(t, s)
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-3] ^= 1; return b }

	require.NoError(t, idbstore.Tamper(s, "entities", "p1", flip))
	_, err := s.Entities(ctx, []string{"p1"})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err), "%v", err)
	_, err = s.ListEntities(ctx, dc.EntityQuery{})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))

	// A ciphertext moved to another record fails too: it is bound to its
	// guid.
	p2, err := idbstore.Payload(s, "entities", "p2")
	require.NoError(t, err)
	require.NoError(t, idbstore.Tamper(s, "entities", "p1", func([]byte) []byte { return p2 }))
	_, err = s.Entities(ctx, []string{"p1"})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))

	// A clear payload planted in an encrypted database is refused.
	plain, _ := openNew(t)
	fillMarked(t, plain)
	clearP, err := idbstore.Payload(plain, "entities", "p1")
	require.NoError(t, err)
	require.NoError(t, idbstore.Tamper(s, "entities", "p1", func([]byte) []byte { return clearP }))
	_, err = s.Entities(ctx, []string{"p1"})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))

	require.NoError(t, idbstore.Tamper(s, "meta", "session", flip))
	_, _, err = s.Meta(ctx, "session")
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))

	_, err = s.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	evs, err := s.ListEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.NoError(t, idbstore.Tamper(s, "events", float64(evs[0].LSeq), flip))
	_, err = s.Events(ctx, []string{"e1"})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
}

func TestWrongKeyReadsNothing(t *testing.T) {
	s, name := openEncrypted(t, newGoCipher(t))
	fillMarked(t, s)
	require.NoError(t, s.Close())
	s2, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s2.Close()
	_, err = s2.SetCipher(ctx, newGoCipher(t))
	require.NoError(t, err)
	_, err = s2.Entities(ctx, []string{"p1"})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
	_, err = s2.ListEvents(ctx, dc.EventQuery{})
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
	_, _, err = s2.Meta(ctx, "session")
	assert.Equal(t, dc.ECRYPTO, dc.ErrorCode(err))
}
