package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ory/fosite"

	"github.com/kangrow/auth/storage"
)

// racers is how many requests race for one code or one refresh token.
const racers = 16

// race runs attempt in racers goroutines released together by a start barrier, each in its own
// transaction (BeginTX, attempt, Commit; Rollback on error) as fosite's token endpoint runs it, and
// returns each attempt's error.
func race(t *testing.T, s *storage.Store, attempt func(ctx context.Context, i int) error) []error {
	t.Helper()
	ctx := testContext(t)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, racers)
	for i := range racers {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			txCtx, err := s.BeginTX(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			if err := attempt(txCtx, i); err != nil {
				errs[i] = errors.Join(err, s.Rollback(txCtx))
				return
			}
			errs[i] = s.Commit(txCtx)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// sentinel is an error a losing racer may return, named for the log.
type sentinel struct {
	name string
	err  error
}

var errSerialization = sentinel{"fosite.ErrSerializationFailure", fosite.ErrSerializationFailure}

// checkOneWinner wants exactly one nil error, and every other error to be one of the fosite sentinels
// in allowed (never a server error).
func checkOneWinner(t *testing.T, errs []error, allowed ...sentinel) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Errorf("racers %d and %d both succeeded", winner, i)
			}
			winner = i
			continue
		}
		ok := false
		for _, target := range allowed {
			ok = ok || errors.Is(err, target.err)
		}
		if !ok {
			t.Errorf("racer %d: error %v, want one of %v", i, err, allowed)
		}
	}
	if winner < 0 {
		t.Fatal("no racer succeeded")
	}
	for _, target := range allowed {
		n := 0
		for _, err := range errs {
			if errors.Is(err, target.err) {
				n++
			}
		}
		t.Logf("%d of %d racers lost with %s", n, len(errs), target.name)
	}
	return winner
}

func testRaceAuthorizeCode(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	code := newSignature(t)
	must(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, g.req))
	access := make([]string, racers)
	for i := range access {
		access[i] = newSignature(t)
	}

	errs := race(t, s, func(ctx context.Context, i int) error {
		if err := s.InvalidateAuthorizeCodeSession(ctx, code); err != nil {
			return err
		}
		return s.CreateAccessTokenSession(ctx, access[i], g.req)
	})
	winner := checkOneWinner(t, errs,
		sentinel{"fosite.ErrInvalidatedAuthorizeCode", fosite.ErrInvalidatedAuthorizeCode}, errSerialization)

	for i, sig := range access {
		_, err := s.GetAccessTokenSession(ctx, sig, &openidSession{})
		if i == winner {
			must(t, "access token of the winner", err)
		} else {
			wantErr(t, "access token of a loser", err, fosite.ErrNotFound)
		}
	}
	_, err := s.GetAuthorizeCodeSession(ctx, code, &openidSession{})
	wantErr(t, "GetAuthorizeCodeSession(after the race)", err, fosite.ErrInvalidatedAuthorizeCode)
}

func testRaceRefreshRotation(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	access, refresh := newSignature(t), newSignature(t)
	must(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, access, g.req))
	must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, refresh, access, g.req))
	newAccess, newRefresh := make([]string, racers), make([]string, racers)
	for i := range racers {
		newAccess[i], newRefresh[i] = newSignature(t), newSignature(t)
	}

	errs := race(t, s, func(ctx context.Context, i int) error {
		if err := s.RotateRefreshToken(ctx, g.req.ID, refresh); err != nil {
			return err
		}
		if err := s.CreateAccessTokenSession(ctx, newAccess[i], g.req); err != nil {
			return err
		}
		return s.CreateRefreshTokenSession(ctx, newRefresh[i], newAccess[i], g.req)
	})
	winner := checkOneWinner(t, errs, sentinel{"fosite.ErrInactiveToken", fosite.ErrInactiveToken}, errSerialization)

	_, err := s.GetRefreshTokenSession(ctx, refresh, &openidSession{})
	wantErr(t, "GetRefreshTokenSession(rotated)", err, fosite.ErrInactiveToken)
	_, err = s.GetAccessTokenSession(ctx, access, &openidSession{})
	wantErr(t, "GetAccessTokenSession(of the rotated token)", err, fosite.ErrNotFound)
	for i := range racers {
		_, accessErr := s.GetAccessTokenSession(ctx, newAccess[i], &openidSession{})
		_, refreshErr := s.GetRefreshTokenSession(ctx, newRefresh[i], &openidSession{})
		if i == winner {
			must(t, "access token of the winner", accessErr)
			must(t, "refresh token of the winner", refreshErr)
		} else {
			wantErr(t, "access token of a loser", accessErr, fosite.ErrNotFound)
			wantErr(t, "refresh token of a loser", refreshErr, fosite.ErrNotFound)
		}
	}
}
