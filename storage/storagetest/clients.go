package storagetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite"

	"github.com/kangrow/auth/storage"
)

func testClients(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	c := mustCreateClient(t, s, "rp")
	mustCreateClient(t, s, "another")

	got, err := s.GetClientByID(ctx, "rp")
	must(t, "GetClientByID", err)
	if got.Name != c.Name || !bytes.Equal(got.SecretHash, storage.Digest("secret-of-rp")) ||
		fmt.Sprint(got.RedirectURIs) != fmt.Sprint(c.RedirectURIs) || fmt.Sprint(got.Scopes) != fmt.Sprint(c.Scopes) {
		t.Errorf("GetClientByID = %+v, want %+v", got, c)
	}
	if got.PostLogoutRedirectURIs == nil || len(got.PostLogoutRedirectURIs) != 0 {
		t.Errorf("unset list = %#v, want empty", got.PostLogoutRedirectURIs)
	}

	err = s.CreateClient(ctx, &storage.Client{ID: "rp", Name: "again"})
	wantErr(t, "CreateClient(taken ID)", err, storage.ErrAlreadyExists)

	generated := &storage.Client{Name: "no ID", Public: true}
	must(t, "CreateClient(no ID)", s.CreateClient(ctx, generated))
	if id, err := uuid.Parse(generated.ID); err != nil || id.Version() != 7 {
		t.Errorf("generated client ID = %q, want a UUIDv7", generated.ID)
	}

	// The ID token algorithm defaults to RS256 and keeps a chosen one.
	if got.IDTokenSignedResponseAlg != "RS256" {
		t.Errorf("default id_token_signed_response_alg = %q, want RS256", got.IDTokenSignedResponseAlg)
	}
	must(t, "CreateClient(ES256)", s.CreateClient(ctx, &storage.Client{ID: "es", Name: "ES", Public: true, IDTokenSignedResponseAlg: "ES256"}))
	es, err := s.GetClientByID(ctx, "es")
	must(t, "GetClientByID(es)", err)
	if es.IDTokenSignedResponseAlg != "ES256" {
		t.Errorf("id_token_signed_response_alg = %q, want ES256", es.IDTokenSignedResponseAlg)
	}
	must(t, "DeleteClient(es)", s.DeleteClient(ctx, "es"))

	list, err := s.ListClients(ctx)
	must(t, "ListClients", err)
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if want := []string{"another", generated.ID, "rp"}; fmt.Sprint(ids) != fmt.Sprint(sorted(want)) {
		t.Errorf("ListClients = %v, want %v", ids, sorted(want))
	}

	must(t, "DeleteClient", s.DeleteClient(ctx, "rp"))
	_, err = s.GetClientByID(ctx, "rp")
	wantErr(t, "GetClientByID(deleted)", err, storage.ErrNotFound)
	wantErr(t, "DeleteClient(again)", s.DeleteClient(ctx, "rp"), storage.ErrNotFound)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func testFositeClient(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	mustCreateClient(t, s, "rp")
	must(t, "CreateClient(public)", s.CreateClient(ctx, &storage.Client{ID: "spa", Name: "SPA", Public: true}))

	fc, err := s.GetClient(ctx, "rp")
	must(t, "GetClient", err)
	if fc.GetID() != "rp" || !bytes.Equal(fc.GetHashedSecret(), storage.Digest("secret-of-rp")) || fc.IsPublic() {
		t.Errorf("GetClient = %+v", fc)
	}
	if !fc.GetGrantTypes().Has("authorization_code", "refresh_token", "client_credentials") ||
		!fc.GetResponseTypes().Has("code") || !fc.GetScopes().Has("openid", "offline_access") ||
		!fc.GetAudience().Has("https://api.example") ||
		!slices.Equal(fc.GetRedirectURIs(), []string{"https://rp.example/callback"}) {
		t.Errorf("GetClient lists = %v %v %v %v %v", fc.GetGrantTypes(), fc.GetResponseTypes(), fc.GetScopes(), fc.GetAudience(), fc.GetRedirectURIs())
	}
	oc, ok := fc.(fosite.OpenIDConnectClient)
	if !ok {
		t.Fatal("client is no fosite.OpenIDConnectClient")
	}
	if oc.GetTokenEndpointAuthMethod() != "client_secret_basic" || oc.GetJSONWebKeys() != nil || oc.GetRequestURIs() != nil {
		t.Errorf("OpenID Connect client: auth method %q, keys %v, request URIs %v", oc.GetTokenEndpointAuthMethod(), oc.GetJSONWebKeys(), oc.GetRequestURIs())
	}
	rc, ok := fc.(fosite.ResponseModeClient)
	if !ok || !slices.Contains(rc.GetResponseModes(), fosite.ResponseModeFormPost) || !slices.Contains(rc.GetResponseModes(), fosite.ResponseModeQuery) {
		t.Errorf("response modes: ok %v", ok)
	}

	spa, err := s.GetClient(ctx, "spa")
	must(t, "GetClient(public)", err)
	if !spa.IsPublic() || spa.GetHashedSecret() != nil || spa.(fosite.OpenIDConnectClient).GetTokenEndpointAuthMethod() != "none" {
		t.Errorf("public client = %+v", spa)
	}
	// With nothing registered, OpenID Connect Registration's defaults apply.
	if !slices.Equal(spa.GetGrantTypes(), fosite.Arguments{"authorization_code"}) || !slices.Equal(spa.GetResponseTypes(), fosite.Arguments{"code"}) {
		t.Errorf("public client defaults: grants %v, response types %v", spa.GetGrantTypes(), spa.GetResponseTypes())
	}

	_, err = s.GetClient(ctx, "unknown")
	wantErr(t, "GetClient(unknown)", err, fosite.ErrNotFound)
}

func testSigningKeys(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	now := time.Now().UTC().Truncate(time.Second)
	jwk := storage.RawJSON(`{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"0vx7","e":"AQAB"}`)
	k1 := &storage.SigningKey{ID: "k1", Algorithm: "RS256", PublicJWK: jwk, PrivateKey: []byte("sealed-1"),
		CreatedAt: now.Add(-time.Hour), ActiveAt: now.Add(-time.Hour)}
	k2 := &storage.SigningKey{ID: "k2", Algorithm: "ES256", PublicJWK: storage.RawJSON(`{"kty":"EC","kid":"k2"}`),
		PrivateKey: []byte("sealed-2"), ActiveAt: now.Add(time.Hour)}
	must(t, "CreateSigningKey(k1)", s.CreateSigningKey(ctx, k1))
	must(t, "CreateSigningKey(k2)", s.CreateSigningKey(ctx, k2))
	wantErr(t, "CreateSigningKey(taken kid)", s.CreateSigningKey(ctx, &storage.SigningKey{ID: "k1", Algorithm: "RS256",
		PublicJWK: jwk, PrivateKey: []byte("x"), ActiveAt: now}), storage.ErrAlreadyExists)

	keys, err := s.ListSigningKeys(ctx)
	must(t, "ListSigningKeys", err)
	if len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("ListSigningKeys = %+v, want k1, k2", keys)
	}
	got := keys[0]
	if got.Algorithm != "RS256" || string(got.PrivateKey) != "sealed-1" || !got.CreatedAt.Equal(k1.CreatedAt) ||
		!got.ActiveAt.Equal(k1.ActiveAt) || got.RetiredAt != nil || got.ExpiresAt != nil || !sameJSON(t, got.PublicJWK, jwk) {
		t.Errorf("k1 read back as %+v", got)
	}
	if keys[1].CreatedAt.IsZero() {
		t.Error("k2 CreatedAt was not set")
	}

	retired := now
	must(t, "UpdateSigningKey", s.UpdateSigningKey(ctx, "k1", func(k *storage.SigningKey) error {
		k.RetiredAt = &retired
		k.ExpiresAt = ptr(now.Add(24 * time.Hour))
		return nil
	}))
	keys, err = s.ListSigningKeys(ctx)
	must(t, "ListSigningKeys", err)
	if keys[0].RetiredAt == nil || !keys[0].RetiredAt.Equal(retired) || keys[0].ExpiresAt == nil || keys[1].RetiredAt != nil {
		t.Errorf("after UpdateSigningKey: %+v", keys)
	}
	wantErr(t, "UpdateSigningKey(unknown)", s.UpdateSigningKey(ctx, "k9", func(*storage.SigningKey) error { return nil }), storage.ErrNotFound)
}

// sameJSON compares documents, not text: jsonb reorders keys and spaces them.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}
