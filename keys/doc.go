// Package keys owns the signing keys: generation, encryption at rest with the system secret, the
// rotation schedule, the current private key and kid handed to fosite, and the public JWK set.
//
// It imports none of our packages; it reaches the database through the small KeyStore interface.
package keys
