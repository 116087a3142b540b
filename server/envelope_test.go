//go:build !js

package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/wire"
	"github.com/datacollect/datacollect/wire/envelope"
)

// envServer is a server over SQLite and a logged-in user of one app.
type envServer struct {
	t     *testing.T
	st    dc.ServerStore
	h     http.Handler
	app   string
	token string
	codec *envelope.Codec // under the key the login delivered
}

func newEnvServer(t *testing.T, mode string) *envServer {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, t.TempDir()+"/dc.db")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(st, server.Config{Envelope: mode}, server.Options{})
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})
	e := &envServer{t: t, st: st, h: srv.Handler()}
	e.login("env")
	return e
}

// login logs a new user of app in and keeps its token and key.
func (e *envServer) login(app string) {
	t := e.t
	email := "u" + app + "@example.org"
	if _, err := server.CreateUser(context.Background(), e.st, app, email, "long enough", dc.RoleSync, time.Now()); err != nil {
		t.Fatal(err)
	}
	var resp dc.LoginResponse
	if code, er := e.do("POST", wire.PathLogin, nil, &dc.LoginRequest{AppID: app, Email: email, Password: "long enough"}, &resp, wire.MsgPack); code != 200 {
		t.Fatalf("login: %d %+v", code, er)
	}
	if len(resp.AppKey) != envelope.KeySize || resp.AppKeyID != envelope.KeyID(resp.AppKey) {
		t.Fatalf("login delivered key %x id %q", resp.AppKey, resp.AppKeyID)
	}
	c, err := envelope.NewGoCodec(app, resp.AppKey)
	if err != nil {
		t.Fatal(err)
	}
	e.app, e.token, e.codec = app, resp.Token, c
}

// do sends a request and decodes a 2xx answer into out, else returns the
// error answer.
func (e *envServer) do(method, path string, hdr map[string]string, in, out wire.Message, ct string) (int, *dc.ErrorResponse) {
	e.t.Helper()
	var body []byte
	if in != nil {
		var err error
		if body, err = wire.Marshal(ct, in); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", ct)
	req.Header.Set("X-Sync-Version", dc.ProtocolVersion)
	req.Header.Set("X-Client-ID", "dev-1")
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		var er dc.ErrorResponse
		if err := wire.Unmarshal(ct, rec.Body.Bytes(), &er); err != nil {
			e.t.Fatalf("%s %s: %d with body %q", method, path, rec.Code, rec.Body.Bytes())
		}
		return rec.Code, &er
	}
	if out != nil {
		if err := wire.Unmarshal(ct, rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return rec.Code, nil
}

func (e *envServer) push(evs []*dc.Event, ct string) (int, *dc.ErrorResponse, *dc.PushResponse) {
	e.t.Helper()
	var resp dc.PushResponse
	code, er := e.do("POST", wire.PathPush, nil, &dc.PushRequest{Events: evs}, &resp, ct)
	return code, er, &resp
}

func (e *envServer) seal(evs ...*dc.Event) []*dc.Event {
	e.t.Helper()
	out, err := e.codec.SealEvents(context.Background(), evs)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *envServer) count() int {
	e.t.Helper()
	n, err := e.st.CountAfter(context.Background(), e.app, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// refused checks a 400 ECRYPTO answer whose message has want.
func refused(t *testing.T, code int, er *dc.ErrorResponse, want string) {
	t.Helper()
	if code != http.StatusBadRequest || er == nil || er.Code != dc.ECRYPTO || !strings.Contains(er.Message, want) {
		t.Fatalf("got %d %+v, want 400 ECRYPTO with %q", code, er, want)
	}
}

func person(guid, name string) *dc.Event {
	return &dc.Event{GUID: guid, EntityGUID: "p-" + guid, Type: "create-individual", Timestamp: "2026-11-25T08:00:00.000Z",
		SyncLevel: dc.Local, Data: map[string]any{"name": name, "age": int64(34), "village": "Kibera"}}
}

func TestEnvelopeOptional(t *testing.T) {
	e := newEnvServer(t, "")
	sealed := e.seal(person("e1", "Amina"))
	for _, ct := range []string{wire.MsgPack, wire.JSON} {
		code, er, resp := e.push(sealed, ct)
		if code != 200 || resp.Results[0].Status == dc.PushRejected {
			t.Fatalf("%s: sealed push: %d %+v %+v", ct, code, er, resp)
		}
	}
	if code, er, resp := e.push([]*dc.Event{person("e2", "Juma")}, wire.MsgPack); code != 200 || resp.Results[0].Status != dc.PushAccepted {
		t.Fatalf("plain push in optional mode: %d %+v %+v", code, er, resp)
	}
	// The store holds the data, never the envelope.
	evs, _, _, err := e.st.Pull(context.Background(), e.app, 0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("stored %d events (%v)", len(evs), err)
	}
	if evs[0].Sealed != nil || evs[0].Data["name"] != "Amina" {
		t.Fatalf("stored %+v", evs[0])
	}
	// Pulls are plain unless asked.
	var plain dc.PullResponse
	if code, er := e.do("GET", "/api/v1/sync/pull?since=0", nil, nil, &plain, wire.MsgPack); code != 200 || plain.Events[0].Sealed != nil {
		t.Fatalf("plain pull: %d %+v", code, er)
	}
	for _, ct := range []string{wire.MsgPack, wire.JSON} {
		var got dc.PullResponse
		hdr := map[string]string{envelope.HeaderEnvelope: "1", envelope.HeaderKeyID: e.codec.KeyID()}
		if code, er := e.do("GET", "/api/v1/sync/pull?since=0", hdr, nil, &got, ct); code != 200 {
			t.Fatalf("sealed pull: %d %+v", code, er)
		}
		for _, ev := range got.Events {
			if len(ev.Data) != 0 || !envelope.IsSealed(ev) || ev.Seq == 0 {
				t.Fatalf("%s: pulled %+v", ct, ev)
			}
		}
		if err := e.codec.OpenEvents(context.Background(), got.Events); err != nil {
			t.Fatal(err)
		}
		if ct == wire.MsgPack && !reflect.DeepEqual(got.Events[0].Data, plain.Events[0].Data) {
			t.Fatalf("opened %#v, plain pull gave %#v", got.Events[0].Data, plain.Events[0].Data)
		}
	}
	var got dc.PullResponse
	code, er := e.do("GET", "/api/v1/sync/pull?since=0", map[string]string{envelope.HeaderEnvelope: "1", envelope.HeaderKeyID: "00000000"}, nil, &got, wire.MsgPack)
	refused(t, code, er, "log in again")
}

func TestEnvelopeRequired(t *testing.T) {
	e := newEnvServer(t, server.EnvelopeRequired)
	code, er, _ := e.push([]*dc.Event{person("e1", "Amina")}, wire.MsgPack)
	refused(t, code, er, "not sealed")
	// One plain event refuses the whole push.
	code, er, _ = e.push(append(e.seal(person("e2", "Juma")), person("e3", "Zoë")), wire.MsgPack)
	refused(t, code, er, "event 1 (e3) is not sealed")
	if n := e.count(); n != 0 {
		t.Fatalf("refused pushes stored %d events", n)
	}
	if code, er, resp := e.push(e.seal(person("e2", "Juma")), wire.MsgPack); code != 200 || resp.Results[0].Status != dc.PushAccepted {
		t.Fatalf("sealed push: %d %+v %+v", code, er, resp)
	}
	// Pulls are sealed without asking.
	var got dc.PullResponse
	if code, er := e.do("GET", "/api/v1/sync/pull?since=0", nil, nil, &got, wire.MsgPack); code != 200 || len(got.Events) != 1 || !envelope.IsSealed(got.Events[0]) {
		t.Fatalf("pull: %d %+v %+v", code, er, got.Events)
	}
	if err := e.codec.OpenEvents(context.Background(), got.Events); err != nil || got.Events[0].Data["name"] != "Juma" {
		t.Fatalf("open pull: %v", err)
	}
}

// TestEnvelopeReplay: a replayed push stays idempotent, and an envelope cut
// from one event and pasted into another guid, entity, type or app is
// refused, with nothing stored.
func TestEnvelopeReplay(t *testing.T) {
	e := newEnvServer(t, server.EnvelopeRequired)
	orig := person("e1", "Amina")
	first := e.seal(orig)
	code, _, resp := e.push(first, wire.MsgPack)
	if code != 200 || resp.Results[0].Status != dc.PushAccepted {
		t.Fatalf("push: %d %+v", code, resp)
	}
	seq := resp.Results[0].Seq
	// The same bytes again, and the same event sealed with a fresh IV.
	for _, evs := range [][]*dc.Event{first, e.seal(orig)} {
		code, _, resp := e.push(evs, wire.MsgPack)
		if code != 200 || resp.Results[0].Status != dc.PushDuplicate || resp.Results[0].Seq != seq {
			t.Fatalf("replay: %d %+v", code, resp)
		}
	}
	if n := e.count(); n != 1 {
		t.Fatalf("replays stored %d events", n)
	}
	ent, err := e.st.Entity(context.Background(), e.app, orig.EntityGUID)
	if err != nil || ent.Version != 1 {
		t.Fatalf("entity after replays: %+v (%v)", ent, err)
	}

	paste := func(mod func(ev *dc.Event)) *dc.Event {
		ev := *first[0]
		ev.Sealed = bytes.Clone(first[0].Sealed)
		mod(&ev)
		return &ev
	}
	valid := e.seal(person("e9", "Valid"))[0]
	for name, ev := range map[string]*dc.Event{
		"another guid":   paste(func(ev *dc.Event) { ev.GUID = "e2" }),
		"another entity": paste(func(ev *dc.Event) { ev.GUID, ev.EntityGUID = "e3", "p-other" }),
		"another type":   paste(func(ev *dc.Event) { ev.GUID, ev.Type = "e4", "update-individual" }),
		"tampered":       paste(func(ev *dc.Event) { ev.GUID = "e5"; ev.Sealed[len(ev.Sealed)-3] ^= 0x40 }),
		"duplicate guid, tampered": paste(func(ev *dc.Event) {
			ev.Sealed[envelope.HeaderSize] ^= 1
		}),
	} {
		t.Run(name, func(t *testing.T) {
			code, er, _ := e.push([]*dc.Event{valid, ev}, wire.MsgPack)
			refused(t, code, er, "does not authenticate")
			if !strings.Contains(er.Message, "event 1 ("+ev.GUID+")") {
				t.Fatalf("message does not name the event: %q", er.Message)
			}
			if n := e.count(); n != 1 {
				t.Fatalf("a refused push stored events: %d", n)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		code, er, _ := e.push([]*dc.Event{paste(func(ev *dc.Event) { ev.GUID = "e6"; ev.Sealed = ev.Sealed[:20] })}, wire.MsgPack)
		refused(t, code, er, "truncated")
	})
	t.Run("bad magic", func(t *testing.T) {
		code, er, _ := e.push([]*dc.Event{paste(func(ev *dc.Event) { ev.GUID = "e7"; ev.Sealed[0] = 'X' })}, wire.MsgPack)
		refused(t, code, er, "bad magic")
	})
	t.Run("sealed and plain", func(t *testing.T) {
		code, er, _ := e.push([]*dc.Event{paste(func(ev *dc.Event) { ev.GUID = "e8"; ev.Data = map[string]any{"x": "y"} })}, wire.MsgPack)
		refused(t, code, er, "plain data")
	})
	t.Run("another app", func(t *testing.T) {
		stolen := e.seal(person("e10", "Stolen"))
		e.login("other-app")
		code, er, _ := e.push(stolen, wire.MsgPack)
		refused(t, code, er, "log in again")
		if n := e.count(); n != 0 {
			t.Fatalf("the other app stored %d events", n)
		}
	})
}
