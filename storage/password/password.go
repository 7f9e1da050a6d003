package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// MaxLength is the longest password, in bytes, that Hash and Verify accept. It bounds the work an attacker
// can make us do per request; no human password comes near it.
const MaxLength = 1024

// Errors returned by Hash, Verify and DummyVerify. Match them with errors.Is.
var (
	// ErrEmpty is returned for an empty password.
	ErrEmpty = errors.New("empty password")
	// ErrTooLong is returned for a password longer than MaxLength bytes.
	ErrTooLong = fmt.Errorf("password longer than %d bytes", MaxLength)
	// ErrMalformedHash is returned when the stored hash cannot be parsed, names an unknown scheme, or carries
	// parameters outside the bounds we are willing to compute.
	ErrMalformedHash = errors.New("malformed password hash")
)

// params are the argon2id cost parameters of one hash.
type params struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
	saltLen int // bytes
	keyLen  int // bytes
}

// current are the parameters of every new hash: the OWASP Password Storage Cheat Sheet's minimum for
// argon2id (m=19 MiB, t=2, p=1), about 32 ms on our 2-core reference machine. A hash with weaker
// parameters verifies but reports needsRehash.
var current = params{memory: 19 * 1024, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// Bounds on the parameters read from a stored hash. A hash beyond them is reported as malformed instead of
// being computed: a single stored m=4 GiB hash must not be able to exhaust the server's memory.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 32
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	maxBcrypt  = 16 // bcrypt cost (2^16 rounds ≈ 4 s); 31 would take days
)

const (
	argon2idPrefix = "$argon2id$"
	bcryptLen      = 60 // "$2b$" + 2-digit cost + "$" + 22 salt + 31 hash characters
)

// sem bounds the hashes and verifications running at once. Each argon2id computation holds its m KiB of
// memory for its whole run; with one slot per CPU nothing is gained by running more, and a burst of logins
// cannot multiply the memory use.
var sem = make(chan struct{}, runtime.NumCPU())

func acquire() func() {
	sem <- struct{}{}
	return func() { <-sem }
}

// Hash returns the argon2id hash of password in the PHC string format,
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" with unpadded standard base64, using a fresh random
// 16-byte salt. It returns ErrEmpty or ErrTooLong for a password it will not hash.
func Hash(password string) (string, error) {
	if err := check(password); err != nil {
		return "", err
	}
	salt := make([]byte, current.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return encode(current, salt, derive(current, password, salt)), nil
}

// Verify reports whether password matches encoded, an argon2id PHC string (any parameters within bounds)
// or a bcrypt hash ($2a$, $2b$, $2y$). needsRehash is true when the password matched but the hash should be
// replaced by a fresh Hash: every bcrypt hash, and argon2id hashes weaker than the current parameters.
//
// A wrong password is (false, false, nil). It returns ErrEmpty or ErrTooLong for a password it will not
// check and an error wrapping ErrMalformedHash when encoded cannot be used; it never panics. bcrypt reads
// only the first 72 bytes of a password, as the systems that made those hashes did.
func Verify(encoded, password string) (ok bool, needsRehash bool, err error) {
	if err := check(password); err != nil {
		return false, false, err
	}
	switch {
	case strings.HasPrefix(encoded, argon2idPrefix):
		p, salt, want, err := decode(encoded)
		if err != nil {
			return false, false, err
		}
		got := derive(p, password, salt)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return false, false, nil
		}
		return true, p.weakerThan(current), nil
	case isBcrypt(encoded):
		if len(encoded) != bcryptLen {
			return false, false, fmt.Errorf("%w: bcrypt: want %d characters", ErrMalformedHash, bcryptLen)
		}
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
		if cost > maxBcrypt {
			return false, false, fmt.Errorf("%w: bcrypt cost %d above %d", ErrMalformedHash, cost, maxBcrypt)
		}
		release := acquire()
		err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		release()
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
	default:
		return false, false, fmt.Errorf("%w: unknown scheme", ErrMalformedHash)
	}
}

// dummyHash is an argon2id hash, with the current parameters, of a random password nobody knows.
// TestDummyHashUsesCurrentParams keeps its parameters in step with current.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$QAT+L7y3kCIzfwqzyko4Ig$n1GZu9dYLKMWL95ZKsTc99LjL2pqSdUA17v3/FvND20"

// DummyVerify does the work of a Verify against an argon2id hash with the current parameters and throws the
// result away. Call it when the account does not exist (or has no password), so that an unknown email
// and a wrong password cost the same time and return the same answer. It performs the same input checks
// as Verify, so an empty or over-long password returns early in both cases alike.
func DummyVerify(password string) {
	_, _, _ = Verify(dummyHash, password)
}

func check(password string) error {
	switch {
	case password == "":
		return ErrEmpty
	case len(password) > MaxLength:
		return ErrTooLong
	}
	return nil
}

func derive(p params, password string, salt []byte) []byte {
	release := acquire()
	defer release()
	return argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
}

func (p params) weakerThan(q params) bool {
	return p.memory < q.memory || p.time < q.time || p.saltLen < q.saltLen || p.keyLen < q.keyLen
}

func encode(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" strictly: version 19 only, parameters in this order,
// unpadded standard base64, every value within bounds.
func decode(encoded string) (params, []byte, []byte, error) {
	malformed := func(what string) (params, []byte, []byte, error) {
		return params{}, nil, nil, fmt.Errorf("%w: argon2id: %s", ErrMalformedHash, what)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return malformed("want 5 fields")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return malformed("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return malformed("want m, t and p")
	}
	m, err := parseParam(kv[0], "m=", 32)
	if err != nil || m < 1 || m > maxMemory {
		return malformed("bad memory")
	}
	t, err := parseParam(kv[1], "t=", 32)
	if err != nil || t < 1 || t > maxTime {
		return malformed("bad time")
	}
	th, err := parseParam(kv[2], "p=", 8)
	if err != nil || th < 1 || th > maxThreads {
		return malformed("bad parallelism")
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return malformed("bad salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return malformed("bad hash")
	}
	p := params{memory: uint32(m), time: uint32(t), threads: uint8(th), saltLen: len(salt), keyLen: len(key)}
	return p, salt, key, nil
}

func parseParam(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
		return 0, errors.New("bad parameter")
	}
	return strconv.ParseUint(v, 10, bits)
}

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") ||
		strings.HasPrefix(encoded, "$2y$")
}
