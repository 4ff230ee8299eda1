#!/usr/bin/env bash
# WebSocket broadcast, hostpool's pubsub route beside Node `ws` (Debian's node-ws), in one run
# on loopback (issue 16's benchmark; bench/websocket_fanout.py does the measuring):
#
#   bench/websocket.sh                        (after building)
#   BENCH_WS_SUBSCRIBERS=10 BENCH_WS_MESSAGES=20 bench/websocket.sh     (a quick check)
#
# For each server in turn: BENCH_WS_SUBSCRIBERS subscribers of one topic, one publisher sending
# BENCH_WS_MESSAGES messages of 64 bytes of data: the server's CPU time per delivered message
# (Δ utime+stime of /proc/PID/stat ÷ deliveries), p50 and p99 delivery latency, the echo round
# trip (p50, p99 of BENCH_WS_ECHOES), and resident memory per idle subscriber (Δ VmRSS ÷ N).
# hostpool runs two workers; Node is one thread. The client (python3-websockets) is the
# bottleneck of the rate, not of the CPU per delivery, which is counted on the server alone.
# Prints one line per server and a markdown table, written to $BUILD/bench-websocket.md.
#
# Environment (defaults in brackets):
#   BENCH_WS_SUBSCRIBERS [1000]  BENCH_WS_MESSAGES [200]  BENCH_WS_ECHOES [2000]
#   BENCH_WS_SERVERS ["hostpool node"]   BUILD [build]   HOSTPOOL [$BUILD/hostpool]
set -euo pipefail

BUILD=${BUILD:-build}
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
SUBS=${BENCH_WS_SUBSCRIBERS:-1000}
MESSAGES=${BENCH_WS_MESSAGES:-200}
ECHOES=${BENCH_WS_ECHOES:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)

[[ -x $HOSTPOOL ]] || { echo "bench: no $HOSTPOOL (build first)" >&2; exit 1; }
[[ -e /usr/share/nodejs/ws ]] || { echo "bench: Debian's node-ws is missing (scripts/deps.sh)" >&2; exit 1; }

out="$BUILD/bench-websocket.md"
{
    echo "| server | subscribers | CPU µs per delivery | p50 ms | p99 ms | echo p50 µs | echo p99 µs | RSS bytes per idle connection |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$out"
for server in ${BENCH_WS_SERVERS:-hostpool node}; do
    line=$(/usr/bin/python3 "$HERE/websocket_fanout.py" "$server" "$HOSTPOOL" "$SUBS" "$MESSAGES" "$ECHOES")
    echo "$line"
    declare -A v=()
    for kv in $line; do v[${kv%%=*}]=${kv#*=}; done
    echo "| ${v[server]} | ${v[subscribers]} | ${v[cpu_us_per_delivery]} | ${v[p50_ms]} | ${v[p99_ms]} | ${v[echo_p50_us]} | ${v[echo_p99_us]} | ${v[rss_per_idle_conn_bytes]} |" >>"$out"
    unset v
done
cat "$out"
