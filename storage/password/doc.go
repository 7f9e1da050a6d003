// Package password hashes and verifies human passwords: argon2id in the PHC string format for every new
// hash, and bcrypt for verifying hashes imported from elsewhere (they are upgraded on the next login).
//
// It owns no storage and imports none of our packages; callers keep the encoded string in
// users.hashed_password.
package password
