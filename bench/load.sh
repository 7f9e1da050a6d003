#!/usr/bin/env bash
# Load baseline of docs/performance.md: wrk against `kangrow-auth serve` on PostgreSQL, loopback only.
#
#   bench/load.sh [OUTDIR]          # default /tmp/kangrow-load; results.md and raw wrk output there
#
# It builds the binary and bench/cmd/kgflow, creates a throwaway database on the PostgreSQL at
# ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres; loopback hosts only), registers a
# code client, a client_credentials client and a user through the command line, starts serve on
# 127.0.0.1:$PORT, signs the user in once through the real pages for an access token, then runs wrk
# against each endpoint for DURATION seconds with 2 threads at each of CONNS connections, recording
# req/s, latency percentiles, errors, the server's RSS (ps -o rss) and CPU time before and after each
# run. On exit, whatever happened, it stops the server and drops the database.
#
# Knobs (environment): DURATION (seconds, 1..60, default 30), CONNS (default "16 64", each 1..256),
# THREADS (default 2), PORT (default 18090), ENDPOINTS (default "discovery jwks introspect userinfo
# token_cc"), REPEAT (runs of each endpoint and connection count, 1..5, default 1: on a machine that
# others use too, repeat and compare the "other" CPU column), ADMIN_URL. Needs go, psql, wrk (apt-get install -y wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

out=${1:-/tmp/kangrow-load}
duration=${DURATION:-30}
conns=${CONNS:-"16 64"}
threads=${THREADS:-2}
port=${PORT:-18090}
endpoints=${ENDPOINTS:-"discovery jwks introspect userinfo token_cc"}
repeat=${REPEAT:-1}
admin=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

die() { echo "load.sh: $*" >&2; exit 1; }

# Bounds and loopback only.
[[ $duration =~ ^[0-9]+$ ]] && ((duration >= 1 && duration <= 60)) || die "DURATION must be 1..60 seconds"
[[ $threads =~ ^[0-9]+$ ]] && ((threads >= 1 && threads <= 8)) || die "THREADS must be 1..8"
[[ $repeat =~ ^[0-9]+$ ]] && ((repeat >= 1 && repeat <= 5)) || die "REPEAT must be 1..5"
for c in $conns; do
	[[ $c =~ ^[0-9]+$ ]] && ((c >= threads && c <= 256)) || die "CONNS: each must be THREADS..256"
done
[[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65000)) || die "PORT must be 1024..65000"
dbhost=$(sed -E 's#^[a-z]+://([^@/]*@)?(\[[^]]*\]|[^:/?]*).*#\2#' <<<"$admin")
case $dbhost in
127.* | localhost | "[::1]") ;;
*) die "ADMIN_URL must point at a loopback host, not '$dbhost'" ;;
esac
for tool in go psql wrk curl; do command -v $tool >/dev/null || die "$tool is not installed"; done

base=http://127.0.0.1:$port
work=$(mktemp -d /tmp/kangrow-load-work.XXXXXX)
mkdir -p "$out"
db=kangrow_load_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
dburl=$(sed -E "s#^([a-z]+://[^/]*)/[^?]*#\1/$db#" <<<"$admin")
serve_pid=

cleanup() {
	set +e
	[[ -n ${sampler:-} ]] && kill "$sampler" 2>/dev/null
	if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -TERM "$serve_pid"
		for _ in $(seq 1 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$serve_pid" 2>/dev/null
	fi
	psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	# serve logs one JSON line per request: keep its size and its last lines, not the whole file.
	if [[ -f $work/serve.log ]]; then
		echo "serve.log: $(stat -c %s "$work/serve.log") bytes" >"$out/serve-log-tail.txt"
		tail -n 20 "$work/serve.log" >>"$out/serve-log-tail.txt"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building" >&2
go build -o "$work/kangrow-auth" ./cmd/kangrow-auth
go build -o "$work/kgflow" ./bench/cmd/kgflow

psql "$admin" -qc "CREATE DATABASE $db" >/dev/null
export KANGROW_DATABASE_URL=$dburl
export KANGROW_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
export KANGROW_ISSUER=$base KANGROW_ADDR=127.0.0.1:$port KANGROW_ADMIN_ADDR=127.0.0.1:$((port + 1))
export KANGROW_LOG_FORMAT=json
web_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
svc_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
user_password=$(head -c 18 /dev/urandom | base64 | tr -d '\n')
redirect=http://127.0.0.1:9/callback # registered, never dialled

bin=$work/kangrow-auth
$bin migrate up >/dev/null
$bin clients create --id webapp --name "Web App" --redirect-uri $redirect \
	--grant-type authorization_code --grant-type refresh_token --secret "$web_secret" >/dev/null
$bin clients create --id service --name Service --grant-type client_credentials --scope reports.read \
	--secret "$svc_secret" >/dev/null
$bin users create --email ada@example.test --password "$user_password" --verified \
	--first-name Ada --last-name Lovelace >/dev/null

$bin serve --skip-migrate 2>"$work/serve.log" &
serve_pid=$!
for i in $(seq 1 50); do
	curl -fsS -m 1 "$base/health/ready" >/dev/null 2>&1 && break
	((i == 50)) && die "serve did not become ready (see $work/serve.log)"
	sleep 0.2
done

eval "$("$work/kgflow" tokens -issuer "$base" -client webapp -secret "$web_secret" -redirect-uri $redirect \
	-email ada@example.test -password "$user_password")"
[[ -n ${ACCESS_TOKEN:-} ]] || die "no access token"

# Sanity: each request answers 200 with what we expect before it is put under load.
curl -fsS -m 5 -u "webapp:$web_secret" -d "token=$ACCESS_TOKEN" "$base/oauth2/introspect" | grep -q '"active":true' ||
	die "introspection of the access token is not active"
curl -fsS -m 5 -H "Authorization: Bearer $ACCESS_TOKEN" "$base/userinfo" | grep -q '"sub"' || die "userinfo failed"
curl -fsS -m 5 -u "service:$svc_secret" -d "grant_type=client_credentials&scope=reports.read" "$base/oauth2/token" |
	grep -q access_token || die "client_credentials failed"

basic() { printf '%s' "$1:$2" | base64 | tr -d '\n'; }
cat >"$work/introspect.lua" <<EOF
wrk.method = "POST"
wrk.body = "token=$ACCESS_TOKEN"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $(basic webapp "$web_secret")"
EOF
cat >"$work/token_cc.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=reports.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $(basic service "$svc_secret")"
EOF

# CPU time in clock ticks (utime+stime) of one process; 0 once it is gone.
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The PostgreSQL processes that work for the server: the backends of its database and the cluster's
# background processes (WAL writer, checkpointer, …). Backends of other databases are left out.
pg_pids() { psql "$admin" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$db' OR backend_type <> 'client backend'"; }
declare -A pg_before
pg_snapshot() { pg_before=(); local p; for p in $(pg_pids); do pg_before[$p]=$(ticks_of "$p"); done; }
# pg_sample FILE: once a second until killed, append "pid ticks" of those processes to FILE. A backend
# can exit before the run is over (a request cancelled when wrk closes its connections takes its
# database connection with it), so its last sample stands in for it.
pg_sample() { while :; do for p in $(pg_pids); do echo "$p $(ticks_of "$p")"; done >>"$1"; sleep 1; done; }
# pg_delta FILE: ticks spent since pg_snapshot by those processes (a backend opened since counts from 0).
pg_delta() {
	local sum=0 p a b
	for p in $(pg_pids); do echo "$p $(ticks_of "$p")"; done >>"$1"
	while read -r p a; do
		b=${pg_before[$p]:-0}
		((a >= b)) && sum=$((sum + a - b))
	done < <(awk '$2 > max[$1] {max[$1] = $2} END {for (p in max) print p, max[p]}' "$1")
	echo $sum
}
hz=$(getconf CLK_TCK)
# machine_ticks: busy and total clock ticks of all CPUs since boot (/proc/stat).
machine_ticks() { awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat; }
# children_ms VAR: user+system CPU, in ms, of this shell's waited-for children (bash `times`, second
# line). `times` must run in this shell, not in a $(…) subshell, whose children are its own.
children_ms() {
	times >"$work/times"
	printf -v "$1" '%s' "$(awk 'NR == 2 {
		split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }' "$work/times")"
}

results=$out/results.md
{
	echo "# wrk against kangrow-auth serve ($(date -u +%FT%TZ))"
	echo
	echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), -t$threads, ${duration}s per run, --latency, --timeout 5s; server $base on PostgreSQL ($dbhost)."
	echo
	echo "CPU columns: ms of CPU per request spent by the server process, by PostgreSQL (the backends of the"
	echo "server's database and the cluster's background processes), by wrk, and by everything else on the"
	echo "machine: the kernel's own time (loopback TCP runs in softirq, charged to no process) and other users'"
	echo "work (a value well above the same row's usual one means the run was disturbed). busy % is of all $(nproc) CPUs."
	echo
	echo "| endpoint | conns | run | req/s | p50 | p90 | p99 | max | requests | non-2xx | socket errors | RSS before→after (KiB) | CPU ms/req server / PostgreSQL / wrk / other | machine busy % |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|"
} >"$results"

for ep in $endpoints; do
	case $ep in
	discovery) args=("$base/.well-known/openid-configuration") ;;
	jwks) args=("$base/.well-known/jwks.json") ;;
	introspect) args=(-s "$work/introspect.lua" "$base/oauth2/introspect") ;;
	userinfo) args=(-H "Authorization: Bearer $ACCESS_TOKEN" "$base/userinfo") ;;
	token_cc) args=(-s "$work/token_cc.lua" "$base/oauth2/token") ;;
	*) die "unknown endpoint $ep" ;;
	esac
	for c in $conns; do
	for run in $(seq 1 "$repeat"); do
		rss0=$(ps -o rss= -p "$serve_pid" | tr -d ' ')
		cpu0=$(ticks_of "$serve_pid")
		pg_snapshot
		: >"$work/pg-samples"
		pg_sample "$work/pg-samples" &
		sampler=$!
		read -r busy0 total0 < <(machine_ticks)
		children_ms wrk0
		echo "== $ep: wrk -t$threads -c$c -d${duration}s (run $run of $repeat)" >&2
		f=$out/wrk-$ep-c$c-run$run.txt
		timeout $((duration + 30)) wrk -t"$threads" -c"$c" -d"${duration}s" --latency --timeout 5s "${args[@]}" >"$f"
		children_ms wrk1
		read -r busy1 total1 < <(machine_ticks)
		cpu1=$(ticks_of "$serve_pid")
		kill "$sampler" && wait "$sampler" 2>/dev/null || true
		pgd=$(pg_delta "$work/pg-samples")
		rss1=$(ps -o rss= -p "$serve_pid" | tr -d ' ')
		rps=$(awk '/^Requests\/sec/ {print $2}' "$f")
		total=$(awk '/requests in/ {print $1}' "$f")
		pct() { awk -v p="$1" '$1 == p {print $2}' "$f"; }
		max=$(awk '/^    Latency/ {print $4}' "$f")
		non2xx=$(awk '/Non-2xx/ {print $NF}' "$f")
		sock=$(awk -F': ' '/Socket errors/ {print $2}' "$f")
		cpu=$(awk -v s="$((cpu1 - cpu0))" -v pg="$pgd" -v w="$((wrk1 - wrk0))" -v busy="$((busy1 - busy0))" \
			-v n="$total" -v hz="$hz" 'BEGIN {
				srv = s * 1000 / hz / n; p = pg * 1000 / hz / n; wr = w / n; all = busy * 1000 / hz / n
				o = all - srv - p - wr; if (o < 0) o = 0
				printf "%.3f / %.3f / %.3f / %.3f", srv, p, wr, o }')
		busy_pct=$(awk -v b="$((busy1 - busy0))" -v t="$((total1 - total0))" 'BEGIN {printf "%.0f", 100 * b / t}')
		echo "| $ep | $c | $run | $rps | $(pct 50%) | $(pct 90%) | $(pct 99%) | $max | $total | ${non2xx:-0} | ${sock:-none} | $rss0→$rss1 | $cpu | $busy_pct |" >>"$results"
		sleep 2
	done
	done
done

# The token still answers as before (nothing was revoked or expired under load).
curl -fsS -m 5 -u "webapp:$web_secret" -d "token=$ACCESS_TOKEN" "$base/oauth2/introspect" | grep -q '"active":true' ||
	echo "warning: the access token is no longer active after the runs" >>"$results"
{
	echo
	echo "Database connections of the server at the end: $(psql "$admin" -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")"
	echo "client_tokens rows written by the client_credentials runs: $(psql "$dburl" -Atc 'SELECT count(*) FROM client_tokens')"
} >>"$results"
cat "$results"
