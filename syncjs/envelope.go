//go:build js && wasm

package syncjs

import (
	"context"
	"sync"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire/envelope"
)

// SubtleAEAD is envelope.AEAD over the browser's WebCrypto: AES-256-GCM
// under a non-extractable CryptoKey. A batch issues every operation, then
// awaits them together with one Promise.all, and gets the outputs back in
// one copy. No JavaScript is compiled at run time (the page's CSP forbids
// it): only builtins are called.
type SubtleAEAD struct {
	subtle js.Value
	key    js.Value // CryptoKey
}

var _ envelope.AEAD = (*SubtleAEAD)(nil)

// NewSubtleAEAD imports a 32-byte key into WebCrypto as a non-extractable
// AES-GCM key. Without WebCrypto (an insecure origin) or with a bad key it
// fails with ECRYPTO.
func NewSubtleAEAD(ctx context.Context, key []byte) (*SubtleAEAD, error) {
	if len(key) != envelope.KeySize {
		return nil, dc.Errorf(dc.ECRYPTO, "envelope key of %d bytes, want %d (AES-256)", len(key), envelope.KeySize)
	}
	sub := js.Global().Get("crypto")
	if sub.Truthy() {
		sub = sub.Get("subtle")
	}
	if !sub.Truthy() {
		return nil, dc.Errorf(dc.ECRYPTO, "WebCrypto (crypto.subtle) is not available: the app must be served over HTTPS or from localhost")
	}
	var p js.Value
	raw := bytesToJS(key)
	err := catch(func() {
		p = sub.Call("importKey", "raw", raw, aesGCM(), false, []any{"encrypt", "decrypt"})
	})
	if err != nil {
		return nil, dc.Errorf(dc.ECRYPTO, "import envelope key: %s", dc.ErrorMessage(err))
	}
	k, err := await(ctx, p)
	// The Go copy of the raw key is the caller's; the JS copy is wiped.
	raw.Call("fill", 0)
	if err != nil {
		return nil, cryptoJSErr(ctx, "import envelope key", err)
	}
	return &SubtleAEAD{subtle: sub, key: k}, nil
}

func aesGCM() js.Value {
	o := jsObject.New()
	o.Set("name", "AES-GCM")
	return o
}

// issue starts method ("encrypt" or "decrypt") for every op and returns
// the JS array of their promises. It crosses into JS a few times per op
// only: every op's IV, AAD and input travel in one buffer, which each call
// reads through views, and one params object serves every call (WebCrypto
// copies the data and normalises the parameters, copying their buffers,
// before encrypt or decrypt returns).
func (a *SubtleAEAD) issue(method string, ops []envelope.Op) (promises js.Value, err error) {
	n := 0
	for i := range ops {
		n += len(ops[i].IV) + len(ops[i].AAD) + len(ops[i].In)
	}
	buf := make([]byte, 0, n)
	for i := range ops {
		buf = append(append(append(buf, ops[i].IV...), ops[i].AAD...), ops[i].In...)
	}
	err = catch(func() {
		all := bytesToJS(buf)
		params := aesGCM()
		params.Set("tagLength", envelope.TagSize*8)
		promises = jsArray.New(len(ops))
		off := 0
		view := func(k int) js.Value {
			v := all.Call("subarray", off, off+k)
			off += k
			return v
		}
		for i := range ops {
			params.Set("iv", view(len(ops[i].IV)))
			params.Set("additionalData", view(len(ops[i].AAD)))
			promises.SetIndex(i, a.subtle.Call(method, params, a.key, view(len(ops[i].In))))
		}
	})
	return promises, err
}

// concat awaits the ArrayBuffers of results (a JS array) joined into one
// (a Blob concatenates them natively) and cuts it into Go slices of sizes.
func concat(ctx context.Context, results js.Value, sizes []int) ([][]byte, error) {
	ab, err := await(ctx, jsBlob.New(results).Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	u := jsUint8Array.New(ab)
	if got := u.Get("byteLength").Int(); got != total {
		return nil, dc.Errorf(dc.ECRYPTO, "WebCrypto returned %d bytes, want %d", got, total)
	}
	b := make([]byte, total)
	js.CopyBytesToGo(b, u)
	out := make([][]byte, len(sizes))
	for i, n := range sizes {
		out[i], b = b[:n:n], b[n:]
	}
	return out, nil
}

var (
	jsArray      = js.Global().Get("Array")
	jsBlob       = js.Global().Get("Blob")
	jsUint8Array = js.Global().Get("Uint8Array")
)

// Seal implements envelope.AEAD: one Promise.all over the batch.
func (a *SubtleAEAD) Seal(ctx context.Context, ops []envelope.Op) error {
	if len(ops) == 0 {
		return nil
	}
	promises, err := a.issue("encrypt", ops)
	if err != nil {
		return dc.Errorf(dc.ECRYPTO, "encrypt: %s", dc.ErrorMessage(err))
	}
	all, err := await(ctx, jsPromise.Call("all", promises))
	if err != nil {
		return cryptoJSErr(ctx, "encrypt", err)
	}
	sizes := make([]int, len(ops))
	for i := range ops {
		sizes[i] = len(ops[i].In) + envelope.TagSize
	}
	outs, err := concat(ctx, all, sizes)
	if err != nil {
		return cryptoJSErr(ctx, "encrypt", err)
	}
	for i := range ops {
		ops[i].Out = outs[i]
	}
	return nil
}

// Open implements envelope.AEAD: one Promise.all over the batch; when it
// rejects (an op does not authenticate: WebCrypto's OperationError), one
// Promise.allSettled over the same promises tells which ops failed (their
// Err) from the others (their Out).
func (a *SubtleAEAD) Open(ctx context.Context, ops []envelope.Op) error {
	if len(ops) == 0 {
		return nil
	}
	for i := range ops {
		if len(ops[i].In) < envelope.TagSize {
			// WebCrypto would reject it too; settle it here.
			return a.openEach(ctx, ops)
		}
	}
	promises, err := a.issue("decrypt", ops)
	if err != nil {
		return dc.Errorf(dc.ECRYPTO, "decrypt: %s", dc.ErrorMessage(err))
	}
	all, err := await(ctx, jsPromise.Call("all", promises))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return a.settle(ctx, ops, promises)
	}
	sizes := make([]int, len(ops))
	for i := range ops {
		sizes[i] = len(ops[i].In) - envelope.TagSize
	}
	outs, err := concat(ctx, all, sizes)
	if err != nil {
		return cryptoJSErr(ctx, "decrypt", err)
	}
	for i := range ops {
		ops[i].Out = outs[i]
	}
	return nil
}

// openEach opens a batch holding inputs shorter than a tag: those fail,
// the others are opened together.
func (a *SubtleAEAD) openEach(ctx context.Context, ops []envelope.Op) error {
	var rest []envelope.Op
	var idx []int
	for i := range ops {
		if len(ops[i].In) < envelope.TagSize {
			ops[i].Err = dc.Errorf(dc.ECRYPTO, "ciphertext shorter than its tag")
			continue
		}
		rest, idx = append(rest, ops[i]), append(idx, i)
	}
	if len(rest) > 0 {
		if err := a.Open(ctx, rest); err != nil {
			return err
		}
	}
	for j, i := range idx {
		ops[i] = rest[j]
	}
	return nil
}

// settle awaits Promise.allSettled over promises and sets each op's Out or
// Err.
func (a *SubtleAEAD) settle(ctx context.Context, ops []envelope.Op, promises js.Value) error {
	all, err := await(ctx, jsPromise.Call("allSettled", promises))
	if err != nil {
		return cryptoJSErr(ctx, "decrypt", err)
	}
	for i := range ops {
		r := all.Index(i)
		if r.Get("status").String() == "fulfilled" {
			ops[i].Out = bytesFromJS(r.Get("value"))
			continue
		}
		ops[i].Err = dc.Errorf(dc.ECRYPTO, "decrypt: %s", (&JSRejection{Value: r.Get("reason")}).Error())
	}
	return nil
}

func cryptoJSErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return dc.Errorf(dc.ECRYPTO, "%s: %v", what, err)
}

// Sealer seals a device's pushes and opens its pulls with the app's
// envelope key (LoginResponse.AppKey and AppKeyID) through WebCrypto. The
// key is imported on first use, non-extractable, and the Sealer's copy of
// the raw key is wiped then. It is safe for concurrent use.
type Sealer struct {
	app, keyID string

	mu    sync.Mutex
	key   []byte // until imported
	codec *envelope.Codec
}

// NewSealer returns a Sealer for app's events under key, whose id (8 hex
// digits) is keyID. A key that is not 32 bytes or does not match keyID is
// ECRYPTO. It does not block: the key is imported on first use.
func NewSealer(app string, key []byte, keyID string) (*Sealer, error) {
	if len(key) != envelope.KeySize {
		return nil, dc.Errorf(dc.ECRYPTO, "envelope key of %d bytes, want %d (AES-256)", len(key), envelope.KeySize)
	}
	if envelope.KeyID(key) != keyID {
		return nil, dc.Errorf(dc.ECRYPTO, "envelope key does not match its id %q", keyID)
	}
	return &Sealer{app: app, keyID: keyID, key: append([]byte(nil), key...)}, nil
}

// KeyID returns the id of the Sealer's key, for the X-Envelope-Key header
// (envelope.HeaderKeyID) of pulls.
func (s *Sealer) KeyID() string { return s.keyID }

func (s *Sealer) get(ctx context.Context) (*envelope.Codec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codec != nil {
		return s.codec, nil
	}
	a, err := NewSubtleAEAD(ctx, s.key)
	if err != nil {
		return nil, err
	}
	c, err := envelope.NewCodec(s.app, s.keyID, a)
	if err != nil {
		return nil, err
	}
	clear(s.key)
	s.key, s.codec = nil, c
	return c, nil
}

// SealPush returns a copy of req whose events have their Data sealed (see
// envelope.Codec.SealEvents); req and its events are never changed, so the
// caller's events (and the store's) keep their data. Errors are ECRYPTO
// (WebCrypto failed), EINVALID (data that cannot be encoded) or ETOOLARGE.
func (s *Sealer) SealPush(ctx context.Context, req *dc.PushRequest) (*dc.PushRequest, error) {
	c, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	evs, err := c.SealEvents(ctx, req.Events)
	if err != nil {
		return nil, err
	}
	return &dc.PushRequest{Events: evs}, nil
}

// OpenPull opens, in place, every sealed event of resp (a freshly decoded
// answer the caller owns). Plain events are left alone. An envelope that
// fails (another key, tampered) is ECRYPTO, and then no event is changed.
func (s *Sealer) OpenPull(ctx context.Context, resp *dc.PullResponse) error {
	sealed := false
	for _, ev := range resp.Events {
		if envelope.IsSealed(ev) {
			sealed = true
			break
		}
	}
	for _, a := range resp.Audit {
		if a != nil && len(a.SealedChanges) > 0 {
			sealed = true
			break
		}
	}
	if !sealed {
		return nil
	}
	c, err := s.get(ctx)
	if err != nil {
		return err
	}
	if err := c.OpenEvents(ctx, resp.Events); err != nil {
		return err
	}
	return c.OpenAudit(ctx, resp.Audit)
}
