package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/kangrow/auth/keys"
	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/web"
)

// keyReloadInterval is how often a running server picks up keys rotated by another process (the
// keys command or another replica). A rotation publishes the next key 2×JWKS max-age before it
// signs, so a minute is far inside that window.
const keyReloadInterval = time.Minute

// instance is the provider wired together: storage, signing keys, fosite and the web pages. serve runs
// it; the end-to-end tests drive it over HTTP.
type instance struct {
	handler http.Handler
	store   *storage.Store
	keys    *keys.Set
}

// newInstance wires the packages over an open, migrated database. now is the clock of storage, keys
// and the pages (fosite reads the wall clock itself); nil means time.Now.
func newInstance(ctx context.Context, cfg *Config, db *gorm.DB, logger *slog.Logger, now func() time.Time) (*instance, error) {
	if now == nil {
		now = time.Now
	}
	store := storage.New(db, storage.WithClock(now))
	ks, err := loadKeys(ctx, store, cfg.Secret, keys.WithClock(now))
	if err != nil {
		return nil, err
	}
	secret := []byte(cfg.Secret)
	prov, err := provider.New(provider.Config{Issuer: cfg.Issuer, Secret: secret, Now: now}, store, ks)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	handler, err := web.New(web.Deps{
		Provider: prov,
		Store:    store,
		Secret:   secret,
		Issuer:   cfg.Issuer,
		Logger:   logger,
		Now:      now,
		Ready: func(ctx context.Context) error {
			// Ready when the database answers and a key can sign ID tokens.
			if _, _, ok := ks.Signing(keys.RS256); !ok {
				return errors.New("no RS256 signing key")
			}
			ctx, cancel := context.WithTimeout(ctx, readyTimeout)
			defer cancel()
			return sqlDB.PingContext(ctx)
		},
	})
	if err != nil {
		return nil, err
	}
	return &instance{handler: handler, store: store, keys: ks}, nil
}

// loadKeys opens the signing keys with the system secret, generating them on the first start.
func loadKeys(ctx context.Context, store *storage.Store, secret string, opts ...keys.Option) (*keys.Set, error) {
	ks, err := keys.New(keyStore{store}, []byte(secret), opts...)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	if err := ks.Load(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return ks, nil
}

// reloadKeys re-reads the signing keys from the database. Keys are held in memory and never read per
// request; serve calls this every keyReloadInterval, the one place they are re-read.
func reloadKeys(ctx context.Context, ks *keys.Set, logger *slog.Logger) {
	if err := ks.Reload(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("reload signing keys", "err", err)
	}
}

// every calls fn each interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// keyStore adapts storage's signing_keys rows to the keys package, which imports none of ours.
type keyStore struct{ s *storage.Store }

var _ keys.Store = keyStore{}

func (k keyStore) ListSigningKeys(ctx context.Context) ([]keys.Record, error) {
	rows, err := k.s.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]keys.Record, len(rows))
	for i, r := range rows {
		out[i] = toRecord(r)
	}
	return out, nil
}

func (k keyStore) CreateSigningKey(ctx context.Context, r keys.Record) error {
	row := fromRecord(r)
	return k.s.CreateSigningKey(ctx, &row)
}

func (k keyStore) UpdateSigningKey(ctx context.Context, kid string, fn func(*keys.Record) error) error {
	return k.s.UpdateSigningKey(ctx, kid, func(row *storage.SigningKey) error {
		r := toRecord(*row)
		if err := fn(&r); err != nil {
			return err
		}
		*row = fromRecord(r)
		return nil
	})
}

func toRecord(r storage.SigningKey) keys.Record {
	return keys.Record{
		ID: r.ID, Algorithm: r.Algorithm, PublicJWK: []byte(r.PublicJWK), PrivateKey: r.PrivateKey,
		CreatedAt: r.CreatedAt, ActiveAt: r.ActiveAt, RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt,
	}
}

func fromRecord(r keys.Record) storage.SigningKey {
	return storage.SigningKey{
		ID: r.ID, Algorithm: r.Algorithm, PublicJWK: storage.RawJSON(r.PublicJWK), PrivateKey: r.PrivateKey,
		CreatedAt: r.CreatedAt, ActiveAt: r.ActiveAt, RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt,
	}
}
