package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"gorm.io/gorm"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
)

// errNotMigrated is what every command but migrate and serve says about a database without the schema.
var errNotMigrated = errors.New("database is not migrated: run `kangrow-auth migrate up`")

func (a *app) migrateCmd() *cobra.Command {
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withDB(cmd.Context(), false, func(ctx context.Context, db *gorm.DB) error {
				if err := migrations.Up(ctx, db); err != nil {
					return err
				}
				return printStatus(ctx, a.stdout, db)
			})
		},
	}

	var steps int
	down := &cobra.Command{
		Use:   "down",
		Short: "Roll back the latest migrations (one unless --steps N)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if steps < 1 {
				return fmt.Errorf("--steps: must be at least 1, got %d", steps)
			}
			return a.withDB(cmd.Context(), false, func(ctx context.Context, db *gorm.DB) error {
				if err := migrations.Down(ctx, db, steps); err != nil {
					return err
				}
				return printStatus(ctx, a.stdout, db)
			})
		},
	}
	down.Flags().IntVar(&steps, "steps", 1, "how many migrations to roll back")

	status := &cobra.Command{
		Use:   "status",
		Short: "List every migration as applied or pending",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withDB(cmd.Context(), false, func(ctx context.Context, db *gorm.DB) error {
				return printStatus(ctx, a.stdout, db)
			})
		},
	}
	return group("migrate", "Apply, roll back or list schema migrations", up, down, status)
}

func printStatus(ctx context.Context, w io.Writer, db *gorm.DB) error {
	states, err := migrations.Status(ctx, db)
	if err != nil {
		return err
	}
	for _, s := range states {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		if _, err := fmt.Fprintf(w, "%s\t%s\n", s.ID, state); err != nil {
			return err
		}
	}
	return nil
}

// withDB loads and checks the database setting, opens the database, and runs fn on it. With
// requireSchema, fn runs only on a database that has every migration applied: commands other than
// migrate and serve never change the schema themselves.
func (a *app) withDB(ctx context.Context, requireSchema bool, fn func(context.Context, *gorm.DB) error) error {
	cfg, err := a.loadConfig(false)
	if err != nil {
		return err
	}
	if err := cfg.need(needDatabase); err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = storage.Close(db) }()
	if requireSchema {
		if err := checkMigrated(ctx, db); err != nil {
			return err
		}
	}
	return fn(ctx, db)
}

// withStore is withDB for commands that work through storage on a migrated database.
func (a *app) withStore(ctx context.Context, fn func(context.Context, *storage.Store) error) error {
	return a.withDB(ctx, true, func(ctx context.Context, db *gorm.DB) error {
		return fn(ctx, storage.New(db))
	})
}

// checkMigrated reports errNotMigrated unless every known migration is applied.
func checkMigrated(ctx context.Context, db *gorm.DB) error {
	states, err := migrations.Status(ctx, db)
	if err != nil {
		return err
	}
	pending := 0
	for _, s := range states {
		if !s.Applied {
			pending++
		}
	}
	switch {
	case pending == 0:
		return nil
	case pending == len(states):
		return errNotMigrated
	default:
		return fmt.Errorf("database has %d pending migrations: run `kangrow-auth migrate up`", pending)
	}
}
