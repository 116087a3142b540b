package envelope

import (
	"context"

	dc "github.com/datacollect/datacollect"
)

// Seal seals ev's Data in place with crypto/aes under key (whose id is
// keyID) for app, with the given 12-byte IV: it sets ev.Sealed and clears
// ev.Data. An IV must never be reused under one key: callers other than
// tests use Codec.SealEvents, which draws random IVs.
func Seal(key []byte, keyID, app string, ev *dc.Event, iv []byte) error {
	c, err := goCodec(key, keyID, app)
	if err != nil {
		return err
	}
	out, err := c.SealEventsIV(context.Background(), []*dc.Event{ev}, [][]byte{iv})
	if err != nil {
		return err
	}
	*ev = *out[0]
	return nil
}

// Open opens ev's envelope in place with crypto/aes under key (whose id is
// keyID) for app: it sets ev.Data and clears ev.Sealed. A plain ev is left
// alone. Failures are ECRYPTO (see Codec.OpenEvents).
func Open(key []byte, keyID, app string, ev *dc.Event) error {
	c, err := goCodec(key, keyID, app)
	if err != nil {
		return err
	}
	return c.OpenEvents(context.Background(), []*dc.Event{ev})
}

func goCodec(key []byte, keyID, app string) (*Codec, error) {
	a, err := NewAESGCM(key)
	if err != nil {
		return nil, err
	}
	return NewCodec(app, keyID, a)
}
