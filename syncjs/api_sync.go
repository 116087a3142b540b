//go:build js && wasm

package syncjs

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// parts are the initialised API's collaborators.
type parts struct {
	c      *client.Client
	t      *FetchTransport
	app    string
	syncer *client.Syncer
}

// parts returns the initialised client and its collaborators, or ECLOSED.
func (a *API) parts() (parts, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client == nil && a.locked {
		return parts{}, dc.Errorf(dc.ECRYPTO, "datacollect is locked: call unlock(passphrase)")
	}
	if a.client == nil {
		return parts{}, dc.Errorf(dc.ECLOSED, "datacollect is not initialised: call init({appId}) first")
	}
	return parts{c: a.client, t: a.transport, app: a.appID, syncer: a.life.syncer}, nil
}

func (a *API) login(args []js.Value) func() (any, error) {
	e, p := arg(args, 0), arg(args, 1)
	if e.Type() != js.TypeString || p.Type() != js.TypeString {
		return failed(dc.Errorf(dc.EINVALID, "login needs an email and a password"))
	}
	email, password := e.String(), p.String()
	return func() (any, error) {
		p, err := a.parts()
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		resp, err := p.t.Login(ctx, p.app, email, password)
		if err != nil {
			return nil, err
		}
		s := sessionOf(resp, email)
		if err := p.c.SetSession(ctx, s); err != nil {
			return nil, err
		}
		p.t.SetToken(resp.Token)
		if err := p.t.SetAppKey(p.app, resp.AppKey, resp.AppKeyID); err != nil {
			return nil, err
		}
		p.c.SetUser(resp.UserID)
		if err := p.syncer.Resume(ctx); err != nil {
			return nil, err
		}
		return toJS(viewSession(s))
	}
}

func (a *API) logout([]js.Value) func() (any, error) {
	return func() (any, error) {
		p, err := a.parts()
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		if s, _ := p.c.Session(ctx); s != nil && navigatorOnline() {
			// Revoke the tokens on the server too (best effort: offline,
			// they expire).
			_ = p.t.Logout(ctx, s.RefreshToken)
		}
		if err := p.c.SetSession(ctx, nil); err != nil {
			return nil, err
		}
		p.t.SetToken("")
		_ = p.t.SetAppKey(p.app, nil, "")
		p.syncer.WaitForLogin()
		return js.Undefined(), nil
	}
}

func (a *API) session([]js.Value) func() (any, error) {
	return func() (any, error) {
		p, err := a.parts()
		if err != nil {
			return nil, err
		}
		s, err := p.c.Session(context.Background())
		if err != nil {
			return nil, err
		}
		if s == nil {
			return js.Null(), nil
		}
		return toJS(viewSession(s))
	}
}

// sessionOf is the session a login or refresh answer opens.
func sessionOf(resp *dc.LoginResponse, email string) *client.Session {
	return &client.Session{Token: resp.Token, ExpiresAt: resp.ExpiresAt, UserID: resp.UserID, Email: email,
		Role: resp.Role, RefreshToken: resp.RefreshToken, AppKey: resp.AppKey, AppKeyID: resp.AppKeyID}
}

// refresher returns the FetchTransport.Refresh of c's session: it trades
// the stored refresh token for new tokens and stores them. A refresh token
// is single-use and the server revokes the whole session when one is used
// twice, so refreshes are serialised across the app's tabs (a Web Lock)
// and the session is read again first: another tab, or an earlier caller,
// may have refreshed it already.
func refresher(c *client.Client, t *FetchTransport, app, lockName string) func(ctx context.Context) (string, error) {
	lock := webLock(lockName)
	return func(ctx context.Context) (tok string, err error) {
		err = lock(ctx, func() error {
			s, err := c.Session(ctx)
			if err != nil {
				return err
			}
			if s == nil || s.RefreshToken == "" {
				return dc.Errorf(dc.EUNAUTHORIZED, "no session to refresh")
			}
			if s.Token != t.bearer() {
				t.SetToken(s.Token)
				tok = s.Token
				return t.SetAppKey(app, s.AppKey, s.AppKeyID)
			}
			resp, err := t.RefreshTokens(ctx, s.RefreshToken)
			if err != nil {
				return err
			}
			ns := sessionOf(resp, s.Email)
			if err := c.SetSession(ctx, ns); err != nil {
				return err
			}
			t.SetToken(ns.Token)
			tok = ns.Token
			return t.SetAppKey(app, ns.AppKey, ns.AppKeyID)
		})
		return tok, err
	}
}

// viewSession is what JS sees of a session: never the token.
func viewSession(s *client.Session) any {
	return map[string]any{"userId": s.UserID, "email": s.Email, "role": s.Role, "expiresAt": s.ExpiresAt}
}

func (a *API) syncMethod(kind client.SyncKind) func([]js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.syncer.Sync(ctx, kind) })
}

// call makes a method without arguments that runs fn on the initialised
// client and returns its result as JSON.
func (a *API) call(fn func(ctx context.Context, p parts) (any, error)) func([]js.Value) func() (any, error) {
	return func([]js.Value) func() (any, error) {
		return func() (any, error) {
			p, err := a.parts()
			if err != nil {
				return nil, err
			}
			v, err := fn(context.Background(), p)
			if err != nil {
				return nil, err
			}
			return toJS(v)
		}
	}
}

func (a *API) status(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.syncer.Status(ctx) })(args)
}

func (a *API) metrics(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.syncer.Metrics(ctx) })(args)
}

func (a *API) inspect(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.syncer.Inspect(ctx) })(args)
}

func (a *API) plan(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.syncer.Plan(ctx) })(args)
}

func (a *API) retryFailed(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) {
		n, err := p.syncer.RetryFailed(ctx)
		return map[string]int{"requeued": n}, err
	})(args)
}

func (a *API) setAutoSync(args []js.Value) func() (any, error) {
	on := arg(args, 0)
	if on.Type() != js.TypeBoolean {
		return failed(dc.Errorf(dc.EINVALID, "setAutoSync needs true or false"))
	}
	return a.call(func(ctx context.Context, p parts) (any, error) {
		p.syncer.SetAuto(on.Bool())
		return p.syncer.Status(ctx)
	})(args)
}
