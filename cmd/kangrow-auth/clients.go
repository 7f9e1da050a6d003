package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kangrow/auth/storage"
)

// OAuth 2.0 values a client may be registered with.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"

	authSecretBasic = "client_secret_basic"
	authSecretPost  = "client_secret_post"
	authNone        = "none"

	defaultScope = "openid profile email offline_access"

	// A client secret is stored as a fast SHA-256 digest (storage.Digest), which is safe only for
	// high-entropy secrets: generated ones have 32 random bytes, given ones need at least 32 characters.
	minClientSecretLen = 32
)

var grantTypes = []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials}

// clientJSON is how the command line shows a client, with RFC 7591 (Dynamic Client Registration)
// member names. The secret appears only in create's output, once; the digest never does.
type clientJSON struct {
	ClientID                string    `json:"client_id"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	ClientName              string    `json:"client_name"`
	Public                  bool      `json:"public"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	RedirectURIs            []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string  `json:"post_logout_redirect_uris"`
	GrantTypes              []string  `json:"grant_types"`
	ResponseTypes           []string  `json:"response_types"`
	Scope                   string    `json:"scope"`
	Audience                []string  `json:"audience"`
	SkipConsent             bool      `json:"skip_consent"`
	IDTokenSignedAlg        string    `json:"id_token_signed_response_alg"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
}

func toClientJSON(c *storage.Client) clientJSON {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return clientJSON{
		ClientID:                c.ID,
		ClientName:              c.Name,
		Public:                  c.Public,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		RedirectURIs:            nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:  nonNil(c.PostLogoutRedirectURIs),
		GrantTypes:              nonNil(c.GrantTypes),
		ResponseTypes:           nonNil(c.ResponseTypes),
		Scope:                   strings.Join(c.Scopes, " "),
		Audience:                nonNil(c.Audience),
		SkipConsent:             c.SkipConsent,
		IDTokenSignedAlg:        c.IDTokenSignedResponseAlg,
		CreatedAt:               c.CreatedAt,
		UpdatedAt:               c.UpdatedAt,
	}
}

// clientInput is what clients create takes from its flags.
type clientInput struct {
	id, name, secret, scope, authMethod string
	idTokenAlg                          string
	public, skipConsent                 bool
	redirectURIs, postLogoutURIs        []string
	grantTypes                          []string
}

func (a *app) clientsCmd() *cobra.Command {
	var in clientInput
	create := &cobra.Command{
		Use:   "create --name NAME --redirect-uri URI [flags]",
		Short: "Register a client; prints it as JSON with its secret, the only time the secret is shown",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("id") && in.id == "" {
				return errors.New("--id: must be 1 to 255 characters")
			}
			c, secret, err := in.client()
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				if err := s.CreateClient(ctx, c); err != nil {
					if errors.Is(err, storage.ErrAlreadyExists) {
						return fmt.Errorf("client %s already exists", c.ID)
					}
					return fmt.Errorf("create client: %w", err)
				}
				out := toClientJSON(c)
				out.ClientSecret = secret
				return writeJSON(a.stdout, out)
			})
		},
	}
	f := create.Flags()
	f.StringVar(&in.name, "name", "", "client name shown on the consent page (required)")
	f.StringArrayVar(&in.redirectURIs, "redirect-uri", nil, "allowed redirect URI (repeat for more)")
	f.StringVar(&in.id, "id", "", "client_id (default: a generated UUIDv7)")
	f.StringVar(&in.secret, "secret", "", "client secret, at least 32 characters (default: generated)")
	f.BoolVar(&in.public, "public", false, "public client (native or browser app): no secret, PKCE required")
	f.StringSliceVar(&in.grantTypes, "grant-type", []string{grantAuthorizationCode, grantRefreshToken},
		"grant type: authorization_code, refresh_token or client_credentials (repeat for more)")
	f.StringVar(&in.scope, "scope", defaultScope, "space-separated scopes the client may request")
	f.StringArrayVar(&in.postLogoutURIs, "post-logout-redirect-uri", nil, "allowed post-logout redirect URI (repeat for more)")
	f.BoolVar(&in.skipConsent, "skip-consent", false, "first-party client: never ask the user for consent")
	f.StringVar(&in.idTokenAlg, "id-token-signed-response-alg", "RS256", "ID token signing algorithm: RS256 or ES256")
	f.StringVar(&in.authMethod, "token-endpoint-auth-method", "",
		"client_secret_basic or client_secret_post (default client_secret_basic; none for --public)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List clients as JSON",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				cs, err := s.ListClients(ctx)
				if err != nil {
					return fmt.Errorf("list clients: %w", err)
				}
				out := make([]clientJSON, 0, len(cs))
				for i := range cs {
					out = append(out, toClientJSON(&cs[i]))
				}
				return writeJSON(a.stdout, out)
			})
		},
	}

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show one client as JSON",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkClientKey(args[0]); err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				c, err := s.GetClientByID(ctx, args[0])
				if err != nil {
					return clientErr("get", args[0], err)
				}
				return writeJSON(a.stdout, toClientJSON(c))
			})
		},
	}

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a client and every token issued to it",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkClientKey(args[0]); err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *storage.Store) error {
				if err := s.DeleteClient(ctx, args[0]); err != nil {
					return clientErr("delete", args[0], err)
				}
				return writeJSON(a.stdout, map[string]any{"client_id": args[0], "deleted": true})
			})
		},
	}
	return group("clients", "Register, list, show and delete OAuth clients", create, list, get, del)
}

// checkClientKey refuses, before the database is opened, an ID no client can have (see checkText):
// such a client is not found.
func checkClientKey(id string) error {
	if err := checkText("ID", id); err != nil {
		return fmt.Errorf("client %q not found: %w", id, err)
	}
	return nil
}

func clientErr(op, id string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("client %s not found", id)
	}
	return fmt.Errorf("%s client %s: %w", op, id, err)
}

// client validates the input and builds the client to store, with the plain secret to print once
// (empty for a public client).
func (in clientInput) client() (*storage.Client, string, error) {
	id := in.id // empty: storage gives the client a UUIDv7
	if id != "" {
		if err := checkClientID(id); err != nil {
			return nil, "", err
		}
	}
	if err := checkText("--name", in.name); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.name)
	if name == "" {
		return nil, "", errors.New("--name: required")
	}
	if len(name) > 255 {
		return nil, "", errors.New("--name: at most 255 bytes")
	}

	var grants []string
	for _, g := range in.grantTypes {
		g = strings.TrimSpace(g)
		if !slices.Contains(grantTypes, g) {
			return nil, "", fmt.Errorf("--grant-type: %q is not one of %s", g, strings.Join(grantTypes, ", "))
		}
		if !slices.Contains(grants, g) {
			grants = append(grants, g)
		}
	}
	if len(grants) == 0 {
		return nil, "", errors.New("--grant-type: at least one is needed")
	}
	code := slices.Contains(grants, grantAuthorizationCode)
	if code && len(in.redirectURIs) == 0 {
		return nil, "", errors.New("--redirect-uri: at least one is needed for the authorization_code grant")
	}
	redirects, err := checkRedirectURIs("--redirect-uri", in.redirectURIs)
	if err != nil {
		return nil, "", err
	}
	postLogout, err := checkRedirectURIs("--post-logout-redirect-uri", in.postLogoutURIs)
	if err != nil {
		return nil, "", err
	}
	scopes, err := checkScope(in.scope)
	if err != nil {
		return nil, "", err
	}

	authMethod, secret := in.authMethod, in.secret
	if in.public {
		switch {
		case secret != "":
			return nil, "", errors.New("--secret: a --public client has no secret")
		case authMethod != "" && authMethod != authNone:
			return nil, "", fmt.Errorf("--token-endpoint-auth-method: a --public client uses none, not %q", authMethod)
		case slices.Contains(grants, grantClientCredentials):
			return nil, "", errors.New("--grant-type: a --public client cannot use client_credentials")
		}
		authMethod = authNone
	} else {
		switch authMethod {
		case "":
			authMethod = authSecretBasic
		case authSecretBasic, authSecretPost:
		case authNone:
			return nil, "", errors.New("--token-endpoint-auth-method: none is only for --public clients")
		default:
			return nil, "", fmt.Errorf("--token-endpoint-auth-method: must be client_secret_basic or client_secret_post, got %q", authMethod)
		}
		switch {
		case secret == "":
			secret = randomString(32, base64.RawURLEncoding)
		case len(secret) < minClientSecretLen:
			return nil, "", fmt.Errorf("--secret: must be at least %d characters (it is stored as a fast digest, safe only for high-entropy secrets), got %d", minClientSecretLen, len(secret))
		}
	}

	idTokenAlg := in.idTokenAlg
	switch idTokenAlg {
	case "":
		idTokenAlg = "RS256"
	case "RS256", "ES256":
	default:
		return nil, "", fmt.Errorf("--id-token-signed-response-alg: must be RS256 or ES256, got %q", idTokenAlg)
	}

	responseTypes := []string{}
	if code {
		responseTypes = []string{"code"}
	}
	c := &storage.Client{
		ID:                       id,
		Name:                     name,
		Public:                   in.public,
		TokenEndpointAuthMethod:  authMethod,
		RedirectURIs:             redirects,
		PostLogoutRedirectURIs:   postLogout,
		GrantTypes:               grants,
		ResponseTypes:            responseTypes,
		Scopes:                   scopes,
		Audience:                 []string{},
		SkipConsent:              in.skipConsent,
		IDTokenSignedResponseAlg: idTokenAlg,
	}
	if secret != "" {
		c.SecretHash = storage.Digest(secret)
	}
	return c, secret, nil
}

// checkClientID allows 1–255 printable ASCII characters without spaces (RFC 6749 Appendix A.1 allows
// VSCHAR; a space in a client_id only causes trouble on the command line and in Basic auth).
func checkClientID(id string) error {
	if len(id) > 255 {
		return errors.New("--id: must be 1 to 255 characters")
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("--id: must be printable ASCII characters without spaces, got %q", id)
		}
	}
	return nil
}

// checkRedirectURIs follows RFC 3986 §2 (printable US-ASCII), RFC 6749 §3.1.2 (absolute, no
// fragment) and RFC 8252 (native apps): https for web apps, http only on the loopback interface, and
// private-use schemes such as com.example.app:/callback. Schemes that run code or read files in a
// browser are refused.
func checkRedirectURIs(flag string, uris []string) ([]string, error) {
	out := []string{}
	for _, raw := range uris {
		if i := strings.IndexFunc(raw, func(r rune) bool { return r < 0x21 || r > 0x7e }); i >= 0 {
			// RFC 3986 §2: a URI is printable US-ASCII; anything else is percent-encoded. A space
			// usually means two URIs were pasted into one flag.
			return nil, fmt.Errorf("%s: %q must be printable US-ASCII without spaces (RFC 3986 §2; percent-encode other characters)", flag, raw)
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Scheme == "":
			return nil, fmt.Errorf("%s: %q is not an absolute URI", flag, raw)
		case u.Fragment != "" || strings.Contains(raw, "#"):
			return nil, fmt.Errorf("%s: %q must not have a fragment", flag, raw)
		}
		switch scheme := strings.ToLower(u.Scheme); scheme {
		case "https":
			if u.Host == "" {
				return nil, fmt.Errorf("%s: %q has no host", flag, raw)
			}
		case "http":
			if !isLoopbackHost(u.Hostname()) {
				return nil, fmt.Errorf("%s: %q must use https (http only for localhost, 127.0.0.1 or [::1])", flag, raw)
			}
		case "javascript", "data", "vbscript", "file", "blob", "about":
			return nil, fmt.Errorf("%s: %q uses a scheme that cannot be a redirect target", flag, raw)
		}
		if u.User != nil {
			return nil, fmt.Errorf("%s: %q must not contain user information", flag, raw)
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out, nil
}

// checkScope splits a space-separated scope string; each token is RFC 6749 §3.3 scope-token
// (printable ASCII except space, '"' and '\').
func checkScope(s string) ([]string, error) {
	scopes := []string{}
	for _, tok := range strings.Fields(s) {
		for _, r := range tok {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil, fmt.Errorf("--scope: %q is not a valid scope", tok)
			}
		}
		if !slices.Contains(scopes, tok) {
			scopes = append(scopes, tok)
		}
	}
	return scopes, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
