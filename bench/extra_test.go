package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParallel serves requests from 64 goroutines at once (SetParallelism(32) on 2 CPUs, as wrk
// -c64 does) with the database pool capped at maxconns, to see what storage/db.go's MaxOpenConns(20)
// buys on this machine. pool-wait-µs/op is database/sql's wait for a free connection per request.
func BenchmarkParallel(b *testing.B) {
	for _, ep := range []string{"introspect", "client_credentials"} {
		for _, conns := range []int{2, 4, 8, 20} {
			b.Run(fmt.Sprintf("%s/maxconns=%d", ep, conns), func(b *testing.B) {
				e := newEnv(b)
				e.sqlDB.SetMaxOpenConns(conns)
				e.sqlDB.SetMaxIdleConns(conns)
				var next func() *http.Request
				switch ep {
				case "introspect":
					form := url.Values{"token": {e.grant(b).AccessToken}}
					next = func() *http.Request { return formPost("/oauth2/introspect", form, "webapp", webappSecret) }
				default:
					form := url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}
					next = func() *http.Request { return formPost("/oauth2/token", form, "service", serviceSecret) }
				}
				before := e.sqlDB.Stats()
				b.SetParallelism(32)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						w := httptest.NewRecorder()
						e.handler.ServeHTTP(w, next())
						if w.Code != http.StatusOK {
							b.Errorf("status %d: %.200s", w.Code, w.Body.String())
							return
						}
					}
				})
				b.StopTimer()
				after := e.sqlDB.Stats()
				b.ReportMetric(float64((after.WaitDuration-before.WaitDuration).Microseconds())/float64(b.N), "pool-wait-µs/op")
			})
		}
	}
}

// BenchmarkRequestLog is discovery (the cheapest request) with serve's request log written as JSON to a
// file, as `serve 2>FILE` does, against no request log at all: what the log line costs per request.
func BenchmarkRequestLog(b *testing.B) {
	for _, mode := range []string{"json-to-file", "off"} {
		b.Run(mode, func(b *testing.B) {
			var logger *slog.Logger
			if mode == "off" {
				logger = slog.New(slog.DiscardHandler)
			} else {
				f, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = f.Close() })
				logger = slog.New(slog.NewJSONHandler(f, nil))
			}
			e := newEnvWith(b, envOptions{logger: logger})
			e.run(b, http.StatusOK, func(int) *http.Request { return get("/.well-known/openid-configuration") })
		})
	}
}

// BenchmarkSign is the private-key operation behind every ID token (code exchange and refresh): RS256
// with a 2048-bit key, as keys/ generates, and ES256 (P-256), which clients may choose.
func BenchmarkSign(b *testing.B) {
	digest := sha256.Sum256([]byte("header.payload"))
	b.Run("RS256-2048", func(b *testing.B) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ES256", func(b *testing.B) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := ecdsa.SignASN1(rand.Reader, k, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
