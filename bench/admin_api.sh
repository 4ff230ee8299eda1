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
# the phases alternate for BENCH_ROUNDS rounds and the median p99 of each is reported, over
# all rounds and over the calm ones (less than 1% of the CPU stolen by the hypervisor in both
# phases: on a VM, a neighbour's burst moves a p99 more than anything measured here).
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

# Steal time: on a VM, the CPU other guests take shows up in every latency. steal_since
# prints the percentage stolen since the `steal_ticks` output it is given.
steal_ticks() { awk '/^cpu / { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
steal_since() {
    local now
    now=$(steal_ticks)
    awk -v a="$1" -v b="$now" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2];
                                        printf "%.1f", t ? (y[1] - x[1]) * 100 / t : 0 }'
}
run_start=$(steal_ticks)

# Each cycle: add, replace, remove, reload; the tool prints four latencies per cycle. The calls
# are written out first (see reload_script below for why).
for i in $(seq 1 "$cycles"); do
    echo "POST /servers 201 $(server_line extra one)"
    echo "PUT /servers/extra 200 $(server_line extra two)"
    echo "DELETE /servers/extra 200"
    echo "POST /config 200 $(config_line "q$i")"
done >"$dir/cycles"
calls <"$dir/cycles" >"$dir/api_us"
column() { awk -v k="$1" '(NR - 1) % 4 == k' "$dir/api_us"; }
add=$(column 0) replace=$(column 1) remove=$(column 2) reload_quiet=$(column 3)

p99_us() { awk '/ 99%/ { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
                         printf "%.0f\n", (u == "us" ? v : u == "ms" ? v * 1000 : v * 1000000) }' <<<"$1"; }
errors() { awk '/Non-2xx|Socket errors/ { print; found = 1 } END { if (!found) print "none" }' <<<"$1"; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
load() { taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency "http://127.0.0.1:$port/"; }
# The 100 reloads of round $1, spread over the run. Written to a file before the load starts:
# generating them on the fly forks ~300 processes in the first moments of the loaded phase,
# which compete with the daemon for its CPU and show up in its p99 (an artifact, not a cost of
# reloading).
reload_script() {
    local gap
    gap=$(awk -v s="$seconds" 'BEGIN { printf "%d", s * 1000 / 110 }')
    for i in $(seq 1 100); do
        echo "POST /config 200 $(config_line "r$1-$i")"
        echo "sleep $gap"
    done >"$dir/reloads"
}
reloads() { calls <"$dir/reloads" >>"$dir/reload_us"; }

# A round is "calm" when less than 1% of the CPU was stolen in both of its phases.
quiet_p99='' busy_p99='' calm_quiet='' calm_busy='' calm=0 pairs='' wrk_errors=''
for r in $(seq 1 "$rounds"); do
    reload_script "$r"
    t=$(steal_ticks)
    quiet=$(load)
    qs=$(steal_since "$t")
    t=$(steal_ticks)
    reloads &
    rl=$!
    busy=$(load)
    wait "$rl"
    bs=$(steal_since "$t")
    q=$(p99_us "$quiet") b=$(p99_us "$busy")
    quiet_p99+=" $q" busy_p99+=" $b"
    if awk -v a="$qs" -v b="$bs" 'BEGIN { exit !(a < 1 && b < 1) }'; then
        calm_quiet+=" $q" calm_busy+=" $b" calm=$((calm + 1))
    fi
    pairs+="${pairs:+, }$q → $b µs (steal $qs% / $bs%)"
    wrk_errors+="$(errors "$quiet")"$'\n'"$(errors "$busy")"$'\n'
done
steal=$(steal_since "$run_start")
change() { awk -v q="$1" -v b="$2" 'BEGIN { printf "%+.0f%%", (b - q) * 100 / q }'; }
p99_row() { # label, p99s without, p99s during
    local q b
    q=$(median "$2") b=$(median "$3")
    printf '| %s | %s µs | %s µs (%s) |\n' "$1" "$q" "$b" "$(change "$q" "$b")"
}
calm_row=''
((calm > 0)) && calm_row=$(p99_row "the $calm calm rounds (< 1% steal)" "$calm_quiet" "$calm_busy")
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

| loaded server (wrk -t1 -c50), median p99 of | without reloads | during 100 reloads |
|---|---:|---:|
$(p99_row "all $rounds rounds" "$quiet_p99" "$busy_p99")
$calm_row

Rounds (p99 without → during, steal in each phase): $pairs. wrk errors: $(grep . <<<"$wrk_errors" | sort -u | paste -sd';' -). CPU time stolen by the hypervisor during the whole run: $steal%.
TABLE
