// Package provider composes fosite with the flows we ship and serves the protocol endpoints over plain
// net/http: authorize, token, revocation, introspection, userinfo, discovery and JWKS.
//
// It must not import gin or web; it reaches storage through the small Store interface it declares.
package provider
