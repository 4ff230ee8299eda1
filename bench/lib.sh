# shellcheck shell=bash
# What the benchmark scripts share (bench/run.sh, bench/proxy.sh): messages, the processes a
# script started and their cleanup on exit or Ctrl+C, free loopback ports, CPU ticks of a
# process and of the machine, resident memory, wrk's output read into numbers. Sourced, not
# run: it creates the script's temporary directory ($TMP) and installs the EXIT/INT/TERM traps.

fail() {
    echo "bench: $*" >&2
    exit 1
}
note() { echo "bench: $*" >&2; }

CLK_TCK=$(getconf CLK_TCK)

# ---- process bookkeeping -------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hostpool-bench.XXXXXX")
chmod 755 "$TMP" # nginx workers run as an unprivileged user when started by root
PIDS=()
cleanup() {
    local rc=$? pid i
    trap - EXIT INT TERM
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_pid() { # pid [seconds, 5]: stop one process this script started (KILL after the seconds), forget it
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((${2:-5} * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}
forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

run_wait() { # runs a command in the background and waits, so that INT/TERM act at once
    local pid rc=0
    "$@" &
    pid=$!
    PIDS+=("$pid")
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return $rc
}

USED_PORTS=" "
free_port() { # a port nobody uses now, below the ephemeral range so clients never take it
    local p
    for _ in $(seq 200); do
        p=$((21000 + RANDOM % 11000))
        [[ $USED_PORTS == *" $p "* ]] && continue
        if [[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]]; then
            USED_PORTS+="$p "
            echo "$p"
            return 0
        fi
    done
    fail "no free port found"
}

cpu_ticks() { # "utime+stime utime" of a whole process (all threads), in clock ticks
    local s
    s=$(<"/proc/$1/stat") || fail "process $1 is gone"
    s=${s##*) }
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $s
    echo "$((${12} + ${13})) ${12}"
}
busy_ticks() { # user+nice+system+irq+softirq ticks of the whole machine (tasks' times include irq ticks)
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
CHILD_TICKS=0
children_ticks() { # CHILD_TICKS = user+sys of this shell's waited-for children, in ticks
    times >"$TMP/times" # not in $(...): a subshell has no children of its own
    # shellcheck disable=SC2034 # read by the script that sources this file
    CHILD_TICKS=$(awk -v hz="$CLK_TCK" 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
        printf "%d\n", t * hz + 0.5 }' "$TMP/times")
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# label pid port n out tool: with bench_idle_conns (`tool`, on CLIENT_CPU), a few connections
# first (so one-time lazy allocations are not charged to the n), then n idle connections to
# `port` held while pid's VmRSS is read; the tool's report goes to `out`. Prints
# "label rss_before_kib rss_with_kib n bytes_per_connection held".
idle_rss() {
    local label=$1 pid=$2 port=$3 n=$4 out=$5 tool_bin=$6 before with tool held
    taskset -c "$CLIENT_CPU" "$tool_bin" -n 10 -t 0 "$port" >/dev/null ||
        fail "bench_idle_conns failed against $label"
    sleep 1
    before=$(rss_kib "$pid")
    : >"$out" # polled below before the tool may have opened it
    taskset -c "$CLIENT_CPU" "$tool_bin" -n "$n" -t 300 "$port" >"$out" &
    tool=$!
    PIDS+=("$tool")
    for _ in $(seq 1200); do
        grep -q '^ready' "$out" && break
        kill -0 "$tool" 2>/dev/null || fail "bench_idle_conns failed against $label"
        sleep 0.1
    done
    grep -q '^ready' "$out" || fail "bench_idle_conns did not get $n responses within 120 s"
    sleep 1
    with=$(rss_kib "$pid")
    kill -TERM "$tool"
    wait "$tool" || true
    forget_pid "$tool"
    held=$(awk '/^held/ {print $4}' "$out")
    [[ -n $held ]] || fail "bench_idle_conns did not report"
    awk -v s="$label" -v b="$before" -v w="$with" -v n="$n" -v c="$held" \
        'BEGIN { printf "%s %d %d %d %.0f %d\n", s, b, w, n, (w - b) * 1024 / n, c }'
}

# ---- wrk -----------------------------------------------------------------------------------
# parse_wrk FILE: prints "rps requests p50_us p99_us errors"
parse_wrk() {
    awk '
    function us(v) {
        if (v ~ /us$/) return v + 0
        if (v ~ /ms$/) return (substr(v, 1, length(v) - 2) + 0) * 1000
        if (v ~ /m$/) return (substr(v, 1, length(v) - 1) + 0) * 60000000
        if (v ~ /s$/) return (substr(v, 1, length(v) - 1) + 0) * 1000000
        return v + 0
    }
    / requests in / { req = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50% / { p50 = us($2) }
    /^ +99% / { p99 = us($2) }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    END {
        if (req == "" || rps == "" || p50 == "" || p99 == "") exit 1
        printf "%s %s %.1f %.1f %d\n", rps, req, p50, p99, err
    }' "$1"
}

# median: the median of the numbers on stdin, one a line
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
