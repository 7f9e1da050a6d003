// Package web is the gin engine: routes, middleware, and the browser pages (login, consent, logout)
// rendered from embedded templates. It mounts the provider's plain net/http handlers for the protocol
// endpoints and drives the authorization flow (OIDC Core §3.1.2) between them and the pages.
//
// It is the only package that imports gin. It imports provider and storage (for its types and the small
// Store interface it declares); nothing imports web but cmd.
package web
