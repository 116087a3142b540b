//go:build js && wasm

package syncjs

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// session returns the client, its transport and app, or ECLOSED.
func (a *API) sessionParts() (*client.Client, *FetchTransport, string, client.SyncOptions, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client == nil {
		return nil, nil, "", client.SyncOptions{}, dc.Errorf(dc.ECLOSED, "datacollect is not initialised: call init({appId}) first")
	}
	return a.client, a.transport, a.appID, a.syncOpts, nil
}

func (a *API) login(args []js.Value) func() (any, error) {
	e, p := arg(args, 0), arg(args, 1)
	if e.Type() != js.TypeString || p.Type() != js.TypeString {
		return failed(dc.Errorf(dc.EINVALID, "login needs an email and a password"))
	}
	email, password := e.String(), p.String()
	return func() (any, error) {
		c, t, app, _, err := a.sessionParts()
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		resp, err := t.Login(ctx, app, email, password)
		if err != nil {
			return nil, err
		}
		s := &client.Session{Token: resp.Token, ExpiresAt: resp.ExpiresAt, UserID: resp.UserID, Email: email, Role: resp.Role}
		if err := c.SetSession(ctx, s); err != nil {
			return nil, err
		}
		t.SetToken(resp.Token)
		return toJS(viewSession(s))
	}
}

func (a *API) logout([]js.Value) func() (any, error) {
	return func() (any, error) {
		c, t, _, _, err := a.sessionParts()
		if err != nil {
			return nil, err
		}
		if err := c.SetSession(context.Background(), nil); err != nil {
			return nil, err
		}
		t.SetToken("")
		return js.Undefined(), nil
	}
}

func (a *API) session([]js.Value) func() (any, error) {
	return func() (any, error) {
		c, _, _, _, err := a.sessionParts()
		if err != nil {
			return nil, err
		}
		s, err := c.Session(context.Background())
		if err != nil {
			return nil, err
		}
		if s == nil {
			return js.Null(), nil
		}
		return toJS(viewSession(s))
	}
}

// viewSession is what JS sees of a session: never the token.
func viewSession(s *client.Session) any {
	return map[string]any{"userId": s.UserID, "email": s.Email, "role": s.Role, "expiresAt": s.ExpiresAt}
}

type syncKind int

const (
	syncBoth syncKind = iota
	syncPush
	syncPull
)

func (a *API) syncMethod(kind syncKind) func([]js.Value) func() (any, error) {
	return func([]js.Value) func() (any, error) {
		return func() (any, error) {
			c, t, _, o, err := a.sessionParts()
			if err != nil {
				return nil, err
			}
			ctx := context.Background()
			var res client.SyncResult
			switch kind {
			case syncPush:
				res, err = c.Push(ctx, t, o)
			case syncPull:
				res, err = c.Pull(ctx, t, o)
			default:
				res, err = c.Sync(ctx, t, o)
			}
			if err != nil {
				return nil, err
			}
			return toJS(res)
		}
	}
}
