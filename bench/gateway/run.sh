#!/usr/bin/env bash
# bench/gateway/run.sh: ringcache's S3 gateway against nginx proxy_cache +
# slice in front of the same S3 server (issue 12), in one run, on this
# machine. Prints one table; docs/BENCHMARKS.md says how to read it.
#
#   bench/gateway/run.sh            # or: make bench-gateway
#
# Environment (defaults in brackets):
#   DURATION [12s]   per wrk row        CONNS [16]  THREADS [2]
#   N1M [64]         1 MiB objects      N64K [256]  64 KiB objects
#   DELAY [20ms]     latency added in front of the under-store (every row:
#                    warm rows never reach it; the cold row measures it)
#   COLD [5]         cold GETs per system for the first-byte row
#   PROFILE [empty]  file: also take a 10 s CPU profile of the ringcache
#                    node during an extra 64 KiB run, written there
#   RINGCACHE_B [empty]  another ringcache binary (e.g. built from the commit
#                    before a change): run as a second single node, and the
#                    single-node rows alternate A and B three times each
#   HOP_PROFILE [empty]  file prefix: CPU profiles of the owner (.c1) and the
#                    non-owner (.c2) during an extra one-hop 64 KiB run
#   KEEP [0]         1: keep the work directory (logs, configs)
#   ROWS [.]         regular expression: only the rows whose "system size"
#                    matches (e.g. '^(nginx|ringcache) 64KiB$')
#
# Needs: go, versitygw (~/go/bin or PATH), nginx (Debian's, with the slice
# module), wrk, curl, the aws CLI (to create the bucket, its public-read
# policy and the objects), python3 (free ports).
#
# Why a script and not a Go program: every part measured or measuring is an
# outside program (versitygw, nginx, wrk); the script is the recipe a reader
# can rerun by hand, line by line. The one piece of our own, the latency
# proxy, is a Go program (bench/gateway/latencyproxy).
#
# How nginx reaches versitygw: nginx cannot sign requests (SigV4) without a
# third-party module, so the bench bucket gets a public-read bucket policy
# (Principal "*", s3:GetObject) and nginx fetches objects unsigned. ringcache
# signs its under-store requests as usual (AWS_* keys); its gateway runs
# with --s3-auth none, nginx with no auth: neither checks clients.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DURATION=${DURATION:-12s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
N1M=${N1M:-64}
N64K=${N64K:-256}
DELAY=${DELAY:-20ms}
COLD=${COLD:-5}
PROFILE=${PROFILE:-}
HOP_PROFILE=${HOP_PROFILE:-}
KEEP=${KEEP:-0}
ROWS=${ROWS:-.}
RINGCACHE_B=${RINGCACHE_B:-}
VERSITYGW=${VERSITYGW:-$(command -v versitygw || echo "$HOME/go/bin/versitygw")}
NGINX=${NGINX:-/usr/sbin/nginx}
AK=benchaccess
SK=benchsecret0123456789
BUCKET=bench

for tool in "$VERSITYGW" "$NGINX" wrk curl aws python3 go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/rc-bench-gateway.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$KEEP" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $*" >&2; }

# start NAME CMD...: runs CMD in the background, logs in $WORK/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$name]=$!
}
declare -A PID_OF

# cpu_ticks NAME...: user+system clock ticks used so far by those processes
# started with start() and their children (nginx's workers).
cpu_ticks() {
	local n p t=0
	for n in "$@"; do
		for p in "${PID_OF[$n]}" $(pgrep -P "${PID_OF[$n]}" || true); do
			t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
		done
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

# wait_http URL: until URL answers (any status), for up to 20 s.
wait_http() {
	local i
	for i in $(seq 200); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "run.sh: $1 did not answer" >&2
	exit 1
}

# Free loopback ports, all at once (held open together so they differ).
read -r -a PORTS <<<"$(python3 -c '
import socket
ss = [socket.socket() for _ in range(28)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
')"
port() { echo "${PORTS[$1]}"; }
VGW=$(port 0) LAT=$(port 1) NG=$(port 2) NGC=$(port 3)

log "load before the run: $(uptime)"
log "building bin/ringcache and bin/latencyproxy"
CGO_ENABLED=0 go build -o bin/ringcache ./cmd/ringcache
CGO_ENABLED=0 go build -o bin/latencyproxy ./bench/gateway/latencyproxy

# ---- the under-store: versitygw with a public-read bucket of objects
mkdir -p "$WORK/vgw" "$WORK/src/1m" "$WORK/src/64k" "$WORK/src/cold"
start versitygw "$VERSITYGW" --access "$AK" --secret "$SK" --port "127.0.0.1:$VGW" --keep-alive -q posix "$WORK/vgw"
wait_http "http://127.0.0.1:$VGW/"
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
S3="aws --endpoint-url http://127.0.0.1:$VGW"
$S3 s3api create-bucket --bucket "$BUCKET" >/dev/null
$S3 s3api put-bucket-policy --bucket "$BUCKET" --policy \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::$BUCKET/*\"]}]}"
for i in $(seq -f %03g 0 $((N1M - 1))); do head -c 1048576 /dev/urandom >"$WORK/src/1m/obj-$i"; done
for i in $(seq -f %03g 0 $((N64K - 1))); do head -c 65536 /dev/urandom >"$WORK/src/64k/obj-$i"; done
for sys in direct ringcache nginx; do
	for i in $(seq "$COLD"); do head -c 1048576 /dev/urandom >"$WORK/src/cold/$sys-$i"; done
done
log "uploading $N1M x 1 MiB, $N64K x 64 KiB and $((3 * COLD)) cold objects"
$S3 s3 cp --recursive --only-show-errors "$WORK/src" "s3://$BUCKET/"
(cd "$WORK/src" && find 1m -type f | sort | sed "s|^|/$BUCKET/|") >"$WORK/paths-1m"
(cd "$WORK/src" && find 64k -type f | sort | sed "s|^|/$BUCKET/|") >"$WORK/paths-64k"

# ---- the latency proxy in front of versitygw (what every cache reaches)
start latencyproxy "$ROOT/bin/latencyproxy" -listen "127.0.0.1:$LAT" -upstream "127.0.0.1:$VGW" -delay "$DELAY"
wait_http "http://127.0.0.1:$LAT/"

# ---- nginx: proxy_cache + slice, sendfile on; once with tcp_nopush off
# (the fair setting) and once with tcp_nopush on (the pitfall)
nginx_conf() { # name port nopush
	mkdir -p "$WORK/$1/cache" "$WORK/$1/tmp" "$WORK/static"
	# Workers run as the user running this script (nginx ignores "user"
	# when not started as root), so they can write the cache under $WORK.
	cat >"$WORK/$1/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes 2;
pid $WORK/$1/nginx.pid;
error_log $WORK/$1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush $3;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path $WORK/$1/tmp/body;
    proxy_temp_path $WORK/$1/tmp/proxy;
    fastcgi_temp_path $WORK/$1/tmp/fastcgi;
    uwsgi_temp_path $WORK/$1/tmp/uwsgi;
    scgi_temp_path $WORK/$1/tmp/scgi;
    proxy_cache_path $WORK/$1/cache levels=1:2 keys_zone=s3:16m max_size=4g inactive=7d use_temp_path=off;
    upstream s3 { server 127.0.0.1:$LAT; keepalive 32; }
    server {
        listen 127.0.0.1:$2;
        location /static/ { root $WORK; }
        location / {
            slice 1m;
            proxy_cache s3;
            proxy_cache_key \$uri\$slice_range;
            proxy_set_header Range \$slice_range;
            proxy_cache_valid 200 206 7d;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1:$VGW;
            proxy_pass http://s3;
            add_header X-Cache-Status \$upstream_cache_status;
        }
    }
}
EOF
}
nginx_conf nginx "$NG" off
nginx_conf nginx-nopush "$NGC" on
cp "$WORK/src/1m/obj-000" "$WORK/static/1m"
cp "$WORK/src/64k/obj-000" "$WORK/static/64k"
start nginx "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
start nginx-nopush "$NGINX" -p "$WORK/nginx-nopush" -e "$WORK/nginx-nopush/error.log" -c "$WORK/nginx-nopush/nginx.conf" -g 'daemon off;'
wait_http "http://127.0.0.1:$NG/static/1m"
wait_http "http://127.0.0.1:$NGC/static/1m"

# ---- ringcache nodes: r1 alone; c1..c3 a cluster of three
# start_node NAME INDEX [JOIN]: ports from PORTS[4+4*INDEX...]
start_node() {
	local name=$1 b=$((4 + 4 * $2)) join=() bin=${BIN:-$ROOT/bin/ringcache}
	[ $# -ge 3 ] && join=(--join "$3")
	start "$name" "$bin" node --id "$name" --data-dir "$WORK/$name" \
		--understore "s3://$BUCKET" --s3-endpoint "http://127.0.0.1:$LAT" --s3-path-style \
		--grpc-addr "127.0.0.1:$(port $b)" --gossip-addr "127.0.0.1:$(port $((b + 1)))" \
		--http-addr "127.0.0.1:$(port $((b + 2)))" --s3-addr "127.0.0.1:$(port $((b + 3)))" \
		--s3-auth none --sync-interval 1h "${join[@]}"
	wait_http "http://127.0.0.1:$(port $((b + 2)))/readyz"
}
s3port() { port $((4 + 4 * $1 + 3)); }
httpport() { port $((4 + 4 * $1 + 2)); }
gossipport() { port $((4 + 4 * $1 + 1)); }
start_node r1 0
start_node c1 1
start_node c2 2 "127.0.0.1:$(gossipport 1)"
start_node c3 3 "127.0.0.1:$(gossipport 1)"
[ -n "$RINGCACHE_B" ] && BIN=$RINGCACHE_B start_node rb 4
for i in 1 2 3; do
	for t in $(seq 100); do
		[ "$(curl -s "http://127.0.0.1:$(httpport $i)/v1/members" | grep -Eo '"state": *"alive"' | wc -l)" -ge 3 ] && break
		sleep 0.2
	done
done
RC=$(s3port 0)

# ---- correctness: every system returns the original bytes
check() { # url file
	curl -sf -o "$WORK/check.out" "$1" || { echo "run.sh: GET $1 failed" >&2; exit 1; }
	cmp -s "$WORK/check.out" "$2" || { echo "run.sh: $1 differs from $2" >&2; exit 1; }
}
for p in 1m/obj-001 64k/obj-001; do
	for port in "$NG" "$NGC" "$RC" "$(s3port 1)" "$(s3port 2)" "$(s3port 3)"; do
		check "http://127.0.0.1:$port/$BUCKET/$p" "$WORK/src/$p"
	done
done
curl -sf -H 'Range: bytes=1000-300000' -o "$WORK/check.out" "http://127.0.0.1:$RC/$BUCKET/1m/obj-002"
cmp -s "$WORK/check.out" <(tail -c +1001 "$WORK/src/1m/obj-002" | head -c 299001) || { echo "run.sh: ranged GET differs" >&2; exit 1; }
log "correctness: GETs through nginx, ringcache (1 node, 3 nodes) equal the originals"

# ---- warm every system, then check that a second pass is all hits
metric() { # port name: sum of a counter on that node's /metrics
	curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
warm() { # port
	cat "$WORK/paths-1m" "$WORK/paths-64k" | sed "s|^|http://127.0.0.1:$1|" | xargs -P 8 -n 1 curl -sf -o /dev/null
}
RB=""
[ -n "$RINGCACHE_B" ] && RB=$(s3port 4)
for port in "$NG" "$NGC" "$RC" "$(s3port 1)" $RB; do warm "$port"; done
nginx_hits() { # port: HIT answers in a second pass over every object
	cat "$WORK/paths-1m" "$WORK/paths-64k" | sed "s|^|http://127.0.0.1:$1|" |
		xargs -P 8 -n 1 curl -s -o /dev/null -D - | grep -ci '^x-cache-status: hit' || true
}
total=$(($(wc -l <"$WORK/paths-1m") + $(wc -l <"$WORK/paths-64k")))
for port in "$NG" "$NGC"; do
	h=$(nginx_hits "$port")
	[ "$h" = "$total" ] || { echo "run.sh: nginx on $port: $h of $total hits after warming" >&2; exit 1; }
done
misses_before=0 hits_before=0
NODES="0 1 2 3"
[ -n "$RB" ] && NODES="$NODES 4"
for i in $NODES; do
	misses_before=$((misses_before + $(metric "$(httpport $i)" ringcache_cache_misses_total)))
	hits_before=$((hits_before + $(metric "$(httpport $i)" ringcache_cache_hits_total)))
done
for port in "$RC" "$(s3port 1)" "$(s3port 2)" $RB; do warm "$port"; done
misses_after=0 hits_after=0
for i in $NODES; do
	misses_after=$((misses_after + $(metric "$(httpport $i)" ringcache_cache_misses_total)))
	hits_after=$((hits_after + $(metric "$(httpport $i)" ringcache_cache_hits_total)))
done
[ "$misses_after" = "$misses_before" ] || { echo "run.sh: ringcache missed $((misses_after - misses_before)) pages after warming" >&2; exit 1; }
log "warm: nginx $total/$total X-Cache-Status HIT; ringcache second passes: $((hits_after - hits_before)) page hits, 0 misses"

# ---- the objects each cluster node owns (for owner / one-hop rows)
owner() { curl -s "http://127.0.0.1:$(httpport 1)/v1/affinity?path=${1#/}&n=1" | grep -Eo '"id": *"[^"]*"' | head -1 | cut -d'"' -f4; }
for size in 1m 64k; do
	: >"$WORK/paths-$size-c1"
	while read -r p; do [ "$(owner "$p")" = c1 ] && echo "$p" >>"$WORK/paths-$size-c1"; done <"$WORK/paths-$size"
	[ -s "$WORK/paths-$size-c1" ] || { echo "run.sh: c1 owns no $size object" >&2; exit 1; }
done

# ---- the rows
TABLE="$WORK/table"
: >"$TABLE"
# row SYSTEM SIZE BYTES PORT PATHSFILE "PROCESSES" [DURATION]: one wrk run;
# PROCESSES (start() names) are the servers whose CPU time is counted.
row() {
	local out t0 t1
	[[ "$1 $2" =~ $ROWS ]] || return 0
	read -r -a procs <<<"$6"
	t0=$(cpu_ticks "${procs[@]}")
	out=$(wrk -t "$THREADS" -c "$CONNS" -d "${7:-$DURATION}" --latency -s "$ROOT/bench/gateway/paths.lua" "http://127.0.0.1:$4" -- "$5" | grep '^RESULT')
	t1=$(cpu_ticks "${procs[@]}")
	out="$out cpu_us=$(((t1 - t0) * 1000000 / HZ))"
	echo "$1 $2 $3 $out" >>"$TABLE"
	log "$1 $2: $out"
}
echo "/static/1m" >"$WORK/paths-static-1m"
echo "/static/64k" >"$WORK/paths-static-64k"
log "load before the rows: $(uptime)"
row nginx 1MiB 1048576 "$NG" "$WORK/paths-1m" "nginx"
row ringcache 1MiB 1048576 "$RC" "$WORK/paths-1m" "r1"
row nginx 64KiB 65536 "$NG" "$WORK/paths-64k" "nginx"
row ringcache 64KiB 65536 "$RC" "$WORK/paths-64k" "r1"
if [ -n "$RB" ]; then
	for i in 1 2 3; do
		row ringcache-B 1MiB 1048576 "$RB" "$WORK/paths-1m" "rb"
		row ringcache-B 64KiB 65536 "$RB" "$WORK/paths-64k" "rb"
		[ $i = 3 ] && break
		row ringcache 1MiB 1048576 "$RC" "$WORK/paths-1m" "r1"
		row ringcache 64KiB 65536 "$RC" "$WORK/paths-64k" "r1"
	done
fi
row nginx-tcp_nopush-on 64KiB 65536 "$NGC" "$WORK/paths-64k" "nginx-nopush" 5s
row nginx-static-file 1MiB 1048576 "$NG" "$WORK/paths-static-1m" "nginx"
row nginx-static-file 64KiB 65536 "$NG" "$WORK/paths-static-64k" "nginx"
row 3nodes-owner 1MiB 1048576 "$(s3port 1)" "$WORK/paths-1m-c1" "c1 c2 c3"
row 3nodes-one-hop 1MiB 1048576 "$(s3port 2)" "$WORK/paths-1m-c1" "c1 c2 c3"
row 3nodes-owner 64KiB 65536 "$(s3port 1)" "$WORK/paths-64k-c1" "c1 c2 c3"
row 3nodes-one-hop 64KiB 65536 "$(s3port 2)" "$WORK/paths-64k-c1" "c1 c2 c3"

# ---- cold first byte: a GET of an object no cache holds yet, against one
# under-store round trip (an unsigned GET through the latency proxy)
ttfb() { curl -s -o /dev/null -w '%{time_starttransfer}\n' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cold_samples() { # url-prefix: one first-byte time (s) per cold object, in order
	local i
	for i in $(seq "$COLD"); do ttfb "$1-$i"; done | tr '\n' ' '
}
under0=$(metric "$(httpport 0)" ringcache_understore_requests_total)
s_direct=$(cold_samples "http://127.0.0.1:$LAT/$BUCKET/cold/direct")
last_direct=$(for i in $(seq "$COLD"); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$LAT/$BUCKET/cold/direct-$i"; done | median)
s_rc=$(cold_samples "http://127.0.0.1:$RC/$BUCKET/cold/ringcache")
under1=$(metric "$(httpport 0)" ringcache_understore_requests_total)
s_ng=$(cold_samples "http://127.0.0.1:$NG/$BUCKET/cold/nginx")
log "cold first byte samples (s): direct $s_direct; ringcache $s_rc; nginx $s_ng"
log "ringcache under-store requests for $COLD cold GETs: $((under1 - under0)); direct GET to the last byte: median $last_direct s"
cold_direct=$(echo "$s_direct" | tr ' ' '\n' | grep . | median)
cold_rc=$(echo "$s_rc" | tr ' ' '\n' | grep . | median)
cold_ng=$(echo "$s_ng" | tr ' ' '\n' | grep . | median)
for sys in ringcache nginx; do
	check "http://127.0.0.1:$([ $sys = nginx ] && echo "$NG" || echo "$RC")/$BUCKET/cold/$sys-1" "$WORK/src/cold/$sys-1"
done

# ---- the table
echo
echo "S3 gateway vs nginx proxy_cache: $CONNS connections, $THREADS wrk threads, $DURATION a row, warm objects; $(nproc) cores; $(uptime | sed 's/.*load/load/')"
awk '
function val(s, k,   i, n, a, kv) { n = split(s, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] } }
{
	sys = $1; size = $2; obj = $3; line = $0
	req = val(line, "requests"); dur = val(line, "duration_us") / 1e6
	rps = req / dur; gbs = rps * obj / 1e9
	p50 = val(line, "p50_us") / 1000; p99 = val(line, "p99_us") / 1000
	bad = val(line, "errors") + val(line, "non2xx")
	cpu = val(line, "cpu_us") / req
	if (sys == "nginx") base[size] = rps
	ratio = (sys != "nginx" && (size in base)) ? sprintf("%.2fx", rps / base[size]) : "-"
	printf "%-22s %-6s %10.0f %7.2f %8.2f %8.2f %7s %9.1f %s\n", sys, size, rps, gbs, p50, p99, ratio, cpu, (bad > 0 ? "errors=" bad : "")
}
BEGIN { printf "%-22s %-6s %10s %7s %8s %8s %7s %9s\n", "system", "size", "req/s", "GB/s", "p50 ms", "p99 ms", "vs nginx", "CPU us/req" }
' "$TABLE"
awk -v d="$cold_direct" -v r="$cold_rc" -v n="$cold_ng" -v delay="$DELAY" 'BEGIN {
	printf "\ncold first byte (1 MiB object, median of %s, under-store behind +%s): one under-store round trip %.1f ms; ringcache %.1f ms (%.2fx); nginx %.1f ms (%.2fx)\n", '"$COLD"', delay, d * 1000, r * 1000, r / d, n * 1000, n / d
}'

# ---- optional CPU profile of the ringcache node on the 64 KiB row
if [ -n "$PROFILE" ]; then
	log "profiling ringcache on 64 KiB GETs for 10 s"
	wrk -t "$THREADS" -c "$CONNS" -d 14s -s "$ROOT/bench/gateway/paths.lua" "http://127.0.0.1:$RC" -- "$WORK/paths-64k" >/dev/null &
	wrkpid=$!
	sleep 2
	curl -s -o "$PROFILE" "http://127.0.0.1:$(httpport 0)/debug/pprof/profile?seconds=10"
	wait "$wrkpid"
	log "profile: go tool pprof -top -nodecount=30 bin/ringcache $PROFILE"
fi
if [ -n "$HOP_PROFILE" ]; then
	log "profiling the non-owner (c2) and the owner (c1) on one-hop 64 KiB GETs for 10 s"
	wrk -t "$THREADS" -c "$CONNS" -d 14s -s "$ROOT/bench/gateway/paths.lua" "http://127.0.0.1:$(s3port 2)" -- "$WORK/paths-64k-c1" >/dev/null &
	wrkpid=$!
	sleep 2
	curl -s -o "$HOP_PROFILE.c1" "http://127.0.0.1:$(httpport 1)/debug/pprof/profile?seconds=10" &
	curl -s -o "$HOP_PROFILE.c2" "http://127.0.0.1:$(httpport 2)/debug/pprof/profile?seconds=10"
	wait
	log "profiles: $HOP_PROFILE.c1 (owner), $HOP_PROFILE.c2 (non-owner)"
fi
