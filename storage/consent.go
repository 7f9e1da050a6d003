package storage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Consent is a row of consents: the scopes a user has granted a client, remembered so that the consent
// page is not shown again for them.
type Consent struct {
	ID        uuid.UUID  `gorm:"column:id;primaryKey"`
	UserID    uuid.UUID  `gorm:"column:user_id"`
	ClientID  string     `gorm:"column:client_id"`
	Scopes    StringList `gorm:"column:scopes"`
	CreatedAt time.Time  `gorm:"column:created_at"`
	UpdatedAt time.Time  `gorm:"column:updated_at"`
}

// TableName implements gorm's Tabler.
func (Consent) TableName() string { return "consents" }

// BeforeCreate gives a new row a UUIDv7.
func (c *Consent) BeforeCreate(*gorm.DB) error { return newID(&c.ID) }

// BeforeSave stores times in UTC at the precision of their columns, and never a NULL scope list.
func (c *Consent) BeforeSave(*gorm.DB) error {
	if c.Scopes == nil {
		c.Scopes = StringList{}
	}
	normalizeSeconds(&c.CreatedAt, &c.UpdatedAt)
	return nil
}

// GetConsent returns what the user has granted the client, or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID uuid.UUID, clientID string) (*Consent, error) {
	if !validText(clientID) {
		return nil, fmt.Errorf("get consent: %w", ErrNotFound)
	}
	var c Consent
	if err := s.conn(ctx).Take(&c, "user_id = ? AND client_id = ?", userID, clientID).Error; err != nil {
		return nil, fmt.Errorf("get consent: %w", dbError(err))
	}
	return &c, nil
}

// SaveConsent remembers that the user granted the client these scopes, adding them to what was granted
// before (the union, in the order first granted). Concurrent saves for the same pair all count.
func (s *Store) SaveConsent(ctx context.Context, userID uuid.UUID, clientID string, scopes []string) error {
	err := s.inTx(ctx, func(ctx context.Context) error {
		// Insert-or-nothing first, so that the row surely exists and the locking read below serializes
		// concurrent savers of the same pair instead of letting one overwrite the other.
		fresh := &Consent{UserID: userID, ClientID: clientID, Scopes: union(nil, scopes)}
		res := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(fresh)
		if res.Error != nil {
			return dbError(res.Error)
		}
		if res.RowsAffected == 1 {
			return nil
		}
		var c Consent
		if err := s.conn(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Take(&c, "user_id = ? AND client_id = ?", userID, clientID).Error; err != nil {
			return dbError(err)
		}
		merged := union(c.Scopes, scopes)
		if len(merged) == len(c.Scopes) {
			return nil
		}
		return dbError(s.conn(ctx).Model(&c).Update("scopes", merged).Error)
	})
	if err != nil {
		return fmt.Errorf("save consent: %w", err)
	}
	return nil
}

// DeleteConsent forgets what the user granted the client. It returns ErrNotFound when nothing was.
func (s *Store) DeleteConsent(ctx context.Context, userID uuid.UUID, clientID string) error {
	res := s.conn(ctx).Delete(&Consent{}, "user_id = ? AND client_id = ?", userID, clientID)
	if res.Error != nil {
		return fmt.Errorf("delete consent: %w", dbError(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete consent: %w", ErrNotFound)
	}
	return nil
}

// union returns a followed by the elements of b that a lacks, without duplicates.
func union(a, b []string) StringList {
	out := StringList{}
	for _, v := range slices.Concat(a, b) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
