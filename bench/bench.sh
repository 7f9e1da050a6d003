#!/usr/bin/env bash
# Runs the Go benchmarks of docs/performance.md on PostgreSQL and summarises them with benchstat when
# it is installed (go install golang.org/x/perf/cmd/benchstat@latest). Fixed iteration counts, so every
# run is bounded: about three minutes on 2 cores.
#
#   bench/bench.sh [OUTDIR]        # default /tmp/kangrow-bench; raw output in OUTDIR/*.txt
#   COUNT=1 bench/bench.sh         # one count instead of 6 (a quick check, no confidence intervals)
#
# The database is TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test (storage/dbtest); each
# benchmark creates and drops a database of its own there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/kangrow-bench}
count=${COUNT:-6}
mkdir -p "$out"

run() { # name benchtime regexp [package]
	local name=$1 benchtime=$2 re=$3 pkg=${4:-./bench/}
	echo "== $name: -bench '$re' -benchtime $benchtime -count $count $pkg" >&2
	timeout 900 go test -run '^$' -bench "$re" -benchmem -benchtime "$benchtime" -count "$count" "$pkg" | tee "$out/$name.txt"
}

{
	go version
	uname -srm
	nproc
} >"$out/env.txt"

run static 20000x '^Benchmark(Discovery|JWKS)$'
run reads 2000x '^Benchmark(TokenClientCredentials|Introspect|UserInfo|StoreGetClient)$'
run grants 500x '^Benchmark(Refresh|TokenAuthorizationCode|Authorize)$'
run password 20x . ./storage/password/

if command -v benchstat >/dev/null || [ -x "$(go env GOPATH)/bin/benchstat" ]; then
	bs=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
	cat "$out/static.txt" "$out/reads.txt" "$out/grants.txt" "$out/password.txt" >"$out/all.txt"
	"$bs" "$out/all.txt" | tee "$out/benchstat.txt"
fi
