//go:build !js

package sqlstore

import (
	"context"
	"errors"
	"time"

	dc "github.com/datacollect/datacollect"
)

// Sessions: refresh tokens (by SHA-256 hash, never the token) in families,
// one per login, and the denylist of revoked access-token ids. Rotation is
// one conditional UPDATE (the token is still unused, unrevoked and
// unexpired) and the INSERT of its successor in one transaction: of two
// concurrent rotations of one token, on one database however many servers
// share it, exactly one updates the row (PostgreSQL re-checks the condition
// once the first one's row lock is released; SQLite runs one writer at a
// time). Times are stored as Unix milliseconds.
const (
	qPutRefresh = `INSERT INTO refresh_tokens (hash, app_id, user_id, email, family, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING`
	qUseRefresh = `UPDATE refresh_tokens SET used_at = $2
		WHERE hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`
	qRefresh = `SELECT hash, app_id, user_id, email, family, created_at, expires_at,
		COALESCE(used_at, 0), COALESCE(revoked_at, 0) FROM refresh_tokens WHERE hash = $1`
	qRevokeFamily = `UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL`
	qRevokeToken  = `INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE SET expires_at = CASE WHEN excluded.expires_at > revoked_tokens.expires_at
			THEN excluded.expires_at ELSE revoked_tokens.expires_at END`
	// qTokenRevoked: (1 if the jti is denied, 1 if the family has a live
	// token), both through primary or covering indexes.
	qTokenRevoked = `SELECT
		CASE WHEN EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1) THEN 1 ELSE 0 END,
		CASE WHEN EXISTS (SELECT 1 FROM refresh_tokens WHERE family = $2 AND expires_at > $3 AND revoked_at IS NULL)
			THEN 1 ELSE 0 END`
	qPruneRefresh = `DELETE FROM refresh_tokens WHERE expires_at <= $1`
	qPruneRevoked = `DELETE FROM revoked_tokens WHERE expires_at <= $1`
)

// millis returns t as Unix milliseconds, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// PutRefreshToken implements datacollect.ServerStore.
func (s *Store) PutRefreshToken(ctx context.Context, t *dc.RefreshToken) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := validRefresh(t); err != nil {
		return err
	}
	n, err := s.db.exec(ctx, qPutRefresh, t.Hash, t.AppID, t.UserID, t.Email, t.Family, millis(t.CreatedAt), millis(t.ExpiresAt))
	if err != nil {
		return s.err("put refresh token", err)
	}
	if n == 0 {
		return dc.Errorf(dc.EEXISTS, "put refresh token: the hash is stored already")
	}
	return nil
}

// validRefresh returns EINVALID for a token without hash, app, user,
// family or expiry.
func validRefresh(t *dc.RefreshToken) error {
	if t == nil || t.Hash == "" || t.AppID == "" || t.UserID == "" || t.Family == "" || t.ExpiresAt.IsZero() {
		return dc.Errorf(dc.EINVALID, "refresh token: need a hash, an app, a user, a family and an expiry")
	}
	return nil
}

// UseRefreshToken implements datacollect.ServerStore.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time, next *dc.RefreshToken) (*dc.RefreshToken, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if next == nil || next.Hash == "" || next.ExpiresAt.IsZero() {
		return nil, dc.Errorf(dc.EINVALID, "use refresh token: the next token needs a hash and an expiry")
	}
	t, err := s.db.begin(ctx, true)
	if err != nil {
		return nil, s.err("use refresh token: begin", err)
	}
	defer t.rollback()
	n, err := t.exec(ctx, qUseRefresh, hash, millis(now))
	if err != nil {
		return nil, s.err("use refresh token", err)
	}
	old, err := scanRefresh(t.queryRow(ctx, qRefresh, hash))
	if err != nil {
		return nil, s.err("use refresh token", err)
	}
	if n == 0 {
		switch {
		case !old.RevokedAt.IsZero():
			return old, dc.Errorf(dc.EUNAUTHORIZED, "the refresh token was revoked")
		case !old.UsedAt.IsZero():
			return old, dc.Errorf(dc.ECONFLICT, "the refresh token was used already")
		default:
			return old, dc.Errorf(dc.EUNAUTHORIZED, "the refresh token expired")
		}
	}
	next.AppID, next.UserID, next.Email, next.Family = old.AppID, old.UserID, old.Email, old.Family
	next.UsedAt, next.RevokedAt = time.Time{}, time.Time{}
	ins, err := t.exec(ctx, qPutRefresh, next.Hash, next.AppID, next.UserID, next.Email, next.Family,
		millis(next.CreatedAt), millis(next.ExpiresAt))
	if err != nil {
		return nil, s.err("use refresh token: store the next one", err)
	}
	if ins == 0 {
		return nil, dc.Errorf(dc.EEXISTS, "use refresh token: the next token's hash is stored already")
	}
	if err := t.commit(ctx); err != nil {
		return nil, s.err("use refresh token: commit", err)
	}
	return old, nil
}

// RefreshToken implements datacollect.ServerStore.
func (s *Store) RefreshToken(ctx context.Context, hash string) (*dc.RefreshToken, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	tok, err := scanRefresh(s.db.queryRow(ctx, qRefresh, hash))
	if err != nil {
		return nil, s.err("read refresh token", err)
	}
	return tok, nil
}

// scanRefresh reads a qRefresh row; ENOTFOUND when there is none.
func scanRefresh(r row) (*dc.RefreshToken, error) {
	var tok dc.RefreshToken
	var created, expires, used, revoked int64
	err := r.Scan(&tok.Hash, &tok.AppID, &tok.UserID, &tok.Email, &tok.Family, &created, &expires, &used, &revoked)
	if errors.Is(err, errNoRows) {
		return nil, dc.Errorf(dc.ENOTFOUND, "unknown refresh token")
	}
	if err != nil {
		return nil, err
	}
	tok.CreatedAt, tok.ExpiresAt, tok.UsedAt, tok.RevokedAt = fromMillis(created), fromMillis(expires), fromMillis(used), fromMillis(revoked)
	return &tok, nil
}

// RevokeFamily implements datacollect.ServerStore.
func (s *Store) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	if family == "" {
		return dc.Errorf(dc.EINVALID, "revoke family: no family")
	}
	if _, err := s.db.exec(ctx, qRevokeFamily, family, millis(now)); err != nil {
		return s.err("revoke family", err)
	}
	return nil
}

// RevokeToken implements datacollect.ServerStore.
func (s *Store) RevokeToken(ctx context.Context, jti string, expiresAt time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	if jti == "" || expiresAt.IsZero() {
		return dc.Errorf(dc.EINVALID, "revoke token: need an id and an expiry")
	}
	if _, err := s.db.exec(ctx, qRevokeToken, jti, millis(expiresAt)); err != nil {
		return s.err("revoke token", err)
	}
	return nil
}

// TokenRevoked implements datacollect.ServerStore.
func (s *Store) TokenRevoked(ctx context.Context, jti, family string, now time.Time) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	var denied, live int64
	if err := s.db.queryRow(ctx, qTokenRevoked, jti, family, millis(now)).Scan(&denied, &live); err != nil {
		return false, s.err("check token revocation", err)
	}
	return denied != 0 || live == 0, nil
}

// PruneTokens implements datacollect.ServerStore.
func (s *Store) PruneTokens(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	a, err := s.db.exec(ctx, qPruneRefresh, millis(now))
	if err != nil {
		return 0, s.err("prune refresh tokens", err)
	}
	b, err := s.db.exec(ctx, qPruneRevoked, millis(now))
	if err != nil {
		return int(a), s.err("prune revoked tokens", err)
	}
	return int(a + b), nil
}
