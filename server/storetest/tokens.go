package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

// tokenNow is the suite's clock: stores keep times in milliseconds.
var tokenNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// refreshToken returns a test refresh token of family fam, expiring a day
// after tokenNow.
func refreshToken(hash, fam string) *dc.RefreshToken {
	return &dc.RefreshToken{Hash: hash, AppID: "app1", UserID: "u1", Email: "u1@example.org", Family: fam,
		CreatedAt: tokenNow, ExpiresAt: tokenNow.Add(24 * time.Hour)}
}

// nextToken returns the token a rotation stores: only its hash and times.
func nextToken(hash string) *dc.RefreshToken {
	return &dc.RefreshToken{Hash: hash, CreatedAt: tokenNow, ExpiresAt: tokenNow.Add(48 * time.Hour)}
}

// testRefreshRotation: a token rotates once into the next of its family;
// a second use is ECONFLICT, an unknown hash ENOTFOUND, an expired token
// EUNAUTHORIZED, and failures write nothing.
func testRefreshRotation(t *testing.T, s dc.ServerStore) {
	require.NoError(t, s.PutRefreshToken(ctx, refreshToken("h1", "f1")))
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(s.PutRefreshToken(ctx, refreshToken("h1", "f2"))))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(s.PutRefreshToken(ctx, &dc.RefreshToken{Hash: "h9"})))

	got, err := s.RefreshToken(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, refreshToken("h1", "f1"), got, "round trip")

	at := tokenNow.Add(time.Minute)
	old, err := s.UseRefreshToken(ctx, "h1", at, nextToken("h2"))
	require.NoError(t, err)
	assert.Equal(t, "f1", old.Family)
	assert.Equal(t, at, old.UsedAt, "the presented token, now used")
	h2, err := s.RefreshToken(ctx, "h2")
	require.NoError(t, err)
	assert.Equal(t, &dc.RefreshToken{Hash: "h2", AppID: "app1", UserID: "u1", Email: "u1@example.org", Family: "f1",
		CreatedAt: tokenNow, ExpiresAt: tokenNow.Add(48 * time.Hour)}, h2, "the next token joins the family")
	h1, err := s.RefreshToken(ctx, "h1")
	require.NoError(t, err)
	assert.Equal(t, at, h1.UsedAt)

	old, err = s.UseRefreshToken(ctx, "h1", at, nextToken("h3"))
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err), "reuse")
	require.NotNil(t, old)
	assert.Equal(t, "f1", old.Family, "a reused token names its family")
	_, err = s.RefreshToken(ctx, "h3")
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err), "a refused rotation stores nothing")

	_, err = s.UseRefreshToken(ctx, "nope", at, nextToken("h4"))
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
	_, err = s.RefreshToken(ctx, "nope")
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))

	_, err = s.UseRefreshToken(ctx, "h2", tokenNow.Add(48*time.Hour), nextToken("h5"))
	assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err), "expired at its expiry")
	_, err = s.UseRefreshToken(ctx, "h2", at, &dc.RefreshToken{})
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
	_, err = s.UseRefreshToken(ctx, "h2", at, nextToken("h1"))
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err), "the next hash is taken")
	h2, err = s.RefreshToken(ctx, "h2")
	require.NoError(t, err)
	assert.True(t, h2.UsedAt.IsZero(), "a failed rotation leaves the token unused")
}

// testRevokeFamily: revoking a family revokes each of its tokens, and no
// other family's; a revoked token cannot rotate; access tokens of the
// family are refused.
func testRevokeFamily(t *testing.T, s dc.ServerStore) {
	require.NoError(t, s.PutRefreshToken(ctx, refreshToken("a1", "fa")))
	_, err := s.UseRefreshToken(ctx, "a1", tokenNow, nextToken("a2"))
	require.NoError(t, err)
	require.NoError(t, s.PutRefreshToken(ctx, refreshToken("b1", "fb")))

	revoked, err := s.TokenRevoked(ctx, "j1", "fa", tokenNow)
	require.NoError(t, err)
	assert.False(t, revoked, "a live session")

	at := tokenNow.Add(time.Second)
	require.NoError(t, s.RevokeFamily(ctx, "fa", at))
	for _, h := range []string{"a1", "a2"} {
		tok, err := s.RefreshToken(ctx, h)
		require.NoError(t, err)
		assert.Equal(t, at, tok.RevokedAt, h)
	}
	b1, err := s.RefreshToken(ctx, "b1")
	require.NoError(t, err)
	assert.True(t, b1.RevokedAt.IsZero(), "another family is untouched")
	_, err = s.UseRefreshToken(ctx, "a2", at, nextToken("a3"))
	assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
	assert.Contains(t, dc.ErrorMessage(err), "revoked")

	revoked, err = s.TokenRevoked(ctx, "j1", "fa", at)
	require.NoError(t, err)
	assert.True(t, revoked, "the session is revoked")
	revoked, err = s.TokenRevoked(ctx, "j1", "fb", at)
	require.NoError(t, err)
	assert.False(t, revoked)
	revoked, err = s.TokenRevoked(ctx, "j1", "unknown", at)
	require.NoError(t, err)
	assert.True(t, revoked, "an unknown session is refused")
	revoked, err = s.TokenRevoked(ctx, "j1", "fb", tokenNow.Add(24*time.Hour))
	require.NoError(t, err)
	assert.True(t, revoked, "an expired session is refused")
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(s.RevokeFamily(ctx, "", at)))
}

// testRevokeToken: a denied access-token id is refused until pruned after
// its expiry; revoking twice keeps the later expiry.
func testRevokeToken(t *testing.T, s dc.ServerStore) {
	require.NoError(t, s.PutRefreshToken(ctx, refreshToken("r1", "f1")))
	exp := tokenNow.Add(15 * time.Minute)
	require.NoError(t, s.RevokeToken(ctx, "j1", exp))
	require.NoError(t, s.RevokeToken(ctx, "j1", tokenNow.Add(time.Minute)))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(s.RevokeToken(ctx, "", exp)))
	for jti, want := range map[string]bool{"j1": true, "j2": false} {
		revoked, err := s.TokenRevoked(ctx, jti, "f1", tokenNow)
		require.NoError(t, err)
		assert.Equal(t, want, revoked, jti)
	}

	n, err := s.PruneTokens(ctx, exp.Add(-time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 0, n, "nothing expired yet (revoking again kept the later expiry)")
	revoked, err := s.TokenRevoked(ctx, "j1", "f1", tokenNow)
	require.NoError(t, err)
	assert.True(t, revoked)

	n, err = s.PruneTokens(ctx, exp)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the denylist entry")
	n, err = s.PruneTokens(ctx, tokenNow.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the expired refresh token")
	_, err = s.RefreshToken(ctx, "r1")
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
}

// concurrentRefresh: of concurrent rotations of one token, through a and b
// (two stores on one database, or one store twice), exactly one wins; the
// others see the token used.
func concurrentRefresh(t *testing.T, a, b dc.ServerStore) {
	const n = 8
	require.NoError(t, a.PutRefreshToken(ctx, refreshToken("c1", "fc")))
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, errs[i] = s.UseRefreshToken(ctx, "c1", tokenNow, nextToken(fmt.Sprintf("c1-next-%d", i)))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch dc.ErrorCode(err) {
		case "":
			wins++
			_, err := b.RefreshToken(ctx, fmt.Sprintf("c1-next-%d", i))
			assert.NoError(t, err, "the winner's next token is stored")
		case dc.ECONFLICT:
			_, err := b.RefreshToken(ctx, fmt.Sprintf("c1-next-%d", i))
			assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err), "a loser's next token is not stored")
		default:
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	assert.Equal(t, 1, wins, "exactly one rotation wins")
}
