package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"

	dc "github.com/datacollect/datacollect"
)

// AESGCM is the AEAD of crypto/aes: AES-256-GCM in Go, used by the server
// and native clients.
type AESGCM struct{ gcm cipher.AEAD }

var _ AEAD = (*AESGCM)(nil)

// NewAESGCM returns the AEAD for a 32-byte key; another size is ECRYPTO.
func NewAESGCM(key []byte) (*AESGCM, error) {
	if len(key) != KeySize {
		return nil, dc.Errorf(ECRYPTO, "envelope key of %d bytes, want %d (AES-256)", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, dc.Errorf(ECRYPTO, "envelope key: %v", err)
	}
	gcm, err := cipher.NewGCM(b)
	if err != nil {
		return nil, dc.Errorf(ECRYPTO, "envelope key: %v", err)
	}
	return &AESGCM{gcm: gcm}, nil
}

// Seal implements AEAD.
func (a *AESGCM) Seal(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range ops {
		op := &ops[i]
		op.Out = a.gcm.Seal(make([]byte, 0, len(op.In)+TagSize), op.IV, op.In, op.AAD)
	}
	return nil
}

// Open implements AEAD.
func (a *AESGCM) Open(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range ops {
		op := &ops[i]
		if len(op.In) < TagSize {
			op.Err = dc.Errorf(ECRYPTO, "ciphertext shorter than its tag")
			continue
		}
		op.Out, op.Err = a.gcm.Open(nil, op.IV, op.In, op.AAD)
	}
	return nil
}
