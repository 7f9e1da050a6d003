package main

import (
	"strings"
	"testing"

	"github.com/kangrow/auth/keys"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		if got := mustDecode[[]keys.Info](t, mustRun(t, e, "keys", "list")); len(got) != 0 {
			t.Fatalf("keys on a fresh database: %+v", got)
		}
		mustFailOneLine(t, e, []string{"keys", "rotate"}, "KANGROW_SECRET")

		withSecret := e.with("KANGROW_SECRET", strings.Repeat("k", 40))
		infos := mustDecode[[]keys.Info](t, mustRun(t, withSecret, "keys", "rotate"))
		states := map[string]int{}
		for _, in := range infos {
			states[in.Algorithm+" "+string(in.State)]++
		}
		for _, want := range []string{"RS256 current", "RS256 next", "ES256 current", "ES256 next"} {
			if states[want] != 1 {
				t.Errorf("after the first rotation: %v, want one %q", states, want)
			}
		}
		// The listing needs no secret and shows the same keys.
		if listed := mustDecode[[]keys.Info](t, mustRun(t, e, "keys", "list")); len(listed) != len(infos) {
			t.Errorf("keys list shows %d keys, rotate showed %d", len(listed), len(infos))
		}
		mustFailOneLine(t, withSecret, []string{"keys", "rotate"}, "have not started signing yet")
		mustFailOneLine(t, e.with("KANGROW_SECRET", strings.Repeat("w", 40)), []string{"keys", "rotate"}, "wrong KANGROW_SECRET")
		if n := len(mustDecode[[]keys.Info](t, mustRun(t, e, "keys", "list"))); n != 4 {
			t.Errorf("%d keys after refused rotations, want 4", n)
		}
	})
}
