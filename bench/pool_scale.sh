#!/usr/bin/env bash
# 10,000 servers in one process: start time, memory per idle server, and the latency of adding
# and removing a server at runtime while wrk loads another server of the same pool (its p99
# before and during the churn). The pool (control + one worker thread) is pinned to CPU 0,
# wrk to CPU 1. Traffic goes to 127.0.0.1 only, for BENCH_SECONDS per phase. The phases
# alternate (before, during, before, during...) for BENCH_ROUNDS rounds, so a drift of the
# machine touches both; the table gives the median p99 of each phase and every round's pair.
#
#   bench/pool_scale.sh            (after building; `make bench` runs it too)
#   POOL_SERVERS=10000 BENCH_SECONDS=5 BENCH_ROUNDS=6 bench/pool_scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${POOL_SERVERS:-10000}
seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-6}
tool=build/bench/bench_pool_scale
[[ -x $tool ]] || { echo "pool_scale: build first (make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "pool_scale: wrk is missing: run make bench" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

out=$(mktemp)
taskset -c 0 "$tool" "$servers" 1 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 600); do grep -q '^ready' "$out" && break; kill -0 "$pid" || break; sleep 0.1; done
ready=$(grep '^ready' "$out") || { cat "$out" >&2; exit 1; }
port=$(sed -E 's/.*port0=([0-9]+).*/\1/' <<<"$ready")
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$2"; }

# wrk's 99th percentile in microseconds.
p99_us() { awk '/ 99%/ { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
                         printf "%.0f\n", (u == "us" ? v : u == "ms" ? v * 1000 : v * 1000000) }' <<<"$1"; }
req_s() { awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$1"; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
load() { taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$port/"; }

before_p99='' during_p99='' pairs=''
for r in $(seq 1 "$rounds"); do
    before=$(load)
    kill -USR1 "$pid"
    during=$(load)
    for _ in $(seq 1 300); do grep -q "^churn round=$r " "$out" && break; sleep 0.1; done
    grep -q "^churn round=$r " "$out" || { cat "$out" >&2; exit 1; }
    b=$(p99_us "$before") d=$(p99_us "$during")
    before_p99+=" $b" during_p99+=" $d"
    pairs+="${pairs:+, }$b → $d µs ($(req_s "$before") → $(req_s "$during") req/s)"
done
churn=$(grep "^churn round=$rounds " "$out")
b=$(median "$before_p99") d=$(median "$during_p99")

cat <<TABLE
### $servers servers in one process (one worker)

| measure | value |
|---|---:|
| add $servers servers | $(field add_ms "$ready") ms |
| start them all | $(field start_ms "$ready") ms |
| all healthy (two TCP checks each) after the start | $(field healthy_ms "$ready") ms |
| resident memory per idle server | $(field bytes_per_server "$ready") B |
| add + start one server, p50 / p99 ($(field cycles "$churn") cycles) | $(field add_p50_us "$churn") / $(field add_p99_us "$churn") µs |
| remove one server until drained, p50 / p99 | $(field remove_p50_us "$churn") / $(field remove_p99_us "$churn") µs |
| loaded server's p99 before / during churn (median of $rounds rounds) | $b / $d µs ($(awk -v b="$b" -v d="$d" 'BEGIN { printf "%+.0f%%", (d - b) * 100 / b }')) |

Rounds (p99 before → during): $pairs.
TABLE
