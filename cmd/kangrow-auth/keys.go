package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kangrow/auth/keys"
	"github.com/kangrow/auth/storage"
)

func (a *app) keysCmd() *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys with their state (next, current, retired, expired) as JSON",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				// Listing decrypts nothing, so it needs no secret.
				ks, err := keys.New(keyStore{s}, make([]byte, keys.MinSecretLen))
				if err != nil {
					return err
				}
				infos, err := ks.List(ctx)
				if err != nil {
					return err
				}
				return writeJSON(a.stdout, nonNilInfos(infos))
			})
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Publish the next signing keys now; they sign once every cached JWKS has seen them",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(false)
			if err != nil {
				return err
			}
			if err := cfg.need(needSecret); err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				ks, err := loadKeys(ctx, s, cfg.Secret)
				if err != nil {
					return err
				}
				if err := ks.Rotate(ctx); err != nil {
					if errors.Is(err, keys.ErrRotationPending) {
						return errors.New("keys rotate: the keys of the last rotation have not started signing yet; see keys list")
					}
					return fmt.Errorf("keys rotate: %w", err)
				}
				infos, err := ks.List(ctx)
				if err != nil {
					return err
				}
				return writeJSON(a.stdout, nonNilInfos(infos))
			})
		},
	}
	return group("keys", "Manage the ID token signing keys", list, rotate)
}

func nonNilInfos(infos []keys.Info) []keys.Info {
	if infos == nil {
		return []keys.Info{}
	}
	return infos
}
