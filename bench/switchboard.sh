#!/usr/bin/env bash
# The switchboard's costs (issue 14), on loopback, in one run:
#
#   bench/switchboard.sh                (after building; `make bench` runs it too)
#   BENCH_NAMES=500 bench/switchboard.sh
#
# 1. First-request latency of a `file` template: hostpool runs a switchboard whose template is
#    `file: { root: $TMP/sites/{name} }`; bench_first_request asks BENCH_NAMES names one after
#    another, each name's first request (its server made on demand: checks, add, bind into the
#    address's virtual hosts, answer) then a second one (made already), each on a new
#    connection. p50/p99 of both. Target: first-request p99 under 2 ms.
# 2. What a `process` template adds over the program's own start-up: the program
#    (`hostpool respond --listen 127.0.0.1:{port}`) started BENCH_SPAWNS times by
#    bench_first_request itself, timed from fork to its port accepting a connection (polled
#    every 200 µs); then BENCH_SPAWNS names through a switchboard whose template runs it. The
#    difference of the medians is the switchboard's part (spawn, readiness checks, proxying).
#    Target: under 20 ms.
# 3. CPU per request of a server made on demand: wrk (1 thread, BENCH_CONNS keep-alive
#    connections, BENCH_SECONDS) against a `file` one and a `process` one (hostpool's CPU, and the
#    program's apart), beside nginx serving the same file. Δ utime+stime ÷ requests.
# Prints a markdown table, also written to $BUILD/bench-switchboard.md. Only ever sends traffic
# to 127.0.0.1, bounded in count and time.
#
# Environment (defaults in brackets): BENCH_NAMES [200], BENCH_SPAWNS [20], BENCH_SECONDS [5],
# BENCH_CONNS [50], BENCH_SERVER_CPU [0], BENCH_CLIENT_CPU [1], BUILD [build],
# HOSTPOOL [$BUILD/hostpool], NGINX [nginx].
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
TOOL=$BUILD/bench/bench_first_request
OUT=$BUILD/bench-switchboard.md
NAMES=${BENCH_NAMES:-200}
SPAWNS=${BENCH_SPAWNS:-20}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-50}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
BODY="Hello, World!"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

[[ -x $HOSTPOOL ]] || fail "no hostpool binary at $HOSTPOOL (make build)"
[[ -x $TOOL ]] || fail "no $TOOL (make build)"
command -v wrk >/dev/null || fail "wrk is not installed (make bench installs it)"

# ---- the sites and the daemon ----------------------------------------------------------------
mkdir -p "$TMP/sites"
for i in $(seq "$NAMES"); do
    mkdir -p "$TMP/sites/n-$i"
    printf '%s' "$BODY" >"$TMP/sites/n-$i/index.html"
done
chmod -R a+rX "$TMP/sites"

FILES_PORT=$(free_port)
PROCS_PORT=$(free_port)
RANGE_LO=$(free_port)
cat >"$TMP/hostpool.yaml" <<YAML
workers: 1
access_log: false
admin: { listen: "unix:$TMP/admin.sock" }
ports: { range: $RANGE_LO-$((RANGE_LO + NAMES + SPAWNS + 10)) }
limits: { max_servers: $((NAMES + SPAWNS + 10)) }
switchboards:
  - name: files
    listen: 127.0.0.1:$FILES_PORT
    hosts: "{name}.localhost"
    max_servers: $NAMES
    idle_timeout: 0
    template: { file: { root: "$TMP/sites/{name}" } }
  - name: procs
    listen: 127.0.0.1:$PROCS_PORT
    hosts: "{name}.localhost"
    max_servers: $SPAWNS
    idle_timeout: 0
    template:
      process:
        command: ["$HOSTPOOL", respond, --listen, "127.0.0.1:{port}", --body, "$BODY",
                  --workers, "1", --no-access-log]
YAML
taskset -c "$SERVER_CPU" "$HOSTPOOL" run --config "$TMP/hostpool.yaml" >"$TMP/hostpool.out" 2>&1 &
HP_PID=$!
PIDS+=("$HP_PID")
for _ in $(seq 100); do
    kill -0 "$HP_PID" 2>/dev/null || fail "hostpool exited: $(cat "$TMP/hostpool.out")"
    [[ -S $TMP/admin.sock ]] && curl -s -o /dev/null "http://127.0.0.1:$FILES_PORT/" && break
    sleep 0.1
done

percentile() { # P: the P-th percentile (nearest rank) of the numbers on stdin
    sort -g | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) exit 1; i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# ---- 1. first requests of a file template ----------------------------------------------------
note "first requests: $NAMES names through a file template"
taskset -c "$CLIENT_CPU" "$TOOL" "$FILES_PORT" "{name}.localhost" "$NAMES" >"$TMP/files.txt"
awk '$4 != 200 { bad++ } END { exit bad > 0 }' "$TMP/files.txt" || fail "a first request failed: $(grep -v ' 200$' "$TMP/files.txt" | head -3)"
F50=$(awk '{print $2}' "$TMP/files.txt" | percentile 50)
F99=$(awk '{print $2}' "$TMP/files.txt" | percentile 99)
S50=$(awk '{print $3}' "$TMP/files.txt" | percentile 50)
S99=$(awk '{print $3}' "$TMP/files.txt" | percentile 99)

# ---- 2. what a process template adds -----------------------------------------------------------
note "process template: the program's own start-up, $SPAWNS times"
SPAWN_PORT=$(free_port)
taskset -c "$SERVER_CPU" "$TOOL" --spawn-until-listening "$SPAWN_PORT" "$SPAWNS" "$HOSTPOOL" respond \
    --listen "127.0.0.1:{port}" --body "$BODY" --workers 1 --no-access-log >"$TMP/spawn.txt"
OWN=$(awk '{print $2}' "$TMP/spawn.txt" | median)
note "process template: $SPAWNS first requests through the switchboard"
taskset -c "$CLIENT_CPU" "$TOOL" "$PROCS_PORT" "{name}.localhost" "$SPAWNS" p >"$TMP/procs.txt"
awk '$4 != 200 { bad++ } END { exit bad > 0 }' "$TMP/procs.txt" || fail "a first request to a process failed: $(grep -v ' 200$' "$TMP/procs.txt" | head -3)"
P50=$(awk '{print $2}' "$TMP/procs.txt" | median)
P99=$(awk '{print $2}' "$TMP/procs.txt" | percentile 99)
ADDED=$(awk -v a="$P50" -v b="$OWN" 'BEGIN { print a - b }')

# ---- 3. CPU per request ------------------------------------------------------------------------
cpu_per_request() { # PID PORT HOST PATH [OTHER_PID]: "µs/req of PID [µs/req of OTHER_PID] requests/s p99_ms"
    local pid=$1 port=$2 host=$3 path=$4 other=${5:-} t0 t1 o0=0 o1=0 out parsed rps req p50 p99 err
    out=$TMP/wrk-$port-$host.txt
    read -r t0 _ < <(cpu_ticks "$pid")
    [[ -n $other ]] && read -r o0 _ < <(cpu_ticks "$other")
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --timeout 2s --latency \
        -H "Host: $host" "http://127.0.0.1:$port$path" >"$out" 2>&1 || fail "wrk failed: $(cat "$out")"
    read -r t1 _ < <(cpu_ticks "$pid")
    [[ -n $other ]] && read -r o1 _ < <(cpu_ticks "$other")
    parsed=$(parse_wrk "$out")
    read -r rps req p50 p99 err <<<"$parsed"
    [[ $err == 0 ]] || fail "wrk saw $err errors against $host: $(cat "$out")"
    awk -v t="$((t1 - t0))" -v o="$((o1 - o0))" -v n="$req" -v hz="$CLK_TCK" -v rps="$rps" -v p99="$p99" \
        'BEGIN { printf "%.1f %.1f %d %.2f\n", t * 1e6 / hz / n, o * 1e6 / hz / n, rps, p99 / 1000 }'
}
note "CPU per request: a file server made on demand"
read -r FILE_CPU _ FILE_RPS FILE_P99 < <(cpu_per_request "$HP_PID" "$FILES_PORT" n-1.localhost /index.html)
CHILD=$(pgrep -P "$HP_PID" | head -n1) || fail "no child process of hostpool"
note "CPU per request: a process server made on demand (pid $CHILD)"
read -r PROC_CPU PROC_CHILD_CPU PROC_RPS PROC_P99 < <(cpu_per_request "$HP_PID" "$PROCS_PORT" p-1.localhost / "$CHILD")

NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    server { listen 127.0.0.1:$NGINX_PORT; root $TMP/sites/n-1; }
}
CONF
taskset -c "$SERVER_CPU" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >/dev/null 2>&1 &
PIDS+=("$!")
NGINX_WORKER=""
for _ in $(seq 50); do
    NGINX_WORKER=$(pgrep -P "$!" | head -n1 || true)
    [[ -n $NGINX_WORKER ]] && curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/index.html" && break
    sleep 0.1
done
[[ -n $NGINX_WORKER ]] || fail "nginx did not start: $(cat "$TMP/nginx/error.log")"
PIDS+=("$NGINX_WORKER")
note "CPU per request: nginx serving the same file"
read -r NGINX_CPU _ NGINX_RPS NGINX_P99 < <(cpu_per_request "$NGINX_WORKER" "$NGINX_PORT" localhost /index.html)

{
    echo "## Switchboard (bench/switchboard.sh: $NAMES names, $SPAWNS processes, ${SECONDS_PER_RUN}s wrk runs, $CONNS connections)"
    echo
    echo "| measure | p50 | p99 |"
    echo "| --- | ---: | ---: |"
    echo "| first request, \`file\` template (server made on demand) | $(ms "$F50") ms | $(ms "$F99") ms |"
    echo "| second request to it (made already) | $(ms "$S50") ms | $(ms "$S99") ms |"
    echo "| the program's own start-up (fork to listening) | $(ms "$OWN") ms | |"
    echo "| first request, \`process\` template | $(ms "$P50") ms | $(ms "$P99") ms |"
    echo "| added by the switchboard (median first − median start-up) | $(ms "$ADDED") ms | |"
    echo
    echo "| server (one worker) | CPU µs/request | requests/s | p99 |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| hostpool, \`file\` server made on demand | $FILE_CPU | $FILE_RPS | $FILE_P99 ms |"
    echo "| hostpool, \`process\` server (proxying) | $PROC_CPU (+ $PROC_CHILD_CPU in the program) | $PROC_RPS | $PROC_P99 ms |"
    echo "| nginx, the same file | $NGINX_CPU | $NGINX_RPS | $NGINX_P99 ms |"
} | tee "$OUT"
