package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire/envelope"
)

// envelopeKey returns app's envelope key (created on first use and kept in
// the store, so that every server node sharing the database has it) and its
// identifier: the first 8 hex digits of its SHA-256.
func (s *Server) envelopeKey(ctx context.Context, app string) (key []byte, id string, err error) {
	key, err = s.store.Secret(ctx, "envelope-key:"+app, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(key)
	return key, hex.EncodeToString(sum[:4]), nil
}

// Envelope modes (Config.Envelope).
const (
	// EnvelopeOptional: pushed events may be sealed or plain; pulls are
	// sealed when the request asks (X-Envelope: 1). The zero value.
	EnvelopeOptional = "optional"
	// EnvelopeRequired: every pushed event must be sealed, and pulls are
	// always sealed.
	EnvelopeRequired = "required"
)

// envelopeRequired reports whether the server requires envelopes: any mode
// but "" and "optional" does (a misspelt mode fails closed).
func (s *Server) envelopeRequired() bool {
	return s.cfg.Envelope != "" && s.cfg.Envelope != EnvelopeOptional
}

// envelopeCodecs caches each app's envelope codec (an app's key never
// changes once created). The zero value is ready.
type envelopeCodecs struct{ m sync.Map } // app → *envelope.Codec

// envelopeCodec returns app's envelope codec over crypto/aes.
func (s *Server) envelopeCodec(ctx context.Context, app string) (*envelope.Codec, error) {
	if c, ok := s.envelopes.m.Load(app); ok {
		return c.(*envelope.Codec), nil
	}
	key, _, err := s.envelopeKey(ctx, app)
	if err != nil {
		return nil, err
	}
	c, err := envelope.NewGoCodec(app, key)
	if err != nil {
		return nil, err
	}
	s.envelopes.m.Store(app, c)
	return c, nil
}

// openPush opens the envelopes of a push's events in place, under app's
// key, before anything else looks at them. A bad envelope refuses the whole
// push (ECRYPTO, HTTP 400, naming the event): nothing of it is applied.
// With requireSealed a plain event refuses it too.
func (s *Server) openPush(ctx context.Context, app string, evs []*dc.Event, requireSealed bool) error {
	sealed := 0
	for i, ev := range evs {
		switch {
		case ev == nil:
		case envelope.IsSealed(ev):
			sealed++
		case requireSealed:
			return dc.Errorf(dc.ECRYPTO, "event %d (%s) is not sealed: this server requires event data in an envelope under the app key from the login", i, ev.GUID)
		}
	}
	if sealed == 0 {
		return nil
	}
	c, err := s.envelopeCodec(ctx, app)
	if err != nil {
		return err
	}
	return c.OpenEvents(ctx, evs)
}

// sealPull seals the events' data of a pull answer when the request asks
// (X-Envelope: 1) or the server requires envelopes. A device naming another
// key id (X-Envelope-Key) than the app's is refused with ECRYPTO.
func (s *Server) sealPull(r *http.Request, app string, resp *dc.PullResponse) error {
	if !s.envelopeRequired() && r.Header.Get(envelope.HeaderEnvelope) != "1" {
		return nil
	}
	c, err := s.envelopeCodec(r.Context(), app)
	if err != nil {
		return err
	}
	if id := r.Header.Get(envelope.HeaderKeyID); id != "" && id != c.KeyID() {
		return dc.Errorf(dc.ECRYPTO, "the device holds envelope key %q, the app's key is %s: log in again", id, c.KeyID())
	}
	evs, err := c.SealEvents(r.Context(), resp.Events)
	if err != nil {
		return err
	}
	audit, err := c.SealAudit(r.Context(), resp.Audit)
	if err != nil {
		return err
	}
	resp.Events, resp.Audit = evs, audit
	return nil
}
