package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names as gorm reports them (db.Dialector.Name()).
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Open connects to the database named by rawURL: "postgres://…" (or "postgresql://…") for production,
// "sqlite:PATH" for the embedded store. It pings the database, so an unreachable server is reported here,
// with a message that names the problem but never the password.
func Open(ctx context.Context, rawURL string) (*gorm.DB, error) {
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return nil, errors.New("database URL: malformed postgres URL (want postgres://user:pass@host:port/dbname)")
		}
		db, err := gorm.Open(postgres.New(postgres.Config{DSN: withUTC(u).String()}), cfg)
		if err != nil {
			return nil, fmt.Errorf("database %s: %s", redact(u), scrub(oneLine(err), u))
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("database %s: %s", redact(u), scrub(oneLine(err), u))
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := sqlDB.PingContext(pingCtx); err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("database %s is not reachable: %s", redact(u), scrub(oneLine(err), u))
		}
		return db, nil
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, errors.New("database URL: sqlite: needs a file path, as in sqlite:./kangrow-dev.db")
		}
		// The file is created on first use, its directory never: a mistyped path must not leave
		// directories behind, and says so instead.
		if dir := filepath.Dir(path); dir != "." {
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("database %s: directory %s does not exist", rawURL, dir)
			}
		}
		// One connection: SQLite has a single writer, and a pool of one makes every transaction wait its
		// turn instead of failing with SQLITE_BUSY. The adapter never needs a second connection while it
		// holds a transaction, so this cannot deadlock. _txlock=immediate takes the write lock at BEGIN:
		// another process on the same file (the CLI beside a dev server) then waits busy_timeout for it,
		// where a deferred transaction upgrading its read lock fails at once with SQLITE_BUSY(_SNAPSHOT).
		// No _time_format: with it, go-sqlite v1.21.2 ignores _txlock (applyQueryParams returns early),
		// and its default already writes "2006-01-02 15:04:05.999999999-07:00", the very format that
		// _time_format=sqlite names. The Store writes UTC only, so these strings compare as times.
		dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err := gorm.Open(sqlite.Open(dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("database %s: %s", rawURL, oneLine(err))
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", rawURL, err)
		}
		sqlDB.SetMaxOpenConns(1)
		if err := sqlDB.PingContext(ctx); err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("database %s: %s", rawURL, oneLine(err))
		}
		return db, nil
	case rawURL == "":
		return nil, errors.New("database URL is empty: set KANGROW_DATABASE_URL (postgres://… or sqlite:PATH)")
	default:
		return nil, errors.New("database URL: unsupported scheme (want postgres://… or sqlite:PATH)")
	}
}

// Close releases the connection pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// withUTC pins the session time zone: the seed's columns are "timestamp without time zone" and hold UTC.
func withUTC(u *url.URL) *url.URL {
	c := *u
	q := c.Query()
	if q.Get("timezone") == "" && q.Get("TimeZone") == "" {
		q.Set("timezone", "UTC")
	}
	c.RawQuery = q.Encode()
	return &c
}

// redact prints u without its secrets: the password of the user part and the password-like query
// parameters libpq accepts (password, sslpassword).
func redact(u *url.URL) string {
	c := *u
	q := c.Query()
	for _, k := range secretParams {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	c.RawQuery = q.Encode()
	return c.Redacted()
}

var secretParams = []string{"password", "sslpassword"}

// scrub removes u's secret values from a driver's message, which may quote the connection string.
func scrub(msg string, u *url.URL) string {
	var secrets []string
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	for _, k := range secretParams {
		if v := u.Query().Get(k); v != "" {
			secrets = append(secrets, v, url.QueryEscape(v))
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// oneLine is err's message with its lines joined: drivers put the cause on a second line
// ("failed to connect to …:\n\tdial error: … connection refused").
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
