package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// RefreshToken is a row of refresh_tokens ("offline grants"): one refresh token of a user. Token is the
// hex of Digest(fosite's signature). Revoked marks a token that was rotated or revoked; the row stays so
// that a second use is recognised as reuse and the whole grant revoked. DeviceInfo and LastUsedAt feed
// the user's list of signed-in devices.
type RefreshToken struct {
	ID         uuid.UUID  `gorm:"column:id;primaryKey"`
	Token      string     `gorm:"column:token"`
	UserID     uuid.UUID  `gorm:"column:user_id"`
	ExpiresAt  time.Time  `gorm:"column:expires_at"`
	Revoked    bool       `gorm:"column:revoked"`
	DeviceInfo *string    `gorm:"column:device_info"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	UpdatedAt  time.Time  `gorm:"column:updated_at"`
	TokenRequest
}

// TableName implements gorm's Tabler.
func (RefreshToken) TableName() string { return "refresh_tokens" }

// BeforeCreate gives a new row a UUIDv7.
func (t *RefreshToken) BeforeCreate(*gorm.DB) error { return newID(&t.ID) }

// BeforeSave stores times in UTC at the precision of their columns.
func (t *RefreshToken) BeforeSave(*gorm.DB) error {
	normalizeSeconds(&t.ExpiresAt, t.LastUsedAt, &t.CreatedAt, &t.UpdatedAt)
	t.TokenRequest.normalize()
	return nil
}

// ListRefreshTokens returns the user's refresh tokens, revoked ones included, oldest first (ordered by
// created_at, id): the user's signed-in devices are the ones not revoked.
func (s *Store) ListRefreshTokens(ctx context.Context, userID uuid.UUID) ([]RefreshToken, error) {
	var tokens []RefreshToken
	if err := s.conn(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&tokens).Error; err != nil {
		return nil, fmt.Errorf("list refresh tokens: %w", dbError(err))
	}
	return tokens, nil
}
