package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Store is the one storage of the provider: users and their identities, clients, login sessions,
// consents, signing keys, and (in fosite.go) every fosite storage interface the provider composes.
// It is safe for concurrent use.
type Store struct {
	db    *gorm.DB
	clock func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now as the Store's clock (tests move it by hand). Fosite reads the wall clock
// itself; this clock only stamps the rows the Store writes and decides what DeleteExpired and the JWT
// replay check consider expired.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.clock = now }
}

// New returns a Store over db, which must hold the schema of docs/schema.md (migrations.Up builds it).
// Open db with storage.Open, or at least with gorm's TranslateError on.
func New(db *gorm.DB, opts ...Option) *Store {
	s := &Store{clock: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	s.db = db.Session(&gorm.Session{
		NewDB: true,
		// The seed's timestamps are timestamp(0) without time zone: GORM's created_at/updated_at come
		// from the Store's clock, in UTC, whole seconds, so PostgreSQL and SQLite read back the same value.
		NowFunc: s.now,
		// Every write is a single statement or runs in an explicit transaction (inTx, BeginTX).
		SkipDefaultTransaction: true,
	})
	return s
}

// now is the Store's clock in UTC, truncated to the second (the precision of the seed's columns).
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Second) }

// Token contexts: the values of users_tokens.context.
const (
	TokenContextSession       = "session"        // the browser's login session
	TokenContextConfirm       = "confirm"        // email confirmation
	TokenContextResetPassword = "reset_password" // password reset
	TokenContextAuthorizeCode = "authorize_code" // fosite: authorization code
	TokenContextAccessToken   = "access_token"   // fosite: access token bound to a user
	TokenContextPKCE          = "pkce"           // fosite: PKCE request of an authorization code
	TokenContextOpenID        = "openid"         // fosite: OpenID Connect request of an authorization code
)

// Digest is the SHA-256 of value. Only digests of secrets are stored, never the secrets themselves:
// users_tokens.token and client_tokens.token hold Digest(value), refresh_tokens.token holds its hex, and
// clients.secret_hash holds Digest(secret). A leaked database then hands out no usable token. A plain
// hash suffices because every value hashed here is a random string of at least 128 bits, not a password.
func Digest(value string) []byte {
	sum := sha256.Sum256([]byte(value))
	return sum[:]
}

// ListOptions pages a list. A Limit of zero or less means no limit.
type ListOptions struct {
	Limit  int
	Offset int
}

func (o ListOptions) apply(db *gorm.DB) *gorm.DB {
	if o.Limit > 0 {
		db = db.Limit(o.Limit)
	}
	if o.Offset > 0 {
		db = db.Offset(o.Offset)
	}
	return db
}

type txKey struct{}

// conn is where every query starts: the transaction that BeginTX put in ctx, or else the pool.
// Inside a transaction no query may take a second pooled connection (the SQLite pool has one).
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// inTx runs fn in the transaction of ctx, or else in a new one that commits when fn returns nil.
// fn receives a context carrying the transaction; queries inside it start from s.conn(ctx).
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// BeginTX starts a transaction and returns a context carrying it; every Store method called with that
// context runs in it, until Commit or Rollback. It implements fosite's storage.Transactional. Transactions
// do not nest: BeginTX on a context that already carries one returns an error.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return ctx, errors.New("begin transaction: context already carries one")
	}
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return ctx, fositeError("begin transaction", tx.Error)
	}
	return context.WithValue(ctx, txKey{}, tx), nil
}

// Commit commits the transaction of ctx. A serialization failure or deadlock reported by the database
// is returned as fosite.ErrSerializationFailure.
func (s *Store) Commit(ctx context.Context) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return errors.New("commit: no transaction in context")
	}
	return fositeError("commit", tx.Commit().Error)
}

// Rollback rolls back the transaction of ctx.
func (s *Store) Rollback(ctx context.Context) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return errors.New("rollback: no transaction in context")
	}
	return fositeError("rollback", tx.Rollback().Error)
}

// DeleteExpired removes the rows that expired before the given time: users_tokens, client_tokens and
// jwt_assertions rows whose expires_at < before, and refresh_tokens whose expires_at < before. Rows
// without an expiry (login sessions, email tokens) are left alone. It returns how many rows it removed.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time) (int64, error) {
	before = before.UTC()
	var total int64
	for _, model := range []any{&UserToken{}, &clientToken{}, &jwtAssertion{}, &RefreshToken{}} {
		res := s.conn(ctx).Where("expires_at < ?", before).Delete(model)
		if res.Error != nil {
			return total, fmt.Errorf("delete expired: %w", dbError(res.Error))
		}
		total += res.RowsAffected
	}
	return total, nil
}

// dbTime is how the Store writes a time into a column with microsecond precision: UTC (PostgreSQL's
// "timestamp without time zone" keeps the wall clock it is given) and truncated to what PostgreSQL keeps.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// dbSeconds is dbTime for the seed's timestamp(0) columns, which PostgreSQL would otherwise round.
func dbSeconds(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// normalizeSeconds applies dbSeconds to each non-nil, non-zero time.
func normalizeSeconds(ts ...*time.Time) {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			*t = dbSeconds(*t)
		}
	}
}
