// Package keys owns the signing keys: generation, encryption at rest with the system secret, the
// rotation schedule, the current private key and kid handed to fosite, and the public JWK set.
//
// It imports none of our packages; it reaches the database through the small Store interface, which cmd
// satisfies with an adapter over storage. Keys live in memory once loaded: nothing here reads the store
// per request.
package keys
