package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// User is a row of users: an account, with password, social identities, or both.
//
// DeletedAt makes deletion soft: every query of the Store skips deleted users, so a deleted user is
// ErrNotFound everywhere, yet the email stays taken (the unique index still holds it).
type User struct {
	ID            uuid.UUID `gorm:"column:id;primaryKey"`
	Email         string    `gorm:"column:email"` // citext: unique and compared case-insensitively
	EmailVerified bool      `gorm:"column:email_verified"`
	FirstName     *string   `gorm:"column:first_name"`
	LastName      *string   `gorm:"column:last_name"`
	// HashedPassword is a PHC string (argon2id); nil for social-only accounts.
	HashedPassword    *string    `gorm:"column:hashed_password"`
	Identities        Identities `gorm:"column:identities"`
	AvatarURL         *string    `gorm:"column:avatar_url"`
	LastLogin         *time.Time `gorm:"column:last_login"`
	LastIP            *string    `gorm:"column:last_ip"`
	LastPasswordReset *time.Time `gorm:"column:last_password_reset"`
	LoginsCount       int        `gorm:"column:logins_count"`
	Verified          bool       `gorm:"column:verified"`
	Banned            bool       `gorm:"column:banned"`
	Blocked           bool       `gorm:"column:blocked"`
	// ResetPasswordToken must hold a digest (hex of Digest(token)), never the token mailed to the user.
	ResetPasswordToken  *string        `gorm:"column:reset_password_token"`
	ResetPasswordSentAt *time.Time     `gorm:"column:reset_password_sent_at"` // microseconds
	ConfirmedAt         *time.Time     `gorm:"column:confirmed_at"`
	DeletedAt           gorm.DeletedAt `gorm:"column:deleted_at"`
	CreatedAt           time.Time      `gorm:"column:created_at"`
	UpdatedAt           time.Time      `gorm:"column:updated_at"`
}

// TableName implements gorm's Tabler.
func (User) TableName() string { return "users" }

// CanSignIn reports whether u may sign in and keep what it was granted: not banned, blocked or deleted.
func (u *User) CanSignIn() bool {
	return u != nil && !u.Banned && !u.Blocked && !u.DeletedAt.Valid
}

// BeforeCreate gives a new user a UUIDv7.
func (u *User) BeforeCreate(*gorm.DB) error {
	return newID(&u.ID)
}

// BeforeSave stores times in UTC at the precision of their columns.
func (u *User) BeforeSave(*gorm.DB) error {
	if !allValidText(u.Email, deref(u.FirstName), deref(u.LastName), deref(u.AvatarURL), deref(u.LastIP)) {
		return fmt.Errorf("save user: %w", ErrInvalidText)
	}
	normalizeSeconds(u.LastLogin, u.LastPasswordReset, u.ConfirmedAt, &u.CreatedAt, &u.UpdatedAt)
	if u.ResetPasswordSentAt != nil {
		*u.ResetPasswordSentAt = dbTime(*u.ResetPasswordSentAt)
	}
	return nil
}

// Identity is what we learnt from one upstream identity provider about a user.
type Identity struct {
	Subject       string         `json:"subject"` // the upstream "sub": unique per provider
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"email_verified,omitempty"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	LinkedAt      time.Time      `json:"linked_at"`
	Raw           map[string]any `json:"raw,omitempty"` // the upstream claims, as received
}

// userIdentity is a row of user_identities: the unique, indexed lookup behind users.identities.
type userIdentity struct {
	Provider  string    `gorm:"column:provider;primaryKey"`
	Subject   string    `gorm:"column:subject;primaryKey"`
	UserID    uuid.UUID `gorm:"column:user_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (userIdentity) TableName() string { return "user_identities" }

func newID(id *uuid.UUID) error {
	if *id != uuid.Nil {
		return nil
	}
	v, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new id: %w", err)
	}
	*id = v
	return nil
}

// CreateUser inserts u, giving it an ID when it has none, and fills in its timestamps. It returns
// ErrAlreadyExists when the email is taken, compared case-insensitively (also by a deleted user).
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := s.conn(ctx).Create(u).Error; err != nil {
		return fmt.Errorf("create user: %w", dbError(err))
	}
	return nil
}

// GetUser returns the user with that ID, or ErrNotFound (also when the user is deleted).
func (s *Store) GetUser(ctx context.Context, id uuid.UUID) (*User, error) {
	var u User
	if err := s.conn(ctx).Take(&u, "id = ?", id).Error; err != nil {
		return nil, fmt.Errorf("get user: %w", dbError(err))
	}
	return &u, nil
}

// GetUserByEmail returns the user with that email, compared case-insensitively, or ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	if !validText(email) {
		return nil, fmt.Errorf("get user by email: %w", ErrNotFound)
	}
	var u User
	// users.email is citext on PostgreSQL and COLLATE NOCASE on SQLite: "=" ignores case on both.
	if err := s.conn(ctx).Take(&u, "email = ?", email).Error; err != nil {
		return nil, fmt.Errorf("get user by email: %w", dbError(err))
	}
	return &u, nil
}

// ListUsers returns the users that are not deleted, oldest first (ordered by created_at, id).
func (s *Store) ListUsers(ctx context.Context, opts ListOptions) ([]User, error) {
	var users []User
	if err := opts.apply(s.conn(ctx)).Order("created_at, id").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", dbError(err))
	}
	return users, nil
}

// UpdateUser reads the user with that ID under a row lock, lets fn change it, and writes it back, all in
// one transaction; it returns the user as written. fn's error aborts the update and is returned as it
// is. ID, Identities, CreatedAt and DeletedAt are not written (use SetIdentity, RemoveIdentity,
// DeleteUser). It returns ErrNotFound when there is no such user, ErrAlreadyExists when the new email
// is taken.
func (s *Store) UpdateUser(ctx context.Context, id uuid.UUID, fn func(*User) error) (*User, error) {
	var u User
	err := s.inTx(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Take(&u, "id = ?", id).Error; err != nil {
			return dbError(err)
		}
		if err := fn(&u); err != nil {
			return err
		}
		u.ID = id
		return dbError(s.conn(ctx).Model(&u).Select("*").Omit("id", "identities", "created_at", "deleted_at").Updates(&u).Error)
	})
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return &u, nil
}

// RecordLogin notes a successful login: last_login = now, last_ip = ip, logins_count + 1. The increment
// happens in SQL, so concurrent logins are all counted. It returns ErrNotFound when there is no such user.
func (s *Store) RecordLogin(ctx context.Context, id uuid.UUID, ip string) error {
	res := s.conn(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{
		"last_login":   s.now(),
		"last_ip":      ip,
		"logins_count": gorm.Expr("logins_count + 1"),
	})
	if res.Error != nil {
		return fmt.Errorf("record login: %w", dbError(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("record login: %w", ErrNotFound)
	}
	return nil
}

// DeleteUser soft-deletes the user (sets deleted_at) and revokes all its grants as RevokeUserGrants
// does, in one transaction. It returns ErrNotFound when there is no such user or it is already deleted.
func (s *Store) DeleteUser(ctx context.Context, id uuid.UUID) error {
	err := s.inTx(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Delete(&User{}, "id = ?", id)
		if res.Error != nil {
			return dbError(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return s.revokeUserGrants(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// RevokeUserGrants ends everything the user was granted, for a ban, block or deletion: it deletes the
// user's users_tokens rows of every context (login sessions, email tokens, authorization codes, access
// tokens, PKCE and OpenID Connect requests) and marks all its refresh tokens revoked, in one
// transaction. Revoked refresh tokens are kept so that a later use is still recognised as reuse.
// A user without grants is not an error.
func (s *Store) RevokeUserGrants(ctx context.Context, userID uuid.UUID) error {
	if err := s.inTx(ctx, func(ctx context.Context) error { return s.revokeUserGrants(ctx, userID) }); err != nil {
		return fmt.Errorf("revoke user grants: %w", err)
	}
	return nil
}

func (s *Store) revokeUserGrants(ctx context.Context, userID uuid.UUID) error {
	if err := s.conn(ctx).Delete(&UserToken{}, "user_id = ?", userID).Error; err != nil {
		return dbError(err)
	}
	return dbError(s.conn(ctx).Model(&RefreshToken{}).
		Where("user_id = ? AND revoked = ?", userID, false).
		Update("revoked", true).Error)
}

// SetIdentity links the upstream identity (provider, id.Subject) to the user, or refreshes what we know
// about it when it is linked already; a user has at most one identity per provider, so linking another
// subject of the same provider replaces the old one. users.identities and user_identities change in one
// transaction. LinkedAt is kept from the first link of that subject (set to now when new).
// It returns ErrAlreadyExists when (provider, subject) belongs to another user, ErrNotFound when there
// is no such user.
func (s *Store) SetIdentity(ctx context.Context, userID uuid.UUID, provider string, id Identity) error {
	if provider == "" || id.Subject == "" {
		return errors.New("set identity: provider and subject must not be empty")
	}
	err := s.inTx(ctx, func(ctx context.Context) error {
		var u User
		if err := s.conn(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Take(&u, "id = ?", userID).Error; err != nil {
			return dbError(err)
		}
		var owner userIdentity
		err := s.conn(ctx).Take(&owner, "provider = ? AND subject = ?", provider, id.Subject).Error
		switch {
		case err == nil && owner.UserID != userID:
			return ErrAlreadyExists
		case err == nil: // linked to this user already
		case errors.Is(err, gorm.ErrRecordNotFound):
			if err := s.conn(ctx).Delete(&userIdentity{}, "provider = ? AND user_id = ?", provider, userID).Error; err != nil {
				return dbError(err)
			}
			if err := s.conn(ctx).Create(&userIdentity{Provider: provider, Subject: id.Subject, UserID: userID, CreatedAt: s.now()}).Error; err != nil {
				return dbError(err)
			}
		default:
			return dbError(err)
		}
		if old, ok := u.Identities[provider]; ok && old.Subject == id.Subject && !old.LinkedAt.IsZero() {
			id.LinkedAt = old.LinkedAt
		} else if id.LinkedAt.IsZero() {
			id.LinkedAt = s.now()
		}
		id.LinkedAt = id.LinkedAt.UTC()
		if u.Identities == nil {
			u.Identities = Identities{}
		}
		u.Identities[provider] = id
		return dbError(s.conn(ctx).Model(&u).Update("identities", u.Identities).Error)
	})
	if err != nil {
		return fmt.Errorf("set identity: %w", err)
	}
	return nil
}

// RemoveIdentity unlinks the user's identity at provider, from users.identities and user_identities in
// one transaction. It returns ErrNotFound when the user does not exist or has no identity there.
func (s *Store) RemoveIdentity(ctx context.Context, userID uuid.UUID, provider string) error {
	err := s.inTx(ctx, func(ctx context.Context) error {
		var u User
		if err := s.conn(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Take(&u, "id = ?", userID).Error; err != nil {
			return dbError(err)
		}
		if _, ok := u.Identities[provider]; !ok {
			return ErrNotFound
		}
		delete(u.Identities, provider)
		if err := s.conn(ctx).Delete(&userIdentity{}, "provider = ? AND user_id = ?", provider, userID).Error; err != nil {
			return dbError(err)
		}
		return dbError(s.conn(ctx).Model(&u).Update("identities", u.Identities).Error)
	})
	if err != nil {
		return fmt.Errorf("remove identity: %w", err)
	}
	return nil
}

// GetUserByIdentity returns the user linked to the upstream identity (provider, subject), found through
// the user_identities index, or ErrNotFound (also when that user is deleted).
func (s *Store) GetUserByIdentity(ctx context.Context, provider, subject string) (*User, error) {
	if !validText(provider) || !validText(subject) {
		return nil, fmt.Errorf("get user by identity: %w", ErrNotFound)
	}
	var u User
	err := s.conn(ctx).
		Joins("JOIN user_identities ON user_identities.user_id = users.id").
		Where("user_identities.provider = ? AND user_identities.subject = ?", provider, subject).
		Take(&u).Error
	if err != nil {
		return nil, fmt.Errorf("get user by identity: %w", dbError(err))
	}
	return &u, nil
}
