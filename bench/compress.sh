#!/usr/bin/env bash
# What compression costs and saves (issue 17), hostpool beside nginx, in one run, on loopback:
#
#   bench/compress.sh                   (after building; `make bench` runs it too)
#   BENCH_SECONDS=8 BENCH_ROUNDS=5 bench/compress.sh
#
# The file: 100 KiB of text (the repo's docs/*.md, cut at 102,400 bytes), served by a file
# route. Beside a copy of it, page.txt.br (brotli -q 11) and page.txt.gz (gzip -9), as a deploy
# would precompress them. One `hostpool run` (one worker, no access log) with three servers:
# `plain` (no compression), `compress` (compress: { level: 5 }: each answer encoded on the fly,
# nothing cached) and `static` (file: { precompressed: true }, no compress). One nginx (one
# worker, nginx-light) with the same three: gzip off; `gzip on; gzip_comp_level 5`; and
# `gzip_static on` (nginx-light has gzip_static; it serves .gz only, no .br). Both servers pinned
# to BENCH_SERVER_CPU, wrk (1 thread, BENCH_CONNS keep-alive connections) to BENCH_CLIENT_CPU,
# each case for BENCH_SECONDS, BENCH_ROUNDS rounds taking turns. Per case: the server's CPU time
# per request (Δ utime+stime of its process, or nginx's worker, ÷ requests; median of the
# rounds) and the bytes of one answer on the wire (head + body, from curl with the same
# Accept-Encoding). Prints a markdown table, also written to $BUILD/bench-compress.md. Only
# ever sends traffic to 127.0.0.1.
#
# Environment (defaults in brackets): BENCH_SECONDS [5], BENCH_ROUNDS [3], BENCH_CONNS [10],
# BENCH_SERVER_CPU [0], BENCH_CLIENT_CPU [1], BUILD [build], HOSTPOOL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
OUT=$BUILD/bench-compress.md
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-10}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
[[ -x $HOSTPOOL ]] || fail "no hostpool binary at $HOSTPOOL (make build)"
command -v wrk >/dev/null || fail "wrk is not installed (make bench installs it)"
command -v brotli >/dev/null || fail "brotli is not installed (make bench installs it)"
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || fail "nginx is not installed (make bench installs nginx-light)"

# ---- the files -----------------------------------------------------------------------------
WWW=$TMP/www
mkdir -p "$WWW/static"
cat "$ROOT"/docs/*.md >"$TMP/docs.txt"
head -c 102400 "$TMP/docs.txt" >"$WWW/page.txt"
[[ $(stat -c %s "$WWW/page.txt") == 102400 ]] || fail "docs/*.md hold less than 100 KiB"
cp "$WWW/page.txt" "$WWW/static/page.txt"
brotli -q 11 -k -o "$WWW/static/page.txt.br" "$WWW/static/page.txt"
gzip -9 -k -c "$WWW/static/page.txt" >"$WWW/static/page.txt.gz"
chmod -R a+rX "$WWW"

# ---- hostpool ------------------------------------------------------------------------------
declare -A PORT
for s in hp_plain hp_compress hp_static ng_plain ng_gzip ng_static; do PORT[$s]=$(free_port); done
cat >"$TMP/compress.yaml" <<YAML
workers: 1
access_log: false
admin: { listen: "unix:$TMP/admin.sock" }
servers:
  - name: plain
    listen: 127.0.0.1:${PORT[hp_plain]}
    routes: [ { file: { root: "$WWW" } } ]
  - name: compress
    listen: 127.0.0.1:${PORT[hp_compress]}
    compress: { level: 5 }
    routes: [ { file: { root: "$WWW" } } ]
  - name: static
    listen: 127.0.0.1:${PORT[hp_static]}
    routes: [ { file: { root: "$WWW/static", precompressed: true } } ]
YAML
taskset -c "$SERVER_CPU" "$HOSTPOOL" run --config "$TMP/compress.yaml" >"$TMP/hostpool.out" 2>&1 &
HP=$!
PIDS+=("$HP")
for _ in $(seq 100); do
    kill -0 "$HP" 2>/dev/null || fail "hostpool exited: $(cat "$TMP/hostpool.out")"
    grep -q "servers running" "$TMP/hostpool.out" && break
    sleep 0.1
done

# ---- nginx ---------------------------------------------------------------------------------
NG=$TMP/nginx
mkdir -p "$NG/tmp"
cat >"$NG/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log error;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { text/plain txt; }
    default_type text/plain;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    root $WWW;
    server { listen 127.0.0.1:${PORT[ng_plain]}; }
    server {
        listen 127.0.0.1:${PORT[ng_gzip]};
        gzip on; gzip_comp_level 5; gzip_min_length 256; gzip_types text/plain; gzip_vary on;
    }
    server {
        listen 127.0.0.1:${PORT[ng_static]};
        root $WWW/static;
        gzip_static on; gzip_vary on;
    }
}
CONF
"$NGINX" -t -q -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" 2>"$NG/stderr" ||
    fail "nginx rejected its config: $(cat "$NG/stderr" "$NG/error.log" 2>/dev/null)"
taskset -c "$SERVER_CPU" "$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" \
    >"$NG/stdout" 2>"$NG/stderr" &
NG_MASTER=$!
PIDS+=("$NG_MASTER")
NG_WORKER=""
for _ in $(seq 100); do
    kill -0 "$NG_MASTER" 2>/dev/null || fail "nginx exited: $(cat "$NG/stderr" "$NG/error.log")"
    NG_WORKER=$(pgrep -P "$NG_MASTER" | head -n1 || true)
    [[ -n $NG_WORKER ]] && curl -sf -o /dev/null "http://127.0.0.1:${PORT[ng_plain]}/page.txt" && break
    sleep 0.1
done
[[ -n $NG_WORKER ]] || fail "nginx started no worker: $(cat "$NG/error.log")"
PIDS+=("$NG_WORKER")

# ---- the cases -----------------------------------------------------------------------------
# name|server pid variable|port key|path|Accept-Encoding|Content-Encoding expected
CASES=(
    "hostpool, identity|HP|hp_plain|/page.txt||"
    "nginx, identity|NG_WORKER|ng_plain|/page.txt||"
    "hostpool compress, gzip level 5|HP|hp_compress|/page.txt|gzip|gzip"
    "nginx gzip, level 5|NG_WORKER|ng_gzip|/page.txt|gzip|gzip"
    "hostpool compress, br quality 5|HP|hp_compress|/page.txt|br|br"
    "hostpool precompressed .br|HP|hp_static|/page.txt|br, gzip|br"
    "hostpool precompressed .gz|HP|hp_static|/page.txt|gzip|gzip"
    "nginx gzip_static .gz|NG_WORKER|ng_static|/page.txt|gzip|gzip"
)

# wire_bytes PORT PATH ENCODING WANT: "head+body bytes" of one answer, checking its coding
wire_bytes() {
    local out coding
    out=$(curl -s -o /dev/null -D "$TMP/head" -H "Accept-Encoding: $3" \
        -w '%{size_header} %{size_download}' "http://127.0.0.1:$1$2")
    coding=$(awk -F': *' 'tolower($1) == "content-encoding" { sub(/\r$/, "", $2); print $2 }' "$TMP/head")
    [[ $coding == "$4" ]] || fail "127.0.0.1:$1$2 with Accept-Encoding \"$3\" answered coding \"$coding\", not \"$4\""
    awk '{ print $1 + $2 }' <<<"$out"
}

measure() { # PID PORT PATH ENCODING: "cpu_us_per_request requests_per_s"
    local pid=$1 port=$2 path=$3 enc=$4 t0 t1 out rps req err
    out=$TMP/wrk.txt
    read -r t0 _ < <(cpu_ticks "$pid")
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency \
        -H "Accept-Encoding: $enc" "http://127.0.0.1:$port$path" >"$out" 2>&1 ||
        fail "wrk: $(cat "$out")"
    read -r t1 _ < <(cpu_ticks "$pid")
    read -r rps req _ _ err <<<"$(parse_wrk "$out")"
    [[ $err == 0 ]] || fail "wrk saw $err errors (or non-2xx) against $port$path: $(cat "$out")"
    awk -v t="$((t1 - t0))" -v n="$req" -v hz="$CLK_TCK" -v rps="$rps" \
        'BEGIN { printf "%.1f %d\n", t * 1e6 / hz / n, rps }'
}

declare -A CPU RPS BYTES
for c in "${CASES[@]}"; do
    IFS='|' read -r name pidvar key path enc want <<<"$c"
    BYTES[$name]=$(wire_bytes "${PORT[$key]}" "$path" "$enc" "$want")
done
for r in $(seq "$ROUNDS"); do
    for c in "${CASES[@]}"; do
        IFS='|' read -r name pidvar key path enc want <<<"$c"
        read -r cpu rps < <(measure "${!pidvar}" "${PORT[$key]}" "$path" "$enc")
        note "round $r $name: $cpu µs/request, $rps requests/s"
        CPU[$name]+="$cpu "
        RPS[$name]+="$rps "
    done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
{
    echo "## Compression (bench/compress.sh: ${ROUNDS} rounds of ${SECONDS_PER_RUN}s, $CONNS connections, one worker each)"
    echo
    echo "A 100 KiB text file (102,400 bytes), GET with keep-alive; bytes are one answer's head and body on the wire."
    echo
    echo "| server, coding | CPU µs/request (median) | requests/s (median) | bytes sent |"
    echo "| --- | ---: | ---: | ---: |"
    for c in "${CASES[@]}"; do
        IFS='|' read -r name _ <<<"$c"
        echo "| $name | $(med "${CPU[$name]}") | $(med "${RPS[$name]}") | ${BYTES[$name]} |"
    done
} | tee "$OUT"
