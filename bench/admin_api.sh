#!/usr/bin/env bash
# The admin API's latency and what reloads cost a loaded server.
#
#   bench/admin_api.sh             (after building; `make bench` runs it too)
#   BENCH_SECONDS=5 BENCH_ROUNDS=6 API_CYCLES=200 bench/admin_api.sh
#
# One `hostpool run` (one worker; control and worker threads pinned to CPU 0) with two servers:
# "loaded" and "b". The API calls go through its unix socket from bench/admin_calls.c (CPU 1),
# timed from connect to the answer's last byte: API_CYCLES cycles of add, replace, remove and
# reload (POST /config changing b) with nothing else running. Then wrk
# (-t1 -c50, CPU 1) loads "loaded" for BENCH_SECONDS without reloads ("quiet"), then again
# while 100 reloads (POST /config, each changing b's body) are spread over the run ("reloads");
# the phases alternate for BENCH_ROUNDS rounds and the median p99 of each is reported.
# Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-6}
cycles=${API_CYCLES:-200}
bin=${HOSTPOOL:-build/hostpool}
[[ -x $bin ]] || { echo "admin_api: build first (make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "admin_api: wrk is missing: run make bench" >&2; exit 1; }

dir=$(mktemp -d)
port=11990 b_port=11991 extra_port=11992
sock=$dir/admin.sock
config_json() { # $1: b's body
    printf '{"workers":1,"access_log":false,"servers":[
  {"name":"loaded","listen":"127.0.0.1:%d","routes":[{"respond":{"body":"Hello, World!"}}]},
  {"name":"b","listen":"127.0.0.1:%d","routes":[{"respond":{"body":"%s"}}]}]}' \
        "$port" "$b_port" "$1"
}
config_json b0 >"$dir/pool.json"
taskset -c 0 "$bin" run --config "$dir/pool.json" --admin "unix:$sock" >"$dir/out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do grep -q 'servers running' "$dir/out" && break; sleep 0.05; done
grep -q '2 of 2 servers running' "$dir/out" || { cat "$dir/out" >&2; exit 1; }

tool=build/bench/bench_admin_calls
[[ -x $tool ]] || { echo "admin_api: build first (make build)" >&2; exit 1; }
calls() { taskset -c 1 "$tool" "$sock"; } # reads calls on stdin, prints µs per call
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print v[i] }'; }
config_line() { config_json "$1" | tr -d '\n'; }
server_line() { # name body
    printf '{"name":"%s","listen":"127.0.0.1:%d","routes":[{"respond":{"body":"%s"}}]}' \
        "$1" "$extra_port" "$2"
}

# Each cycle: add, replace, remove, reload; the tool prints four latencies per cycle.
for i in $(seq 1 "$cycles"); do
    echo "POST /servers 201 $(server_line extra one)"
    echo "PUT /servers/extra 200 $(server_line extra two)"
    echo "DELETE /servers/extra 200"
    echo "POST /config 200 $(config_line "q$i")"
done | calls >"$dir/api_us"
column() { awk -v k="$1" '(NR - 1) % 4 == k' "$dir/api_us"; }
add=$(column 0) replace=$(column 1) remove=$(column 2) reload_quiet=$(column 3)

p99_us() { awk '/ 99%/ { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
                         printf "%.0f\n", (u == "us" ? v : u == "ms" ? v * 1000 : v * 1000000) }' <<<"$1"; }
errors() { awk '/Non-2xx|Socket errors/ { print; found = 1 } END { if (!found) print "none" }' <<<"$1"; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
load() { taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$port/"; }
reloads() { # 100 reloads spread over the run
    local gap
    gap=$(awk -v s="$seconds" 'BEGIN { printf "%d", s * 1000 / 110 }')
    for i in $(seq 1 100); do
        echo "POST /config 200 $(config_line "r$1-$i")"
        echo "sleep $gap"
    done | calls >>"$dir/reload_us"
}

quiet_p99='' busy_p99='' pairs='' wrk_errors=''
for r in $(seq 1 "$rounds"); do
    quiet=$(load)
    reloads "$r" &
    rl=$!
    busy=$(load)
    wait "$rl"
    q=$(p99_us "$quiet") b=$(p99_us "$busy")
    quiet_p99+=" $q" busy_p99+=" $b"
    pairs+="${pairs:+, }$q → $b µs"
    wrk_errors+="$(errors "$quiet")"$'\n'"$(errors "$busy")"$'\n'
done
q=$(median "$quiet_p99") b=$(median "$busy_p99")
row() { printf '| %s | %s / %s µs |\n' "$1" "$(pct 50 <<<"$2")" "$(pct 99 <<<"$2")"; }

cat <<TABLE
### The admin API ($cycles calls each, unix socket, one worker)

| call | p50 / p99 |
|---|---:|
$(row "POST /servers (add and start)" "$add")
$(row "PUT /servers/NAME (replace in place)" "$replace")
$(row "DELETE /servers/NAME (drain, stop, remove)" "$remove")
$(row "POST /config (reload, one server changed), idle" "$reload_quiet")
$(row "POST /config under wrk load" "$(cat "$dir/reload_us")")

| loaded server (wrk -t1 -c50) | p99, median of $rounds rounds |
|---|---:|
| without reloads | $q µs |
| during 100 reloads | $b µs ($(awk -v q="$q" -v b="$b" 'BEGIN { printf "%+.0f%%", (b - q) * 100 / q }')) |

Rounds (p99 without → during): $pairs. wrk errors: $(grep . <<<"$wrk_errors" | sort -u | paste -sd';' -).
TABLE
