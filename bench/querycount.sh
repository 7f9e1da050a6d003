#!/usr/bin/env bash
# Query counts of docs/performance.md: how many SQL statements and transactions each hot-path request
# costs, read from the PostgreSQL log of a throwaway cluster.
#
#   bench/querycount.sh [OUTDIR]    # default /tmp/kangrow-querycount; querycounts.md and the raw log there
#
# It starts PostgreSQL 15 from /usr/lib/postgresql/15/bin (as the postgres user when run as root) on
# 127.0.0.1:$PGPORT with log_min_duration_statement=0, builds kangrow-auth, registers a code client, a
# client_credentials client and a user through the command line, starts serve on 127.0.0.1:$PORT, and
# runs `kgflow trace`: each hot-path request once per round (ROUNDS, default 3), fenced by marker
# queries. bench/cmd/pglogcount then cuts the log per request. On exit it stops the server and the
# cluster and removes the cluster's directory. Loopback only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-/tmp/kangrow-querycount}
pgport=${PGPORT:-55439}
port=${PORT:-18080}
rounds=${ROUNDS:-3}
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "querycount.sh: $*" >&2; exit 1; }
[[ -x $pgbin/initdb ]] || die "no PostgreSQL binaries in $pgbin (set PGBIN)"
for tool in go psql curl; do command -v $tool >/dev/null || die "$tool is not installed"; done
if (echo >/dev/tcp/127.0.0.1/"$pgport") 2>/dev/null; then die "port $pgport is taken (set PGPORT)"; fi
if (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then die "port $port is taken (set PORT)"; fi

mkdir -p "$out"
work=$(mktemp -d /tmp/kangrow-querycount-work.XXXXXX)
asdb=()
if [[ $(id -u) == 0 ]]; then
	chown postgres "$work"
	asdb=(runuser -u postgres --)
fi
serve_pid=
cleanup() {
	set +e
	if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -TERM "$serve_pid"
		for _ in $(seq 1 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$serve_pid" 2>/dev/null
	fi
	[[ -f $work/data/postmaster.pid ]] && "${asdb[@]}" "$pgbin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null
	cp "$work/server.log" "$out/postgres.log" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${asdb[@]}" "$pgbin/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${asdb[@]}" "$pgbin/pg_ctl" -D "$work/data" -w -t 30 -l "$work/server.log" -o "-p $pgport -k $work \
 -c listen_addresses=127.0.0.1 -c log_min_duration_statement=0 -c log_line_prefix='%m [%p] %v '" start >/dev/null
admin="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"
psql "$admin" -qc 'CREATE DATABASE kg' >/dev/null

go build -o "$work/kangrow-auth" ./cmd/kangrow-auth
go build -o "$work/kgflow" ./bench/cmd/kgflow
go build -o "$work/pglogcount" ./bench/cmd/pglogcount

export KANGROW_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/kg?sslmode=disable"
export KANGROW_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
export KANGROW_ISSUER=http://127.0.0.1:$port KANGROW_ADDR=127.0.0.1:$port KANGROW_ADMIN_ADDR=127.0.0.1:$((port + 1))
web_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
svc_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
password=$(head -c 18 /dev/urandom | base64 | tr -d '\n')
bin=$work/kangrow-auth
$bin migrate up >/dev/null
$bin clients create --id webapp --name "Web App" --redirect-uri http://127.0.0.1:9/callback \
	--grant-type authorization_code --grant-type refresh_token --secret "$web_secret" >/dev/null
$bin clients create --id service --name Service --grant-type client_credentials --scope reports.read \
	--secret "$svc_secret" >/dev/null
$bin users create --email ada@example.test --password "$password" --verified --first-name Ada --last-name Lovelace >/dev/null

$bin serve --skip-migrate 2>"$work/serve.log" &
serve_pid=$!
for i in $(seq 1 50); do
	curl -fsS -m 1 "$KANGROW_ISSUER/health/ready" >/dev/null 2>&1 && break
	((i == 50)) && die "serve did not become ready"
	sleep 0.2
done

start=$(wc -l <"$work/server.log")
"$work/kgflow" trace -issuer "$KANGROW_ISSUER" -secret "$web_secret" -service-secret "$svc_secret" \
	-email ada@example.test -password "$password" -rounds "$rounds" -mark-dsn "$admin" | tee "$out/client-times.txt"
sleep 0.5 # the last log lines
tail -n +$((start + 1)) "$work/server.log" >"$work/trace.log"
"$work/pglogcount" <"$work/trace.log" | tee "$out/querycounts.md"
