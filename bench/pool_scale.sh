#!/usr/bin/env bash
# 10,000 servers in one process: start time, memory per idle server, and the latency of adding
# and removing a server at runtime while wrk loads another server of the same pool (its p99
# before and during the churn). The pool (control + one worker thread) is pinned to CPU 0,
# wrk to CPU 1. Traffic goes to 127.0.0.1 only, for BENCH_SECONDS per phase.
#
#   bench/pool_scale.sh            (after building; `make bench` runs it too)
#   POOL_SERVERS=10000 BENCH_SECONDS=10 bench/pool_scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${POOL_SERVERS:-10000}
seconds=${BENCH_SECONDS:-10}
tool=build/bench/bench_pool_scale
[[ -x $tool ]] || { echo "pool_scale: build first (make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "pool_scale: wrk is missing: run make bench" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

out=$(mktemp)
taskset -c 0 "$tool" "$servers" 1 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 300); do grep -q '^ready' "$out" && break; kill -0 "$pid" || break; sleep 0.1; done
ready=$(grep '^ready' "$out") || { cat "$out" >&2; exit 1; }
port=$(sed -E 's/.*port0=([0-9]+).*/\1/' <<<"$ready")
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$2"; }

p99() { awk '/ 99%/ {print $2}' <<<"$1"; }
before=$(taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$port/")
kill -USR1 "$pid"
during=$(taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$port/")
for _ in $(seq 1 300); do grep -q '^churn' "$out" && break; sleep 0.1; done
churn=$(grep '^churn' "$out") || { cat "$out" >&2; exit 1; }

cat <<TABLE
### $servers servers in one process (one worker)

| measure | value |
|---|---:|
| add $servers servers | $(field add_ms "$ready") ms |
| start them all | $(field start_ms "$ready") ms |
| resident memory per idle server | $(field bytes_per_server "$ready") B |
| add + start one server, p50 / p99 | $(field add_p50_us "$churn") / $(field add_p99_us "$churn") µs |
| remove one server until drained, p50 / p99 | $(field remove_p50_us "$churn") / $(field remove_p99_us "$churn") µs |
| loaded server's p99 before churn | $(p99 "$before") |
| loaded server's p99 during churn | $(p99 "$during") |
| loaded server's req/s before / during | $(awk '/Requests\/sec/ {print $2}' <<<"$before") / $(awk '/Requests\/sec/ {print $2}' <<<"$during") |
TABLE
