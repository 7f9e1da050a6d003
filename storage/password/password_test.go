package password

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashVerifyRoundTrip(t *testing.T) {
	encoded := mustHash(t, "correct horse battery staple")
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q, want the argon2id PHC prefix with the current parameters", encoded)
	}
	if again := mustHash(t, "correct horse battery staple"); again == encoded {
		t.Fatal("two hashes of the same password are equal: the salt is not random")
	}

	tests := []struct {
		name            string
		password        string
		wantOK          bool
		wantNeedsRehash bool
	}{
		{name: "right password", password: "correct horse battery staple", wantOK: true},
		{name: "wrong password", password: "correct horse battery stapler"},
		{name: "case differs", password: "Correct horse battery staple"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, needsRehash, err := Verify(encoded, tc.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.wantOK || needsRehash != tc.wantNeedsRehash {
				t.Fatalf("Verify = (%v, %v), want (%v, %v)", ok, needsRehash, tc.wantOK, tc.wantNeedsRehash)
			}
		})
	}
}

func TestVerifyUnicodeAndMaxLength(t *testing.T) {
	for _, pw := range []string{"pässwörd 🔑", strings.Repeat("x", MaxLength)} {
		encoded := mustHash(t, pw)
		if ok, _, err := Verify(encoded, pw); err != nil || !ok {
			t.Fatalf("Verify(len %d) = %v, %v; want true, nil", len(pw), ok, err)
		}
	}
}

func TestVerifyBcrypt(t *testing.T) {
	const pw = "imported from the old system"
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h2b := string(b) // x/crypto writes $2a$
	tests := []struct {
		name            string
		encoded         string
		password        string
		wantOK          bool
		wantNeedsRehash bool
	}{
		{name: "2a right", encoded: h2b, password: pw, wantOK: true, wantNeedsRehash: true},
		{name: "2b right", encoded: "$2b$" + h2b[4:], password: pw, wantOK: true, wantNeedsRehash: true},
		{name: "2y right", encoded: "$2y$" + h2b[4:], password: pw, wantOK: true, wantNeedsRehash: true},
		{name: "2a wrong", encoded: h2b, password: pw + "!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, needsRehash, err := Verify(tc.encoded, tc.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.wantOK || needsRehash != tc.wantNeedsRehash {
				t.Fatalf("Verify = (%v, %v), want (%v, %v)", ok, needsRehash, tc.wantOK, tc.wantNeedsRehash)
			}
		})
	}
}

func TestVerifyRehashByParams(t *testing.T) {
	const pw = "hunter2 hunter2"
	tests := []struct {
		name            string
		p               params
		wantNeedsRehash bool
	}{
		{name: "current", p: current, wantNeedsRehash: false},
		{name: "less memory", p: params{memory: 4096, time: 2, threads: 1, saltLen: 16, keyLen: 32}, wantNeedsRehash: true},
		{name: "fewer passes", p: params{memory: 19456, time: 1, threads: 1, saltLen: 16, keyLen: 32}, wantNeedsRehash: true},
		{name: "short salt", p: params{memory: 19456, time: 2, threads: 1, saltLen: 8, keyLen: 32}, wantNeedsRehash: true},
		{name: "short key", p: params{memory: 19456, time: 2, threads: 1, saltLen: 16, keyLen: 16}, wantNeedsRehash: true},
		{name: "stronger", p: params{memory: 65536, time: 3, threads: 2, saltLen: 16, keyLen: 32}, wantNeedsRehash: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			encoded := newTestHash(t, tc.p, pw)
			ok, needsRehash, err := Verify(encoded, pw)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
			if needsRehash != tc.wantNeedsRehash {
				t.Fatalf("needsRehash = %v, want %v", needsRehash, tc.wantNeedsRehash)
			}
			if ok, needsRehash, _ := Verify(encoded, pw+"x"); ok || needsRehash {
				t.Fatalf("wrong password: Verify = (%v, %v), want (false, false)", ok, needsRehash)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := mustHash(t, "password one")
	fields := strings.Split(good, "$") // "", argon2id, v=19, m=…,t=…,p=…, salt, hash
	with := func(i int, v string) string {
		f := append([]string(nil), fields...)
		f[i] = v
		return strings.Join(f, "$")
	}
	b, err := bcrypt.GenerateFromPassword([]byte("password one"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bc := string(b)

	tests := []struct {
		name    string
		encoded string
	}{
		{name: "empty", encoded: ""},
		{name: "plain text", encoded: "password one"},
		{name: "unknown scheme", encoded: "$argon2i$v=19$m=19456,t=2,p=1$" + fields[4] + "$" + fields[5]},
		{name: "scrypt", encoded: "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA"},
		{name: "prefix only", encoded: "$argon2id$"},
		{name: "missing hash", encoded: strings.Join(fields[:5], "$")},
		{name: "extra field", encoded: good + "$x"},
		{name: "version 16", encoded: with(2, "v=16")},
		{name: "no version", encoded: with(2, "")},
		{name: "params out of order", encoded: with(3, "t=2,m=19456,p=1")},
		{name: "params missing", encoded: with(3, "m=19456,t=2")},
		{name: "params not numbers", encoded: with(3, "m=x,t=2,p=1")},
		{name: "negative memory", encoded: with(3, "m=-1,t=2,p=1")},
		{name: "zero time", encoded: with(3, "m=19456,t=0,p=1")},
		{name: "zero threads", encoded: with(3, "m=19456,t=2,p=0")},
		{name: "threads overflow uint8", encoded: with(3, "m=19456,t=2,p=256")},
		{name: "memory overflow uint32", encoded: with(3, "m=4294967296,t=2,p=1")},
		{name: "memory too large", encoded: with(3, "m=4194304,t=2,p=1")},
		{name: "time too large", encoded: with(3, "m=19456,t=1000,p=1")},
		{name: "leading zero", encoded: with(3, "m=019456,t=2,p=1")},
		{name: "salt not base64", encoded: with(4, "!!!!")},
		{name: "salt padded", encoded: with(4, fields[4]+"==")},
		{name: "salt too short", encoded: with(4, "c2FsdA")},
		{name: "hash not base64", encoded: with(5, "%%%%")},
		{name: "hash empty", encoded: with(5, "")},
		{name: "hash too short", encoded: with(5, "aGFzaA")},
		{name: "bcrypt truncated", encoded: bc[:40]},
		{name: "bcrypt too long", encoded: bc + "x"},
		{name: "bcrypt bad cost", encoded: bc[:4] + "xx" + bc[6:]},
		{name: "bcrypt cost 31", encoded: bc[:4] + "31" + bc[6:]},
		{name: "bcrypt bad salt", encoded: bc[:7] + "!!!!!!!!!!!!!!!!!!!!!!" + bc[29:]},
		{name: "bcrypt 2x", encoded: "$2x$" + bc[4:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, needsRehash, err := Verify(tc.encoded, "password one")
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify error = %v, want ErrMalformedHash", err)
			}
			if ok || needsRehash {
				t.Fatalf("Verify = (%v, %v) with an error, want (false, false)", ok, needsRehash)
			}
		})
	}
}

func TestRejectedPasswords(t *testing.T) {
	good := mustHash(t, "fine password")
	tests := []struct {
		name     string
		password string
		wantErr  error
	}{
		{name: "empty", password: "", wantErr: ErrEmpty},
		{name: "one byte over", password: strings.Repeat("a", MaxLength+1), wantErr: ErrTooLong},
		{name: "huge", password: strings.Repeat("a", 1<<20), wantErr: ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := Hash(tc.password); !errors.Is(err, tc.wantErr) || h != "" {
				t.Fatalf("Hash = %q, %v; want \"\", %v", h, err, tc.wantErr)
			}
			if ok, _, err := Verify(good, tc.password); !errors.Is(err, tc.wantErr) || ok {
				t.Fatalf("Verify = %v, %v; want false, %v", ok, err, tc.wantErr)
			}
			DummyVerify(tc.password) // must not panic
		})
	}
}

func TestDummyHashUsesCurrentParams(t *testing.T) {
	p, _, _, err := decode(dummyHash)
	if err != nil {
		t.Fatalf("decode dummy hash: %v", err)
	}
	if p != current {
		t.Fatalf("dummy hash params = %+v, want current %+v: regenerate dummyHash with Hash", p, current)
	}
	DummyVerify("anything at all")
}

func TestConcurrentHashing(t *testing.T) {
	if cap(sem) != runtime.NumCPU() {
		t.Fatalf("semaphore size = %d, want NumCPU = %d", cap(sem), runtime.NumCPU())
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*runtime.NumCPU()+2)
	for range cap(errs) {
		wg.Go(func() {
			h, err := Hash("concurrent")
			if err == nil {
				var ok bool
				ok, _, err = Verify(h, "concurrent")
				if err == nil && !ok {
					err = errors.New("round trip failed")
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(sem) != 0 {
		t.Fatalf("semaphore holds %d slots after all calls returned", len(sem))
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("benchmark password"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	encoded, err := Hash("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := Verify(encoded, "benchmark password"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func mustHash(t *testing.T, password string) string {
	t.Helper()
	h, err := Hash(password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return h
}

// newTestHash makes an argon2id PHC string with the given parameters, as an older release (or another
// system) would have written it.
func newTestHash(t *testing.T, p params, password string) string {
	t.Helper()
	salt := make([]byte, p.saltLen)
	for i := range salt {
		salt[i] = byte(i + 1)
	}
	return encode(p, salt, derive(p, password, salt))
}
