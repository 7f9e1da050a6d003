package storage

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ory/fosite"
	"gorm.io/gorm"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinels of the Store's own methods. Test with errors.Is; the adapter methods of fosite.go return
// fosite's sentinels instead (fosite.ErrNotFound and friends), as fosite expects.
var (
	// ErrNotFound: no such row (for users, also: the user is deleted).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique key is taken (an email, a client ID, a linked identity).
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidText: a value to store is not valid UTF-8 or holds a NUL byte, which PostgreSQL's text
	// types cannot hold (SQLSTATE 22021).
	ErrInvalidText = errors.New("text is not valid UTF-8 or contains a NUL byte")
)

// validText reports whether s can be stored in and compared with a text column on every store.
// Lookups by an invalid key answer ErrNotFound up front: no row can hold such a key, and PostgreSQL
// would fail the query instead.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// allValidText reports whether every value is validText; models check their text before saving, so
// both stores refuse what PostgreSQL cannot hold.
func allValidText(values ...string) bool {
	for _, v := range values {
		if !validText(v) {
			return false
		}
	}
	return true
}

// dbError translates a database error into the Store's sentinels: a missing record into ErrNotFound, a
// unique violation (PostgreSQL 23505, SQLite UNIQUE or PRIMARY KEY constraint) into ErrAlreadyExists.
// Other errors pass through unchanged. This and fositeError are the only places that look at driver errors.
func dbError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case isUniqueViolation(err):
		return fmt.Errorf("%w: %w", ErrAlreadyExists, err)
	case isInvalidText(err):
		return fmt.Errorf("%w: %w", ErrInvalidText, err)
	}
	return err
}

// isInvalidText: PostgreSQL refused bytes its encoding cannot hold (22021 character_not_in_repertoire,
// 22P05 untranslatable_character).
func isInvalidText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}

// fositeError translates err for fosite and prefixes it with op: a missing row (gorm's or ErrNotFound)
// becomes fosite.ErrNotFound, a serialization failure or deadlock (PostgreSQL 40001, 40P01; SQLite BUSY,
// LOCKED) becomes fosite.ErrSerializationFailure, so fosite answers "retry" rather than a server error.
func fositeError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, ErrNotFound):
		return fmt.Errorf("%s: %w", op, fosite.ErrNotFound)
	case isSerializationFailure(err):
		return fmt.Errorf("%s: %w: %w", op, fosite.ErrSerializationFailure, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		primary := liteErr.Code() & 0xff // extended result codes keep the primary code in the low byte
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	return false
}
