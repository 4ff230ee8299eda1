#!/usr/bin/env bash
# 10,000 servers in one process. First the daemon (`hostpool run` with a config of 10,000
# servers): the time until all answer and its memory per idle server. Then the library
# (bench/pool_scale.c): start time, memory per idle server, and the latency of adding
# and removing a server at runtime while wrk loads another server of the same pool (its p99
# before and during the churn). The pool (control + one worker thread) is pinned to CPU 0,
# wrk to CPU 1. Traffic goes to 127.0.0.1 only, for BENCH_SECONDS per phase. The phases
# alternate (before, during, before, during...) for BENCH_ROUNDS rounds, so a drift of the
# machine touches both; the table gives the median p99 of each phase and every round's pair.
#
#   bench/pool_scale.sh            (after building; `make bench` runs it too)
#   POOL_SERVERS=10000 BENCH_SECONDS=5 BENCH_ROUNDS=6 bench/pool_scale.sh
#   POOL_DAEMON_ONLY=1 bench/pool_scale.sh   (the daemon's table only)
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${POOL_SERVERS:-10000}
seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-6}
tool=build/bench/bench_pool_scale
[[ -x $tool ]] || { echo "pool_scale: build first (make build)" >&2; exit 1; }
[[ -n ${POOL_DAEMON_ONLY:-} ]] || command -v wrk >/dev/null ||
    { echo "pool_scale: wrk is missing: run make bench" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- the daemon: `hostpool run` with $servers servers from a config file ----
# Resident memory per idle server is the daemon's RSS with every server running minus its RSS
# with one server, divided by the servers added; read 5 s after the start (two rounds of health
# checks, every server ok by then), when no admin call
# has run (a GET /health listing 10,000 servers leaves its own garbage in the heap). "Every
# server listening" is the time from exec until the daemon printed "N of N servers running":
# each address is bound and listening by then. One worker, as in the library's table below:
# each worker has a socket of its own per server, and two workers' 20,000 listening sockets
# would not fit under a common hard RLIMIT_NOFILE of 20,000.
daemon_dir=$(mktemp -d)
daemon_config() { # $1: number of servers
    printf 'workers: 1\naccess_log: off\nlimits: { max_servers: %d }\nports: { range: 11000-%d }\nservers:\n' \
        "$(($1 + 10))" "$((11000 + $1 + 1000))"
    for i in $(seq 0 $(($1 - 1))); do
        printf '  - name: s%d\n    listen: auto\n    routes: [ { respond: { body: "s%d" } } ]\n' "$i" "$i"
    done
}
now_ms() { date +%s%3N; }
# Starts the daemon on config $1 and waits until every server runs; prints "ms rss_kib".
daemon_measure() {
    local start pid ms rss
    start=$(now_ms)
    build/hostpool run --config "$1" --admin "unix:$daemon_dir/admin.sock" >"$daemon_dir/out" 2>&1 &
    pid=$!
    for _ in $(seq 1 3000); do
        grep -q ' servers running' "$daemon_dir/out" && break
        kill -0 "$pid" || break
        sleep 0.005
    done
    ms=$(($(now_ms) - start))
    grep -Eq ' ([0-9]+) of \1 servers running' "$daemon_dir/out" || { cat "$daemon_dir/out" >&2; exit 1; }
    sleep 5
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
    kill "$pid"
    wait "$pid" || true
    echo "$ms $rss"
}
daemon_config 1 >"$daemon_dir/one.yaml"
daemon_config "$servers" >"$daemon_dir/all.yaml"
# Each daemon runs POOL_DAEMON_RUNS times (3): how much of the load's leftovers the first
# health checks touch again varies from run to run; the table gives the medians and the range.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
one_rss='' all_rss='' all_ms='' per_server=''
for _ in $(seq 1 "${POOL_DAEMON_RUNS:-3}"); do
    read -r _ one <<<"$(daemon_measure "$daemon_dir/one.yaml")"
    read -r ms all <<<"$(daemon_measure "$daemon_dir/all.yaml")"
    one_rss+=" $one" all_rss+=" $all" all_ms+=" $ms"
    per_server+=" $(((all - one) * 1024 / (servers - 1)))"
done
rm -rf "$daemon_dir"
range() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
cat <<TABLE
### The daemon: hostpool run with $servers servers from a config (median of ${POOL_DAEMON_RUNS:-3} runs)

| measure | value |
|---|---:|
| from exec until every server is listening | $(median "$all_ms") ms ($(range "$all_ms")) |
| resident memory with 1 server / with $servers | $(median "$one_rss") / $(median "$all_rss") KiB |
| resident memory per idle server | $(median "$per_server") B ($(range "$per_server")) |

TABLE
[[ -n ${POOL_DAEMON_ONLY:-} ]] && exit 0

# ---- the library: bench_pool_scale, the pool driven from C ----
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
