package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/password"
)

const minPasswordLen = 8 // characters; NIST SP 800-63B §5.1.1.2

// userJSON is how the command line shows a user. The password hash never leaves storage.
type userJSON struct {
	ID            uuid.UUID  `json:"id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	FirstName     *string    `json:"first_name"`
	LastName      *string    `json:"last_name"`
	Verified      bool       `json:"verified"`
	Banned        bool       `json:"banned"`
	Blocked       bool       `json:"blocked"`
	HasPassword   bool       `json:"has_password"`
	ConfirmedAt   *time.Time `json:"confirmed_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func toUserJSON(u *storage.User) userJSON {
	return userJSON{
		ID:            u.ID,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		FirstName:     u.FirstName,
		LastName:      u.LastName,
		Verified:      u.Verified,
		Banned:        u.Banned,
		Blocked:       u.Blocked,
		HasPassword:   u.HashedPassword != nil,
		ConfirmedAt:   u.ConfirmedAt,
		CreatedAt:     u.CreatedAt,
		UpdatedAt:     u.UpdatedAt,
	}
}

type userInput struct {
	email, password, firstName, lastName string
	verified                             bool
}

func (a *app) usersCmd() *cobra.Command {
	var in userInput
	create := &cobra.Command{
		Use:   "create --email EMAIL --password PASSWORD [flags]",
		Short: "Create a user with a password; prints it as JSON",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := in.user(cmd, time.Now)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				if err := s.CreateUser(ctx, u); err != nil {
					if errors.Is(err, storage.ErrAlreadyExists) {
						return fmt.Errorf("user %s already exists", u.Email)
					}
					return fmt.Errorf("create user: %w", err)
				}
				return writeJSON(a.stdout, toUserJSON(u))
			})
		},
	}
	f := create.Flags()
	f.StringVar(&in.email, "email", "", "email address (required)")
	f.StringVar(&in.password, "password", "", "password, at least 8 characters (required)")
	f.BoolVar(&in.verified, "verified", false, "mark the email address as verified (email_verified, confirmed_at)")
	f.StringVar(&in.firstName, "first-name", "", "first name")
	f.StringVar(&in.lastName, "last-name", "", "last name")

	var limit, offset int
	list := &cobra.Command{
		Use:   "list",
		Short: "List users as JSON, oldest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit: must be at least 1, got %d", limit)
			}
			if offset < 0 {
				return fmt.Errorf("--offset: must not be negative, got %d", offset)
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				us, err := s.ListUsers(ctx, storage.ListOptions{Limit: limit, Offset: offset})
				if err != nil {
					return fmt.Errorf("list users: %w", err)
				}
				out := make([]userJSON, 0, len(us))
				for i := range us {
					out = append(out, toUserJSON(&us[i]))
				}
				return writeJSON(a.stdout, out)
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 100, "at most this many users")
	list.Flags().IntVar(&offset, "offset", 0, "skip this many users")

	get := &cobra.Command{
		Use:   "get ID_OR_EMAIL",
		Short: "Show one user as JSON",
		Args:  exactArgs("ID_OR_EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd.Context(), args[0], func(ctx context.Context, s *storage.Store, u *storage.User) error {
				return writeJSON(a.stdout, toUserJSON(u))
			})
		},
	}

	return group("users", "Create, list, show and moderate users",
		create, list, get,
		a.userUpdateCmd("ban", "Ban a user: no more logins, every grant revoked", true, func(u *storage.User) { u.Banned = true }),
		a.userUpdateCmd("unban", "Lift a ban", false, func(u *storage.User) { u.Banned = false }),
		a.userUpdateCmd("block", "Block a user: no more logins, every grant revoked", true, func(u *storage.User) { u.Blocked = true }),
		a.userUpdateCmd("unblock", "Lift a block", false, func(u *storage.User) { u.Blocked = false }),
		a.userDeleteCmd(),
	)
}

// userUpdateCmd makes a command that changes one user and prints it. With revoke, the user's refresh
// tokens and other grants are revoked too, so a banned user's apps lose access at their next refresh.
func (a *app) userUpdateCmd(name, short string, revoke bool, change func(*storage.User)) *cobra.Command {
	return &cobra.Command{
		Use:   name + " ID_OR_EMAIL",
		Short: short,
		Args:  exactArgs("ID_OR_EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd.Context(), args[0], func(ctx context.Context, s *storage.Store, u *storage.User) error {
				updated, err := updateUser(ctx, s, u.ID, revoke, change)
				if err != nil {
					return fmt.Errorf("%s user %s: %w", name, args[0], err)
				}
				return writeJSON(a.stdout, toUserJSON(updated))
			})
		},
	}
}

func (a *app) userDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID_OR_EMAIL",
		Short: "Delete a user with their login sessions, tokens and consents",
		Args:  exactArgs("ID_OR_EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd.Context(), args[0], func(ctx context.Context, s *storage.Store, u *storage.User) error {
				if err := s.DeleteUser(ctx, u.ID); err != nil {
					return fmt.Errorf("delete user %s: %w", args[0], err)
				}
				return writeJSON(a.stdout, map[string]any{"id": u.ID, "email": u.Email, "deleted": true})
			})
		},
	}
}

// updateUser applies change to the user and, with revoke, revokes the user's grants, in one
// transaction: a ban never lands without its revocation.
func updateUser(ctx context.Context, s *storage.Store, id uuid.UUID, revoke bool, change func(*storage.User)) (u *storage.User, err error) {
	tx, err := s.BeginTX(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.Rollback(tx)
		}
	}()
	u, err = s.UpdateUser(tx, id, func(u *storage.User) error { change(u); return nil })
	if err != nil {
		return nil, err
	}
	if revoke {
		if err := s.RevokeUserGrants(tx, id); err != nil {
			return nil, err
		}
	}
	if err := s.Commit(tx); err != nil {
		return nil, err
	}
	return u, nil
}

// checkUserKey refuses, before the database is opened, an ID_OR_EMAIL no user can have (see
// checkText): such a user is not found.
func checkUserKey(idOrEmail string) error {
	if err := checkText("ID_OR_EMAIL", idOrEmail); err != nil {
		return fmt.Errorf("user %q not found: %w", idOrEmail, err)
	}
	return nil
}

// findUser looks a user up by UUID or, failing that, by email address.
func findUser(ctx context.Context, s *storage.Store, idOrEmail string) (*storage.User, error) {
	var (
		u   *storage.User
		err error
	)
	if id, perr := uuid.Parse(idOrEmail); perr == nil {
		u, err = s.GetUser(ctx, id)
	} else {
		u, err = s.GetUserByEmail(ctx, idOrEmail)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("user %s not found", idOrEmail)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", idOrEmail, err)
	}
	return u, nil
}

// user validates the input and builds the user to store, with the password hashed (argon2id).
func (in userInput) user(cmd *cobra.Command, now func() time.Time) (*storage.User, error) {
	email, err := checkEmail(in.email)
	if err != nil {
		return nil, err
	}
	switch n := utf8.RuneCountInString(in.password); {
	case in.password == "":
		return nil, errors.New("--password: required")
	case n < minPasswordLen:
		return nil, fmt.Errorf("--password: must be at least %d characters, got %d", minPasswordLen, n)
	case len(in.password) > password.MaxLength:
		return nil, fmt.Errorf("--password: must be at most %d bytes", password.MaxLength)
	}
	hash, err := password.Hash(in.password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &storage.User{Email: email, HashedPassword: &hash}
	if in.verified {
		t := now().UTC().Truncate(time.Second)
		u.EmailVerified, u.ConfirmedAt = true, &t
	}
	for _, name := range []struct {
		flag string
		val  string
		dst  **string
	}{{"first-name", in.firstName, &u.FirstName}, {"last-name", in.lastName, &u.LastName}} {
		if !cmd.Flags().Changed(name.flag) {
			continue
		}
		if err := checkText("--"+name.flag, name.val); err != nil {
			return nil, err
		}
		v := strings.TrimSpace(name.val)
		if len(v) > 255 {
			return nil, fmt.Errorf("--%s: at most 255 bytes", name.flag)
		}
		*name.dst = &v
	}
	return u, nil
}

// checkEmail accepts a bare address (RFC 5322 addr-spec as net/mail parses it, no display name) of at
// most 255 bytes.
func checkEmail(s string) (string, error) {
	if s == "" {
		return "", errors.New("--email: required")
	}
	if err := checkText("--email", s); err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", fmt.Errorf("--email: %q is not a valid email address", s)
	}
	if len(s) > 255 {
		return "", errors.New("--email: at most 255 bytes")
	}
	return s, nil
}

// withUser runs fn on a migrated database with the user that ID_OR_EMAIL names; the key is checked
// before the database is opened.
func (a *app) withUser(ctx context.Context, key string, fn func(context.Context, *storage.Store, *storage.User) error) error {
	if err := checkUserKey(key); err != nil {
		return err
	}
	return a.withStore(ctx, func(ctx context.Context, s *storage.Store) error {
		u, err := findUser(ctx, s, key)
		if err != nil {
			return err
		}
		return fn(ctx, s, u)
	})
}
