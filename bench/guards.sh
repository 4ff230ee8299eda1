#!/usr/bin/env bash
# What the guards and the journal cost (issue 15), on loopback, in one run:
#
#   bench/guards.sh                     (after building; `make bench` runs it too)
#   BENCH_SECONDS=8 BENCH_ROUNDS=5 bench/guards.sh
#
# One `hostpool run` (one worker, no access log, pinned to BENCH_SERVER_CPU) with three servers
# that answer `respond: { body: "Hello, World!" }`: `plain`; `limited`, with a rate limit that
# never refuses (`rate_limit: { requests: 1000000, per: 1s, key: "header:X-Key" }`); `journaled`,
# with `journal: { capacity: 10000 }`. wrk (1 thread, BENCH_CONNS keep-alive connections,
# pinned to BENCH_CLIENT_CPU) takes turns on them for BENCH_ROUNDS rounds; per run the CPU time
# of hostpool per request (Δ utime+stime ÷ requests). `limited` is asked with a different
# X-Key per request out of BENCH_KEYS (a wrk script, used against every server so the client's
# work is the same), first in a run of its own: hostpool's resident memory before and after it
# is the rate table's pages those keys touched. Prints a markdown
# table, also written to $BUILD/bench-guards.md. Only ever sends traffic to 127.0.0.1.
#
# Environment (defaults in brackets): BENCH_SECONDS [5], BENCH_ROUNDS [3], BENCH_CONNS [50],
# BENCH_KEYS [100000], BENCH_SERVER_CPU [0], BENCH_CLIENT_CPU [1], BUILD [build], HOSTPOOL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
OUT=$BUILD/bench-guards.md
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-50}
KEYS=${BENCH_KEYS:-100000}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
[[ -x $HOSTPOOL ]] || fail "no hostpool binary at $HOSTPOOL (make build)"
command -v wrk >/dev/null || fail "wrk is not installed (make bench installs it)"

declare -A PORT
for s in plain limited journaled; do PORT[$s]=$(free_port); done
cat >"$TMP/guards.yaml" <<YAML
workers: 1
access_log: false
admin: { listen: "unix:$TMP/admin.sock" }
servers:
  - name: plain
    listen: 127.0.0.1:${PORT[plain]}
    routes: [ { respond: { body: "Hello, World!" } } ]
  - name: limited
    listen: 127.0.0.1:${PORT[limited]}
    rate_limit: { requests: 1000000, per: 1s, key: "header:X-Key" }
    routes: [ { respond: { body: "Hello, World!" } } ]
  - name: journaled
    listen: 127.0.0.1:${PORT[journaled]}
    journal: { capacity: 10000 }
    routes: [ { respond: { body: "Hello, World!" } } ]
YAML
taskset -c "$SERVER_CPU" "$HOSTPOOL" run --config "$TMP/guards.yaml" >"$TMP/hostpool.out" 2>&1 &
HP=$!
PIDS+=("$HP")
for _ in $(seq 100); do
    kill -0 "$HP" 2>/dev/null || fail "hostpool exited: $(cat "$TMP/hostpool.out")"
    grep -q "servers running" "$TMP/hostpool.out" && break
    sleep 0.1
done

# A different X-Key per request, out of KEYS: the rate table holds KEYS keys after a run.
cat >"$TMP/keys.lua" <<LUA
local n = 0
request = function()
    n = n + 1
    return wrk.format(nil, nil, { ["X-Key"] = "k" .. (n % $KEYS) })
end
LUA

measure() { # SERVER: "cpu_us_per_request requests_per_s p99_ms"
    local s=$1 t0 t1 out parsed rps req p50 p99 err
    out=$TMP/wrk-$s.txt
    read -r t0 _ < <(cpu_ticks "$HP")
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency \
        -s "$TMP/keys.lua" "http://127.0.0.1:${PORT[$s]}/" >"$out" 2>&1 || fail "wrk: $(cat "$out")"
    read -r t1 _ < <(cpu_ticks "$HP")
    read -r rps req p50 p99 err <<<"$(parse_wrk "$out")"
    [[ $err == 0 ]] || fail "wrk saw $err errors (or non-2xx) against $s: $(cat "$out")"
    awk -v t="$((t1 - t0))" -v n="$req" -v hz="$CLK_TCK" -v rps="$rps" -v p99="$p99" \
        'BEGIN { printf "%.2f %d %.2f\n", t * 1e6 / hz / n, rps, p99 / 1000 }'
}

# The keys first, alone: the resident memory they add is the rate table's pages they touched.
RSS_BEFORE=$(rss_kib "$HP")
measure limited >/dev/null
RSS_AFTER=$(rss_kib "$HP")
declare -A CPU
for r in $(seq "$ROUNDS"); do
    for s in plain limited journaled; do
        read -r cpu rps p99 < <(measure "$s")
        note "round $r $s: $cpu µs/request, $rps requests/s, p99 $p99 ms"
        CPU[$s]+="$cpu "
    done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
P=$(med "${CPU[plain]}")
L=$(med "${CPU[limited]}")
J=$(med "${CPU[journaled]}")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f %%", (a - b) * 100 / b }'; }
{
    echo "## Guards and journal (bench/guards.sh: ${ROUNDS} rounds of ${SECONDS_PER_RUN}s, $CONNS connections, one worker)"
    echo
    echo "| server | CPU µs/request (median) | vs plain |"
    echo "| --- | ---: | ---: |"
    echo "| plain | $P | |"
    echo "| rate limit that never refuses, $KEYS keys | $L | $(pct "$L" "$P") |"
    echo "| journal, capacity 10000 | $J | $(pct "$J" "$P") |"
    echo
    echo "Resident memory of hostpool before and after one run of $KEYS keys through the rate table, alone: ${RSS_BEFORE} KiB -> ${RSS_AFTER} KiB. The table is one allocation of its budget (10 MiB by default: 81,792 live keys at 128 B each); keys idle again are forgotten."
} | tee "$OUT"
