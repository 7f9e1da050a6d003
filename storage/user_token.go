package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// UserToken is a row of users_tokens: one short-lived secret bound to a user, told apart by Context
// (TokenContextSession, TokenContextAuthorizeCode, …). Token holds Digest of the value handed out.
// Login-session and email rows leave TokenRequest empty; fosite's rows fill it in.
type UserToken struct {
	ID              uuid.UUID  `gorm:"column:id;primaryKey"`
	UserID          uuid.UUID  `gorm:"column:user_id"`
	Token           []byte     `gorm:"column:token"`
	Context         string     `gorm:"column:context"`
	SentTo          *string    `gorm:"column:sent_to"`
	AuthenticatedAt *time.Time `gorm:"column:authenticated_at"`
	Active          bool       `gorm:"column:active"`     // false once an authorization code is used
	ExpiresAt       *time.Time `gorm:"column:expires_at"` // nil: no expiry of its own (login sessions)
	CreatedAt       time.Time  `gorm:"column:created_at"`
	TokenRequest
}

// TableName implements gorm's Tabler.
func (UserToken) TableName() string { return "users_tokens" }

// BeforeCreate gives a new row a UUIDv7.
func (t *UserToken) BeforeCreate(*gorm.DB) error { return newID(&t.ID) }

// BeforeSave stores times in UTC at the precision of their columns.
func (t *UserToken) BeforeSave(*gorm.DB) error {
	normalizeSeconds(t.AuthenticatedAt, &t.CreatedAt)
	if t.ExpiresAt != nil {
		*t.ExpiresAt = dbTime(*t.ExpiresAt)
	}
	t.TokenRequest.normalize()
	return nil
}

// TokenRequest holds what fosite needs to rebuild a request from a users_tokens, client_tokens or
// refresh_tokens row. All of it is NULL on login-session and email rows.
type TokenRequest struct {
	RequestID         *string    `gorm:"column:request_id"`
	ClientID          *string    `gorm:"column:client_id"`
	RequestedAt       *time.Time `gorm:"column:requested_at"`
	RequestedScopes   StringList `gorm:"column:requested_scopes"`
	GrantedScopes     StringList `gorm:"column:granted_scopes"`
	RequestedAudience StringList `gorm:"column:requested_audience"`
	GrantedAudience   StringList `gorm:"column:granted_audience"`
	FormData          *string    `gorm:"column:form_data"`    // url-encoded, sanitized by fosite
	SessionData       RawJSON    `gorm:"column:session_data"` // the provider session as JSON
}

func (r *TokenRequest) normalize() {
	if r.RequestedAt != nil {
		*r.RequestedAt = dbTime(*r.RequestedAt)
	}
}

// CreateLoginSession stores the browser's login session for the user: a users_tokens row of context
// TokenContextSession holding Digest(token), authenticated now. The token itself is not stored.
func (s *Store) CreateLoginSession(ctx context.Context, userID uuid.UUID, token string) (*UserToken, error) {
	now := s.now()
	t := &UserToken{
		UserID:          userID,
		Token:           Digest(token),
		Context:         TokenContextSession,
		AuthenticatedAt: &now,
		Active:          true,
	}
	if err := s.conn(ctx).Create(t).Error; err != nil {
		return nil, fmt.Errorf("create login session: %w", dbError(err))
	}
	return t, nil
}

// GetLoginSession returns the login session of that token and its user. It returns ErrNotFound when
// there is no such session or its user is deleted. Expiry is the caller's rule (AuthenticatedAt).
func (s *Store) GetLoginSession(ctx context.Context, token string) (*UserToken, *User, error) {
	var t UserToken
	if err := s.conn(ctx).Take(&t, "context = ? AND token = ?", TokenContextSession, Digest(token)).Error; err != nil {
		return nil, nil, fmt.Errorf("get login session: %w", dbError(err))
	}
	u, err := s.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("get login session: %w", err)
	}
	return &t, u, nil
}

// DeleteLoginSession ends the login session of that token. It returns ErrNotFound when there is none.
func (s *Store) DeleteLoginSession(ctx context.Context, token string) error {
	res := s.conn(ctx).Delete(&UserToken{}, "context = ? AND token = ?", TokenContextSession, Digest(token))
	if res.Error != nil {
		return fmt.Errorf("delete login session: %w", dbError(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete login session: %w", ErrNotFound)
	}
	return nil
}
