package provider

import "testing"

func TestLoopbackPortVariant(t *testing.T) {
	registered := []string{"http://127.0.0.1/cb", "http://[::1]:8000/native?x=1", "https://app.example/cb"}
	tests := []struct {
		name string
		uri  string
		want bool
	}{
		{"IPv4 loopback, any port", "http://127.0.0.1:51004/cb", true},
		{"IPv6 loopback, another port", "http://[::1]:9/native?x=1", true},
		{"other path", "http://127.0.0.1:51004/cb2", false},
		{"percent-encoded path", "http://127.0.0.1:51004/%63b", false},
		{"other query", "http://[::1]:9/native?x=2", false},
		{"userinfo", "http://evil.example@127.0.0.1:51004/cb", false},
		{"fragment", "http://127.0.0.1:51004/cb#x", false},
		{"https loopback", "https://127.0.0.1:51004/cb", false},
		{"localhost name (RFC 8252 §8.3 wants IP literals)", "http://localhost:51004/cb", false},
		{"other loopback address", "http://127.0.0.2:51004/cb", false},
		{"not loopback", "http://app.example:8080/cb", false},
		{"not a URL", "http://%zz", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := loopbackPortVariant(tc.uri, registered); got != tc.want {
				t.Errorf("loopbackPortVariant(%q) = %v, want %v", tc.uri, got, tc.want)
			}
		})
	}
}
