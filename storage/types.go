package storage

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
)

// StringList is a list of strings kept in a JSON column (jsonb on PostgreSQL, TEXT on SQLite).
// A nil list is written as NULL, an empty one as [].
type StringList []string

// Value implements driver.Valuer. The JSON goes out as a string: pgx passes it to jsonb verbatim, and
// SQLite keeps it as TEXT.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return nil, nil
	}
	b, err := json.Marshal([]string(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// GormDataType tells gorm the column holds JSON.
func (StringList) GormDataType() string { return "json" }

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		*l = nil
		return err
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// Identities are a user's linked social identities keyed by provider ("google", "github", …), kept in
// users.identities as JSON. Change them only through SetIdentity and RemoveIdentity, which keep the
// user_identities index in step.
type Identities map[string]Identity

// Value implements driver.Valuer; a nil map is written as NULL.
func (m Identities) Value() (driver.Value, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(map[string]Identity(m))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// GormDataType tells gorm the column holds JSON.
func (Identities) GormDataType() string { return "json" }

// Scan implements sql.Scanner.
func (m *Identities) Scan(src any) error {
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		*m = nil
		return err
	}
	return json.Unmarshal(b, (*map[string]Identity)(m))
}

// RawJSON is a JSON document kept as it is (jsonb on PostgreSQL, TEXT on SQLite). Empty is NULL.
type RawJSON []byte

// Value implements driver.Valuer.
func (j RawJSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	if !json.Valid(j) {
		return nil, errors.New("raw json: invalid JSON")
	}
	return string(j), nil
}

// GormDataType tells gorm the column holds JSON.
func (RawJSON) GormDataType() string { return "json" }

// Scan implements sql.Scanner.
func (j *RawJSON) Scan(src any) error {
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		*j = nil
		return err
	}
	*j = append(RawJSON(nil), b...)
	return nil
}

// MarshalJSON keeps the document as it is when a RawJSON is itself marshalled.
func (j RawJSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps a copy of the document.
func (j *RawJSON) UnmarshalJSON(b []byte) error {
	*j = append(RawJSON(nil), b...)
	return nil
}

// jsonBytes reads a JSON column as bytes: pgx hands jsonb over as []byte or string, SQLite TEXT as string.
func jsonBytes(src any) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("json column: unsupported type %T", src)
}
