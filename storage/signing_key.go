package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SigningKey is a row of signing_keys, as stored: the keys package seals, unseals and uses the keys.
type SigningKey struct {
	ID         string     `gorm:"column:id;primaryKey"` // the kid
	Algorithm  string     `gorm:"column:algorithm"`     // RS256, ES256
	PublicJWK  RawJSON    `gorm:"column:public_jwk"`
	PrivateKey []byte     `gorm:"column:private_key"` // PKCS#8 sealed with AES-256-GCM
	CreatedAt  time.Time  `gorm:"column:created_at"`  // published in the JWKS from then
	ActiveAt   time.Time  `gorm:"column:active_at"`   // may sign from then
	RetiredAt  *time.Time `gorm:"column:retired_at"`  // stopped signing
	ExpiresAt  *time.Time `gorm:"column:expires_at"`  // removed from the JWKS after
}

// TableName implements gorm's Tabler.
func (SigningKey) TableName() string { return "signing_keys" }

// BeforeSave stores times in UTC at the precision of their columns.
func (k *SigningKey) BeforeSave(*gorm.DB) error {
	normalizeSeconds(&k.CreatedAt, &k.ActiveAt, k.RetiredAt, k.ExpiresAt)
	return nil
}

// ListSigningKeys returns every signing key, oldest first (ordered by created_at, id).
func (s *Store) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	var keys []SigningKey
	if err := s.conn(ctx).Order("created_at, id").Find(&keys).Error; err != nil {
		return nil, fmt.Errorf("list signing keys: %w", dbError(err))
	}
	return keys, nil
}

// CreateSigningKey inserts k; CreatedAt defaults to now. It returns ErrAlreadyExists when the kid is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *SigningKey) error {
	if err := s.conn(ctx).Create(k).Error; err != nil {
		return fmt.Errorf("create signing key: %w", dbError(err))
	}
	return nil
}

// UpdateSigningKey reads the key under a row lock, lets fn change it, and writes it back, in one
// transaction. fn's error aborts the update and is returned as it is. The ID is not changed.
// It returns ErrNotFound when there is no such key.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(*SigningKey) error) error {
	err := s.inTx(ctx, func(ctx context.Context) error {
		var k SigningKey
		if err := s.conn(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Take(&k, "id = ?", id).Error; err != nil {
			return dbError(err)
		}
		if err := fn(&k); err != nil {
			return err
		}
		k.ID = id
		return dbError(s.conn(ctx).Model(&k).Select("*").Omit("id").Updates(&k).Error)
	})
	if err != nil {
		return fmt.Errorf("update signing key: %w", err)
	}
	return nil
}
