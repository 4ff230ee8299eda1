#!/usr/bin/env bash
# WebSocket (issue 16): hostpool's `pubsub` and `echo` routes against a Node server on Debian's
# `ws` (bench/ws_node_server.js, the same protocol), on loopback, in one run:
#
#   bench/websocket.sh                  (after building; `make bench` runs it too)
#   BENCH_SUBS=1000 BENCH_MESSAGES=2000 BENCH_IDLE=5000 bench/websocket.sh
#
# For each server in turn (each pinned to BENCH_SERVER_CPU, the client bench_ws_load to
# BENCH_CLIENT_CPU; hostpool runs one worker, like Node's one thread):
#   - broadcast: BENCH_SUBS connections subscribe to topic "bench", one more publishes
#     BENCH_MESSAGES messages of 64 bytes of data (at most 16 not yet delivered to everyone);
#     the server's CPU time (Δ utime+stime over the publishing only) ÷ messages delivered, and
#     the delivery latency (publish sent → message received) p50 and p99;
#   - echo: BENCH_ECHOES round trips of a 64-byte text message, one at a time: p50, p99;
#   - idle memory, first (on the fresh server): its resident memory before and with BENCH_IDLE
#     idle WebSocket connections opened at once, each having sent a ping and read its pong (20
#     opened and closed first, so one-time allocations are not charged), ÷ BENCH_IDLE.
# Prints a markdown table, also written to $BUILD/bench-websocket.md. Only ever sends traffic
# to 127.0.0.1.
#
# Environment (defaults in brackets): BENCH_SUBS [1000], BENCH_MESSAGES [1000],
# BENCH_ECHOES [5000], BENCH_IDLE [2000], BENCH_SERVER_CPU [0], BENCH_CLIENT_CPU [1],
# BUILD [build], HOSTPOOL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
LOAD=$BUILD/bench/bench_ws_load
OUT=$BUILD/bench-websocket.md
SUBS=${BENCH_SUBS:-1000}
MESSAGES=${BENCH_MESSAGES:-1000}
ECHOES=${BENCH_ECHOES:-5000}
IDLE=${BENCH_IDLE:-2000}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
[[ -x $HOSTPOOL ]] || fail "no hostpool binary at $HOSTPOOL (make build)"
[[ -x $LOAD ]] || fail "no $LOAD (make build)"
[[ -d /usr/share/nodejs/ws ]] || fail "Node's ws is not installed (scripts/deps.sh installs node-ws)"

wait_listening() { # pid port log
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || fail "server exited: $(cat "$3")"
        [[ -n $(ss -Hltn "( sport = :$2 )") ]] && return 0
        sleep 0.1
    done
    fail "nothing listens on $2: $(cat "$3")"
}

start_hostpool() { # port
    cat >"$TMP/ws.yaml" <<YAML
workers: 1
access_log: false
admin: { listen: "unix:$TMP/admin.sock" }
servers:
  - name: bench
    listen: 127.0.0.1:$1
    limits: { max_connections: 100000 }
    routes:
      - match: { path: /ws }
        websocket: { pubsub: {}, max_backpressure: 16MiB }
      - match: { path: /echo }
        websocket: { echo: {} }
YAML
    taskset -c "$SERVER_CPU" "$HOSTPOOL" run --config "$TMP/ws.yaml" >"$TMP/server.out" 2>&1 &
    SERVER=$!
    PIDS+=("$SERVER")
    wait_listening "$SERVER" "$1" "$TMP/server.out"
}

start_node() { # port
    taskset -c "$SERVER_CPU" node "$ROOT/bench/ws_node_server.js" "$1" >"$TMP/server.out" 2>&1 &
    SERVER=$!
    PIDS+=("$SERVER")
    wait_listening "$SERVER" "$1" "$TMP/server.out"
}

# The broadcast: prints "cpu_ns_per_delivery p50_us p99_us".
broadcast() { # port
    local out=$TMP/broadcast.txt t0 t1 delivered
    : >"$out"
    taskset -c "$CLIENT_CPU" "$LOAD" broadcast -n "$SUBS" -m "$MESSAGES" "$1" >"$out" &
    local load=$!
    PIDS+=("$load")
    for _ in $(seq 1200); do
        grep -q '^subscribed' "$out" && break
        kill -0 "$load" 2>/dev/null || fail "bench_ws_load broadcast failed"
        sleep 0.05
    done
    read -r t0 _ < <(cpu_ticks "$SERVER")
    wait "$load" || fail "bench_ws_load broadcast failed: $(cat "$out")"
    forget_pid "$load"
    read -r t1 _ < <(cpu_ticks "$SERVER")
    delivered=$(awk '/^delivered/ {print $2}' "$out")
    [[ $delivered == $((SUBS * MESSAGES)) ]] || fail "delivered $delivered of $((SUBS * MESSAGES))"
    awk -v t="$((t1 - t0))" -v n="$delivered" -v hz="$CLK_TCK" '/^latency/ {
        printf "%.0f %.0f %.0f\n", t * 1e9 / hz / n, $4, $6 }' "$out"
}

echo_rtt() { # port: "p50_us p99_us"
    taskset -c "$CLIENT_CPU" "$LOAD" echo -m "$ECHOES" -p /echo "$1" |
        awk '/^round_trip/ { printf "%.0f %.0f\n", $4, $6 }'
}

idle_memory() { # port: "bytes_per_connection"
    local out=$TMP/idle.txt before with load
    taskset -c "$CLIENT_CPU" "$LOAD" idle -n 20 "$1" >"$out" &
    load=$!
    PIDS+=("$load")
    for _ in $(seq 600); do grep -q '^ready' "$out" && break; sleep 0.1; done
    stop_pid "$load"
    sleep 1
    before=$(rss_kib "$SERVER")
    : >"$out"
    taskset -c "$CLIENT_CPU" "$LOAD" idle -n "$IDLE" "$1" >"$out" &
    load=$!
    PIDS+=("$load")
    for _ in $(seq 1200); do
        grep -q '^ready' "$out" && break
        kill -0 "$load" 2>/dev/null || fail "bench_ws_load idle failed"
        sleep 0.1
    done
    grep -q '^ready' "$out" || fail "$IDLE idle connections did not open within 120 s"
    sleep 1
    with=$(rss_kib "$SERVER")
    stop_pid "$load"
    awk -v b="$before" -v w="$with" -v n="$IDLE" 'BEGIN { printf "%.0f\n", (w - b) * 1024 / n }'
}

declare -A ROW
for who in hostpool ws; do
    port=$(free_port)
    if [[ $who == hostpool ]]; then start_hostpool "$port"; else start_node "$port"; fi
    mem=$(idle_memory "$port") # first, on a fresh server: nothing the others left is counted
    read -r cpu p50 p99 < <(broadcast "$port")
    read -r e50 e99 < <(echo_rtt "$port")
    note "$who: broadcast $cpu ns/delivery (p50 $p50 µs, p99 $p99 µs), echo p50 $e50 µs p99 $e99 µs, idle $mem B/connection"
    ROW[$who]="$cpu $p50 $p99 $e50 $e99 $mem"
    stop_pid "$SERVER"
done
read -r hc hp50 hp99 he50 he99 hm <<<"${ROW[hostpool]}"
read -r nc np50 np99 ne50 ne99 nm <<<"${ROW[ws]}"
{
    echo "## WebSocket (bench/websocket.sh: $SUBS subscribers × $MESSAGES messages of 64 B; $ECHOES echoes; $IDLE idle connections)"
    echo
    echo "| server | CPU ns per delivered message | delivery p50 µs | delivery p99 µs | echo p50 µs | echo p99 µs | resident B per idle connection |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| hostpool (pubsub, 1 worker) | $hc | $hp50 | $hp99 | $he50 | $he99 | $hm |"
    echo "| Node ws $(dpkg-query -W -f='${Version}' node-ws 2>/dev/null | cut -d+ -f1) | $nc | $np50 | $np99 | $ne50 | $ne99 | $nm |"
    echo
    awk -v h="$hc" -v n="$nc" 'BEGIN { printf "hostpool / ws CPU per delivered message: %.2f (target ≤ 0.3).\n", h / n }'
} | tee "$OUT"
