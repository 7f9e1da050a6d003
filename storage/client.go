package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/google/uuid"
	"github.com/ory/fosite"
	"gorm.io/gorm"
)

// Client is a row of clients: a registered OAuth 2.0 / OpenID Connect client. It is also the
// fosite.Client (with the OpenID Connect and response-mode extensions) that GetClient hands to fosite.
type Client struct {
	ID   string `gorm:"column:id;primaryKey"` // client_id
	Name string `gorm:"column:name"`          // shown on the consent page
	// SecretHash is Digest(secret); nil for public clients. The provider must configure fosite with a
	// SHA-256 ClientSecretsHasher to match (fosite's default is bcrypt).
	SecretHash              []byte     `gorm:"column:secret_hash"`
	Public                  bool       `gorm:"column:public"`
	TokenEndpointAuthMethod string     `gorm:"column:token_endpoint_auth_method"` // client_secret_basic, client_secret_post, none
	RedirectURIs            StringList `gorm:"column:redirect_uris"`
	PostLogoutRedirectURIs  StringList `gorm:"column:post_logout_redirect_uris"`
	GrantTypes              StringList `gorm:"column:grant_types"`
	ResponseTypes           StringList `gorm:"column:response_types"`
	Scopes                  StringList `gorm:"column:scopes"`
	Audience                StringList `gorm:"column:audience"`
	SkipConsent             bool       `gorm:"column:skip_consent"` // first-party clients
	// IDTokenSignedResponseAlg is the ID token algorithm, RS256 (the default) or ES256 (OpenID Connect
	// Dynamic Client Registration 1.0 §2).
	IDTokenSignedResponseAlg string    `gorm:"column:id_token_signed_response_alg"`
	CreatedAt                time.Time `gorm:"column:created_at"`
	UpdatedAt                time.Time `gorm:"column:updated_at"`
}

// TableName implements gorm's Tabler.
func (Client) TableName() string { return "clients" }

// BeforeCreate gives a client without an ID a UUIDv7 one.
func (c *Client) BeforeCreate(*gorm.DB) error {
	if c.ID != "" {
		return nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new client id: %w", err)
	}
	c.ID = id.String()
	return nil
}

// BeforeSave fills the NOT NULL columns a caller may leave empty: lists become [], and the token
// endpoint auth method defaults to "none" for public clients and "client_secret_basic" otherwise, and
// the ID token algorithm to RS256.
func (c *Client) BeforeSave(*gorm.DB) error {
	texts := append([]string{c.ID, c.Name}, c.RedirectURIs...)
	if !allValidText(append(texts, c.PostLogoutRedirectURIs...)...) {
		return fmt.Errorf("save client: %w", ErrInvalidText)
	}
	for _, l := range []*StringList{&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.ResponseTypes, &c.Scopes, &c.Audience} {
		if *l == nil {
			*l = StringList{}
		}
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = "client_secret_basic"
		if c.Public {
			c.TokenEndpointAuthMethod = "none"
		}
	}
	if c.IDTokenSignedResponseAlg == "" {
		c.IDTokenSignedResponseAlg = "RS256"
	}
	normalizeSeconds(&c.CreatedAt, &c.UpdatedAt)
	return nil
}

// GetID implements fosite.Client.
func (c *Client) GetID() string { return c.ID }

// GetHashedSecret implements fosite.Client: Digest(secret), nil for public clients.
func (c *Client) GetHashedSecret() []byte { return c.SecretHash }

// GetRedirectURIs implements fosite.Client.
func (c *Client) GetRedirectURIs() []string { return c.RedirectURIs }

// GetGrantTypes implements fosite.Client. None registered means authorization_code only
// (OpenID Connect Dynamic Client Registration 1.0, section 2).
func (c *Client) GetGrantTypes() fosite.Arguments {
	if len(c.GrantTypes) == 0 {
		return fosite.Arguments{"authorization_code"}
	}
	return fosite.Arguments(c.GrantTypes)
}

// GetResponseTypes implements fosite.Client. None registered means code only (same section).
func (c *Client) GetResponseTypes() fosite.Arguments {
	if len(c.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments(c.ResponseTypes)
}

// GetScopes implements fosite.Client.
func (c *Client) GetScopes() fosite.Arguments { return fosite.Arguments(c.Scopes) }

// IsPublic implements fosite.Client.
func (c *Client) IsPublic() bool { return c.Public }

// GetAudience implements fosite.Client.
func (c *Client) GetAudience() fosite.Arguments { return fosite.Arguments(c.Audience) }

// GetRequestURIs implements fosite.OpenIDConnectClient: no request_uri is registered.
func (c *Client) GetRequestURIs() []string { return nil }

// GetJSONWebKeys implements fosite.OpenIDConnectClient: clients register no keys (no private_key_jwt).
func (c *Client) GetJSONWebKeys() *jose.JSONWebKeySet { return nil }

// GetJSONWebKeysURI implements fosite.OpenIDConnectClient.
func (c *Client) GetJSONWebKeysURI() string { return "" }

// GetRequestObjectSigningAlgorithm implements fosite.OpenIDConnectClient: no request objects.
func (c *Client) GetRequestObjectSigningAlgorithm() string { return "" }

// GetTokenEndpointAuthMethod implements fosite.OpenIDConnectClient.
func (c *Client) GetTokenEndpointAuthMethod() string { return c.TokenEndpointAuthMethod }

// GetTokenEndpointAuthSigningAlgorithm implements fosite.OpenIDConnectClient: no private_key_jwt.
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string { return "" }

// GetResponseModes implements fosite.ResponseModeClient: the default mode of the response type, query,
// fragment (OAuth 2.0 Multiple Response Type Encoding Practices §2.1) and form_post (OAuth 2.0 Form
// Post Response Mode), as discovery advertises.
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFragment, fosite.ResponseModeFormPost}
}

// CreateClient inserts c, giving it a UUIDv7 ID when it has none. It returns ErrAlreadyExists when the
// ID is taken.
func (s *Store) CreateClient(ctx context.Context, c *Client) error {
	if err := s.conn(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("create client: %w", dbError(err))
	}
	return nil
}

// GetClientByID returns the client with that ID, or ErrNotFound. Under WithClientMemo it reads each
// client once per context and returns copies.
func (s *Store) GetClientByID(ctx context.Context, id string) (*Client, error) {
	if !validText(id) {
		return nil, fmt.Errorf("get client: %w", ErrNotFound)
	}
	memo, _ := ctx.Value(clientMemoKey{}).(*clientMemo)
	if c, ok := memo.get(id); ok {
		return c, nil
	}
	var c Client
	if err := s.conn(ctx).Take(&c, "id = ?", id).Error; err != nil {
		return nil, fmt.Errorf("get client: %w", dbError(err))
	}
	memo.put(&c)
	return &c, nil
}

// WithClientMemo returns a context in which GetClientByID (and fosite's GetClient) read each client
// from the database once: one request loads the same client up to five times (client authentication,
// then every stored request fosite rebuilds, then the pages). Meant for the length of one request,
// so a client changed meanwhile is seen by the next request.
func WithClientMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, clientMemoKey{}, &clientMemo{clients: map[string]Client{}})
}

type clientMemoKey struct{}

type clientMemo struct {
	mu      sync.Mutex
	clients map[string]Client
}

func (m *clientMemo) get(id string) (*Client, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.clients[id]
	return &c, ok
}

func (m *clientMemo) put(c *Client) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients[c.ID] = *c
}

// ListClients returns every client, oldest first (ordered by created_at, id).
func (s *Store) ListClients(ctx context.Context) ([]Client, error) {
	var clients []Client
	if err := s.conn(ctx).Order("created_at, id").Find(&clients).Error; err != nil {
		return nil, fmt.Errorf("list clients: %w", dbError(err))
	}
	return clients, nil
}

// DeleteClient deletes the client; its tokens, refresh tokens and consents go with it (ON DELETE
// CASCADE). It returns ErrNotFound when there is no such client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !validText(id) {
		return fmt.Errorf("delete client: %w", ErrNotFound)
	}
	res := s.conn(ctx).Delete(&Client{}, "id = ?", id)
	if res.Error != nil {
		return fmt.Errorf("delete client: %w", dbError(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete client: %w", ErrNotFound)
	}
	return nil
}
