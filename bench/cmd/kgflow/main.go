// Command kgflow drives a running KanGrow Auth (on 127.0.0.1 only) for the load script and the query
// counts of docs/performance.md.
//
//	kgflow tokens -issuer URL -client ID -secret S -email E -password P
//	    signs in through the login and consent pages, redeems the code and prints
//	    ACCESS_TOKEN=… and REFRESH_TOKEN=… lines for a shell to eval.
//	kgflow trace -issuer URL … -service ID -service-secret S -mark-dsn DSN [-rounds N]
//	    calls each hot-path endpoint once per round, in order, and before and after each call runs
//	    SELECT 'kgmark begin|end STEP ROUND' on the database at -mark-dsn, so that a PostgreSQL log
//	    written with log_min_duration_statement=0 can be cut per request (bench/cmd/pglogcount).
//
// Every request has a timeout and every loop a fixed count; the issuer must be a loopback URL.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kangrow/auth/bench/flow"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kgflow:", err)
		os.Exit(1)
	}
}

type options struct {
	issuer, clientID, secret, redirect, scope string
	email, password                           string
	serviceID, serviceSecret                  string
	markDSN                                   string
	rounds                                    int
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: kgflow tokens|trace [flags]")
	}
	var o options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.StringVar(&o.issuer, "issuer", "http://127.0.0.1:18080", "issuer (loopback only)")
	fs.StringVar(&o.clientID, "client", "webapp", "confidential authorization_code client")
	fs.StringVar(&o.secret, "secret", "", "its secret")
	fs.StringVar(&o.redirect, "redirect-uri", "http://127.0.0.1:9/callback", "its registered redirect URI (never dialled)")
	fs.StringVar(&o.scope, "scope", "openid profile email offline_access", "scope to request")
	fs.StringVar(&o.email, "email", "ada@example.test", "user email")
	fs.StringVar(&o.password, "password", "", "user password")
	fs.StringVar(&o.serviceID, "service", "service", "client_credentials client")
	fs.StringVar(&o.serviceSecret, "service-secret", "", "its secret")
	fs.StringVar(&o.markDSN, "mark-dsn", "", "trace: database to write the markers to")
	fs.IntVar(&o.rounds, "rounds", 3, "trace: rounds (1..20)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := loopbackOnly(o.issuer); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second}
	web := &flow.Client{Issuer: o.issuer, ID: o.clientID, Secret: o.secret, RedirectURI: o.redirect, Scope: o.scope, HTTP: hc}
	switch args[0] {
	case "tokens":
		code, verifier, err := flow.NewBrowser(web).SignIn(ctx, o.email, o.password)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		t, err := web.Exchange(ctx, code, verifier)
		if err != nil {
			return err
		}
		fmt.Printf("ACCESS_TOKEN=%s\nREFRESH_TOKEN=%s\n", t.AccessToken, t.RefreshToken)
		return nil
	case "trace":
		if o.rounds < 1 || o.rounds > 20 {
			return errors.New("-rounds: 1 to 20")
		}
		service := &flow.Client{Issuer: o.issuer, ID: o.serviceID, Secret: o.serviceSecret, HTTP: hc}
		return trace(ctx, o, web, service)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// loopbackOnly refuses an issuer whose host is not a loopback address or localhost.
func loopbackOnly(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("-issuer: %w", err)
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("-issuer %q: only loopback hosts are allowed", issuer)
}

func trace(ctx context.Context, o options, web, service *flow.Client) error {
	if o.markDSN == "" {
		return errors.New("-mark-dsn: required")
	}
	db, err := sql.Open("pgx", o.markDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	mark := func(what, step string, round int) error {
		_, err := db.ExecContext(ctx, fmt.Sprintf("SELECT 'kgmark %s %s %d'", what, step, round))
		return err
	}
	// step runs fn between two markers and prints its wall time as the client saw it.
	step := func(name string, round int, fn func() error) error {
		if err := mark("begin", name, round); err != nil {
			return err
		}
		start := time.Now()
		err := fn()
		elapsed := time.Since(start)
		if merr := mark("end", name, round); err == nil {
			err = merr
		}
		if err != nil {
			return fmt.Errorf("%s (round %d): %w", name, round, err)
		}
		fmt.Printf("%-24s round %d  %8.2f ms\n", name, round, float64(elapsed.Microseconds())/1000)
		return nil
	}
	ok := func(status int, body []byte, err error) error {
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("status %d: %.300s", status, body)
		}
		return nil
	}

	b := flow.NewBrowser(web)
	if err := step("signin_pages", 0, func() error {
		_, _, err := b.SignIn(ctx, o.email, o.password)
		return err
	}); err != nil {
		return err
	}
	for r := 1; r <= o.rounds; r++ {
		var code, verifier string
		var user, refreshed, cc, other flow.Tokens
		steps := []struct {
			name string
			fn   func() error
		}{
			{"discovery", func() error { return ok(web.Get(ctx, "/.well-known/openid-configuration", "")) }},
			{"jwks", func() error { return ok(web.Get(ctx, "/.well-known/jwks.json", "")) }},
			{"authorize", func() (err error) { code, verifier, err = b.Code(ctx); return err }},
			{"token_authorization_code", func() (err error) { user, err = web.Exchange(ctx, code, verifier); return err }},
			{"userinfo", func() error { return ok(web.Get(ctx, "/userinfo", user.AccessToken)) }},
			{"introspect_user_token", func() error {
				return ok(web.Post(ctx, "/oauth2/introspect", url.Values{"token": {user.AccessToken}}))
			}},
			{"token_refresh_token", func() (err error) { refreshed, err = web.Refresh(ctx, user.RefreshToken); return err }},
			{"token_client_credentials", func() (err error) { cc, err = service.ClientCredentials(ctx, "reports.read"); return err }},
			{"introspect_cc_token", func() error {
				return ok(service.Post(ctx, "/oauth2/introspect", url.Values{"token": {cc.AccessToken}}))
			}},
			{"revoke_refresh_token", func() error {
				return ok(web.Post(ctx, "/oauth2/revoke", url.Values{"token": {refreshed.RefreshToken}, "token_type_hint": {"refresh_token"}}))
			}},
			// A second grant, not measured, so that an access token of a live grant can be revoked.
			{"", func() error {
				c, v, err := b.Code(ctx)
				if err == nil {
					other, err = web.Exchange(ctx, c, v)
				}
				return err
			}},
			{"revoke_access_token", func() error {
				return ok(web.Post(ctx, "/oauth2/revoke", url.Values{"token": {other.AccessToken}, "token_type_hint": {"access_token"}}))
			}},
		}
		for _, s := range steps {
			if s.name == "" {
				if err := s.fn(); err != nil {
					return fmt.Errorf("second grant (round %d): %w", r, err)
				}
				continue
			}
			if err := step(s.name, r, s.fn); err != nil {
				return err
			}
		}
	}
	return nil
}
