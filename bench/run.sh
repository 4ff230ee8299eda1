#!/usr/bin/env bash
# shellcheck disable=SC2154 # per-server variables are set by name with printf -v
# hostpool side by side with nginx, in one run, on loopback.
#
#   make bench                      # installs nginx-light and wrk if missing, builds, runs this
#   BENCH_SECONDS=5 bench/run.sh    # shorter runs
#
# Scenarios: "fixed" (a 13-byte fixed response) and "static" (a 13-byte file). Each server is
# pinned to one CPU with taskset, wrk (1 thread, keep-alive) to another; nginx and hostpool
# alternate for BENCH_ROUNDS rounds per scenario after a warmup. Per run: requests/s, p50 and
# p99 latency, and the server's CPU time per request (delta utime+stime of /proc/PID/stat over
# requests completed). Then memory per idle keep-alive connection (bench_idle_conns holds N
# connections open; delta VmRSS / N). Prints a markdown table and writes it to
# $BUILD/bench-results.md. Only ever sends traffic to 127.0.0.1, bounded in time.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [10]      length of each measured run
#   BENCH_WARMUP [2]        warmup seconds per server and scenario (0 skips it)
#   BENCH_ROUNDS [3]        rounds per scenario (each round runs both servers)
#   BENCH_CONNS [50]        wrk connections
#   BENCH_IDLE_CONNS [10000] connections held open for the memory measurement (0 skips it)
#   BENCH_ONLY []           "nginx" or "hostpool" to run one server alone (debugging)
#   BENCH_SCENARIOS ["fixed static"]
#   BENCH_SERVER_CPU [0], BENCH_CLIENT_CPU [1]
#   BENCH_NGINX_EXTRA []    extra directives appended to nginx's http block
#   BUILD [build]           build directory holding hostpool and bench/bench_idle_conns
#   HOSTPOOL [$BUILD/hostpool]
#   HOSTPOOL_BEFORE []      another hostpool binary (an earlier build), run in the same rounds as
#                           the server "before": a change's before and after beside nginx in one run
#   BENCH_DEBUG []          non-empty: print the raw tick counts behind each run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
IDLE_TOOL=$BUILD/bench/bench_idle_conns
OUT=$BUILD/bench-results.md

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-50}
IDLE_N=${BENCH_IDLE_CONNS:-10000}
ONLY=${BENCH_ONLY:-}
SCENARIOS=${BENCH_SCENARIOS:-fixed static}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
NGINX_EXTRA=${BENCH_NGINX_EXTRA:-}
BODY='Hello, World!'

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# ---- preconditions -------------------------------------------------------------------------
[[ $SECONDS_PER_RUN =~ ^[0-9]+$ && $SECONDS_PER_RUN -ge 1 && $SECONDS_PER_RUN -le 600 ]] ||
    fail "BENCH_SECONDS must be 1..600"
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 60 ]] || fail "BENCH_WARMUP must be 0..60"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 20 ]] || fail "BENCH_ROUNDS must be 1..20"
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 && $CONNS -le 1000 ]] || fail "BENCH_CONNS must be 1..1000"
[[ $IDLE_N =~ ^[0-9]+$ && $IDLE_N -le 50000 ]] || fail "BENCH_IDLE_CONNS must be 0..50000"
case $ONLY in "" | nginx | hostpool) ;; *) fail "BENCH_ONLY must be nginx or hostpool" ;; esac
HOSTPOOL_BEFORE=${HOSTPOOL_BEFORE:-}
[[ -z $HOSTPOOL_BEFORE || -z $ONLY ]] || fail "HOSTPOOL_BEFORE and BENCH_ONLY do not go together"
[[ -z $HOSTPOOL_BEFORE || -x $HOSTPOOL_BEFORE ]] || fail "HOSTPOOL_BEFORE=$HOSTPOOL_BEFORE is not executable"
for s in $SCENARIOS; do case $s in fixed | static) ;; *) fail "unknown scenario $s" ;; esac; done

SERVERS=(nginx hostpool)
[[ -n $ONLY ]] && SERVERS=("$ONLY")
[[ -n $HOSTPOOL_BEFORE ]] && SERVERS+=(before)
binary_of() { if [[ $1 == before* ]]; then echo "$HOSTPOOL_BEFORE"; else echo "$HOSTPOOL"; fi; }
want() { [[ " ${SERVERS[*]} " == *" $1 "* ]]; }

NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
if want nginx; then
    [[ -n $NGINX ]] || fail "nginx is not installed: run \`make bench\` (it installs nginx-light and wrk)"
fi
command -v wrk >/dev/null || fail "wrk is not installed: run \`make bench\` (it installs nginx-light and wrk)"
for tool in taskset curl ss getconf awk; do
    command -v $tool >/dev/null || fail "$tool is missing"
done
if want hostpool; then
    [[ -x $HOSTPOOL ]] || fail "$HOSTPOOL not found: build first (\`make bench\` builds, or set HOSTPOOL)"
fi
SKIPPED=""
if want hostpool && [[ " $SCENARIOS " == *" static "* ]] && ! "$HOSTPOOL" --help 2>&1 | grep -q file-server; then
    SKIPPED="static (this hostpool has no file-server command yet)"
    SCENARIOS=$(echo " $SCENARIOS " | sed 's/ static / /; s/^ *//; s/ *$//')
    note "skipping scenario $SKIPPED"
    [[ -n $SCENARIOS ]] || fail "no scenario left to run"
fi
if [[ $IDLE_N -gt 0 ]]; then
    [[ -x $IDLE_TOOL ]] || fail "$IDLE_TOOL not found: build first (\`make bench\`)"
fi
NCPU=$(nproc)
((SERVER_CPU < NCPU && CLIENT_CPU < NCPU && SERVER_CPU != CLIENT_CPU)) ||
    fail "need two distinct CPUs (server $SERVER_CPU, client $CLIENT_CPU; this machine has $NCPU)"

# The servers and bench_idle_conns need many descriptors; as root the hard limit can rise too.
NOFILE_NEED=$((IDLE_N + 10000))
((NOFILE_NEED < 30000)) && NOFILE_NEED=30000
if (($(ulimit -Sn) < NOFILE_NEED)); then
    ulimit -Hn $NOFILE_NEED 2>/dev/null || true
    ulimit -Sn $NOFILE_NEED 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"
fi
if ((IDLE_N > 0 && $(ulimit -Sn) < IDLE_N + 100)); then
    fail "ulimit -n is $(ulimit -Sn), too low for BENCH_IDLE_CONNS=$IDLE_N (raise the hard limit)"
fi

check_body() { # url: the server answers 200 with exactly the body
    local got
    got=$(curl -s --max-time 2 -o - -w '\n%{http_code}' "$1" 2>/dev/null) || return 1
    [[ $got == "$BODY"$'\n'200 ]]
}

# ---- the test content ----------------------------------------------------------------------
WWW=$TMP/www
mkdir -p "$WWW"
printf '%s' "$BODY" >"$WWW/hello.txt"
chmod 644 "$WWW/hello.txt"
chmod 755 "$WWW"
path_for() { if [[ $1 == fixed ]]; then echo /; else echo /hello.txt; fi; }

# ---- nginx ---------------------------------------------------------------------------------
NGINX_CONF_TEXT=""
nginx_conf() { # dir port: writes dir/nginx.conf
    local dir=$1 port=$2
    mkdir -p "$dir/tmp"
    NGINX_CONF_TEXT="worker_processes 1;            # one worker process does the work
daemon off;                                      # stays in the foreground, the script stops it
pid $dir/nginx.pid;
error_log $dir/error.log error;
worker_rlimit_nofile 30000;

events {
    worker_connections 20000;
}

http {
    access_log off;
    sendfile on;                                 # as Debian's stock nginx.conf
    tcp_nopush on;                               # as Debian's stock nginx.conf
    keepalive_requests 1000000;                  # default 1000 would reconnect every 1000 requests
    types { text/plain txt; text/html html; }
    default_type text/plain;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$NGINX_EXTRA
    server {
        listen 127.0.0.1:$port;
        location = /hello.txt { root $WWW; }     # the 13-byte static file
        location / { return 200 \"$BODY\"; }     # the fixed response
    }
}"
    printf '%s\n' "$NGINX_CONF_TEXT" >"$dir/nginx.conf"
}

# start_nginx NAME: starts nginx (master + 1 worker) on a free port pinned to SERVER_CPU;
# sets NAME_PORT, NAME_PID (the worker: it does all the work) and NAME_MASTER.
start_nginx() {
    local name=$1 port dir master worker
    port=$(free_port)
    dir=$TMP/$name
    mkdir -p "$dir"
    nginx_conf "$dir" "$port"
    "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/stderr" ||
        fail "nginx rejected its config: $(cat "$dir/stderr" "$dir/error.log" 2>/dev/null)"
    taskset -c "$SERVER_CPU" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >"$dir/stdout" 2>"$dir/stderr" &
    master=$!
    PIDS+=("$master")
    worker=""
    for _ in $(seq 100); do
        kill -0 "$master" 2>/dev/null || fail "nginx exited: $(cat "$dir/stderr" "$dir/error.log" 2>/dev/null)"
        worker=$(pgrep -P "$master" | head -n1 || true)
        [[ -n $worker ]] && check_body "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    [[ -n $worker ]] || fail "nginx started no worker: $(cat "$dir/error.log" 2>/dev/null)"
    PIDS+=("$worker")
    check_body "http://127.0.0.1:$port/" || fail "nginx does not answer $BODY on /"
    check_body "http://127.0.0.1:$port/hello.txt" || fail "nginx does not serve /hello.txt"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$worker"
    printf -v "${name}_MASTER" '%s' "$master"
}

# start_hostpool NAME SCENARIO [extra args...]: sets NAME_PORT, NAME_PID
start_hostpool() {
    local name=$1 scenario=$2 port dir pid args
    shift 2
    port=$(free_port)
    dir=$TMP/$name
    mkdir -p "$dir"
    if [[ $scenario == fixed ]]; then
        args=(respond --listen "127.0.0.1:$port" --body "$BODY")
    else
        args=(file-server --listen "127.0.0.1:$port" --root "$WWW")
    fi
    args+=(--workers 1 --no-access-log "$@")
    taskset -c "$SERVER_CPU" "$(binary_of "$name")" "${args[@]}" >"$dir/stdout" 2>"$dir/stderr" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || fail "hostpool ${args[*]} exited: $(cat "$dir/stdout" "$dir/stderr")"
        grep -q "^hostpool: listening on http://127.0.0.1:$port/" "$dir/stdout" && break
        sleep 0.1
    done
    grep -q "^hostpool: listening on" "$dir/stdout" ||
        fail "hostpool did not print its listening line within 10 s: $(cat "$dir/stdout" "$dir/stderr")"
    check_body "http://127.0.0.1:$port$(path_for "$scenario")" ||
        fail "hostpool ${args[0]} does not answer $BODY on $(path_for "$scenario")"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$pid"
}

# ---- wrk -----------------------------------------------------------------------------------
# measure SERVER SCENARIO ROUND: one wrk run against a running server; appends a line to RUNS
RAW=$BUILD/bench-raw # every wrk output, kept for a look after the run
rm -rf "$RAW"
mkdir -p "$RAW"
RUNS=$RAW/runs.txt
: >"$RUNS"
measure() {
    local server=$1 scenario=$2 round=$3 port pid t0 t1 u0 u1 b0 b1 c0 c1 out parsed rps req p50 p99 err
    local -n port_ref=${server}_${scenario}_PORT pid_ref=${server}_${scenario}_PID
    port=$port_ref pid=$pid_ref
    out=$RAW/wrk-$server-$scenario-$round.txt
    children_ticks
    read -r t0 u0 < <(cpu_ticks "$pid")
    b0=$(busy_ticks) c0=$CHILD_TICKS
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --timeout 2s --latency \
        "http://127.0.0.1:$port$(path_for "$scenario")" >"$out" 2>&1 ||
        fail "wrk failed against $server: $(cat "$out")"
    children_ticks
    read -r t1 u1 < <(cpu_ticks "$pid")
    b1=$(busy_ticks) c1=$CHILD_TICKS
    [[ -z ${BENCH_DEBUG:-} ]] || note "busy $((b1 - b0)) server $((t1 - t0)) children $((c1 - c0))"
    parsed=$(parse_wrk "$out") || fail "cannot read wrk's output: $(cat "$out")"
    read -r rps req p50 p99 err <<<"$parsed"
    ((req > 0)) || fail "wrk completed no request against $server"
    ((err == 0)) || note "$server $scenario round $round: $err errors or non-2xx responses"
    awk -v s="$server" -v sc="$scenario" -v r="$round" -v rps="$rps" -v req="$req" -v p50="$p50" \
        -v p99="$p99" -v err="$err" -v dt="$((t1 - t0))" -v hz="$CLK_TCK" -v secs="$SECONDS_PER_RUN" \
        -v other="$((b1 - b0 - (t1 - t0) - (c1 - c0)))" -v du="$((u1 - u0))" \
        'BEGIN { if (other < 0) other = 0
                 printf "%s %s %s %s %s %s %s %s %.3f %.1f %.1f %.3f\n", sc, r, s, rps, req, p50, p99, err,
                 dt * 1e6 / hz / req, 100 * dt / hz / secs, 100 * other / hz / secs, du * 1e6 / hz / req }' >>"$RUNS"
    tail -n1 "$RUNS" | awk '{ printf "bench: %-6s round %s %-8s %10.0f req/s  p50 %7.0f us  p99 %7.0f us  %6.2f us CPU/req (user %4.2f)  server CPU %3.0f%%  other load %3.0f%%\n", $1, $2, $3, $4, $6, $7, $9, $12, $10, $11 }' >&2
}

warmup() { # server scenario
    local -n port_ref=${1}_${2}_PORT
    ((WARMUP > 0)) || return 0
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" --timeout 2s \
        "http://127.0.0.1:${port_ref}$(path_for "$2")" >/dev/null 2>&1 || fail "warmup against $1 failed"
}

# ---- memory per idle keep-alive connection -------------------------------------------------
MEM=$RAW/mem.txt
: >"$MEM"
idle_memory() { # server: starts a fresh instance, holds IDLE_N connections, appends to MEM
    local server=$1 port pid
    if [[ $server == nginx ]]; then
        start_nginx mem_nginx
        port=$mem_nginx_PORT pid=$mem_nginx_PID
    else
        start_hostpool "${server}_mem" fixed --max-connections 20000
        local -n mem_port=${server}_mem_PORT mem_pid=${server}_mem_PID
        port=$mem_port pid=$mem_pid
    fi
    idle_rss "$server" "$pid" "$port" "$IDLE_N" "$RAW/idle-$server.txt" "$IDLE_TOOL" >>"$MEM"
    tail -n1 "$MEM" | awk '{ printf "bench: idle   %-8s RSS %d KiB -> %d KiB with %d connections: %d bytes/connection (%d closed by server)\n", $1, $2, $3, $4, $5, $6 }' >&2
    if [[ $server == nginx ]]; then
        stop_pid "$mem_nginx_MASTER"
        stop_pid "$mem_nginx_PID"
    else
        stop_pid "$pid"
    fi
}

# ---- run -----------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
note "servers on CPU $SERVER_CPU, wrk -t1 -c$CONNS on CPU $CLIENT_CPU, ${SECONDS_PER_RUN}s runs," \
    "$ROUNDS rounds, warmup ${WARMUP}s; load average $LOAD_START"

if want nginx; then
    start_nginx nginx
    for s in $SCENARIOS; do
        printf -v "nginx_${s}_PORT" '%s' "$nginx_PORT"
        printf -v "nginx_${s}_PID" '%s' "$nginx_PID"
    done
fi
if want hostpool; then
    for s in $SCENARIOS; do start_hostpool "hostpool_$s" "$s"; done
fi
if want before; then
    for s in $SCENARIOS; do start_hostpool "before_$s" "$s"; done
fi

for s in $SCENARIOS; do
    for srv in "${SERVERS[@]}"; do warmup "$srv" "$s"; done
    for ((r = 1; r <= ROUNDS; r++)); do
        # alternate which server goes first, so slow drift in the machine's load hits both
        if ((r % 2)); then order=("${SERVERS[@]}"); else mapfile -t order < <(printf '%s\n' "${SERVERS[@]}" | tac); fi
        for srv in "${order[@]}"; do measure "$srv" "$s" "$r"; done
    done
done

# The throughput servers are no longer needed; the memory test uses fresh instances.
for srv in hostpool before; do
    if want $srv; then for s in $SCENARIOS; do stop_pid "$(eval echo "\$${srv}_${s}_PID")"; done; fi
done
if want nginx; then stop_pid "$nginx_MASTER"; stop_pid "$nginx_PID"; fi

if ((IDLE_N > 0)); then
    for srv in "${SERVERS[@]}"; do idle_memory "$srv"; done
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report --------------------------------------------------------------------------------
report() {
    local cpu_model kernel
    cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
    kernel=$(uname -r)
    echo "## hostpool vs nginx ($STARTED)"
    echo
    echo "Machine: $NCPU CPUs, $cpu_model, Linux $kernel; load average $LOAD_START at start, $LOAD_END at end."
    echo "Servers pinned to CPU $SERVER_CPU, \`wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s --latency\` pinned to CPU $CLIENT_CPU;"
    echo "$ROUNDS rounds per scenario after a ${WARMUP}s warmup, servers alternating. nginx: $("$NGINX" -v 2>&1 | sed 's/.*version: //') (1 worker)."
    [[ -z $HOSTPOOL_BEFORE ]] || echo "\"before\" is $HOSTPOOL_BEFORE ($("$HOSTPOOL_BEFORE" version 2>/dev/null | head -n1)), \"hostpool\" is $HOSTPOOL, run in the same rounds."
    echo "CPU/req = server's Δ(utime+stime) ÷ requests completed (\"of which user\": utime alone); ratios are hostpool/nginx of the medians."
    echo "Other load = CPU time that neither the server nor wrk used during the run (other people's work: noise), in % of one CPU; ⚠ at 5% or more."
    [[ -z $SKIPPED ]] || printf '\nNot run: scenario %s.\n' "$SKIPPED"
    echo
    echo "### Per run"
    echo
    echo "| scenario | round | server | req/s | p50 (µs) | p99 (µs) | CPU/req (µs) | of which user | server CPU | other load | errors |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk '{ printf "| %s | %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f%% | %.0f%%%s | %d |\n", $1, $2, $3, $4, $6, $7, $9, $12, $10, $11, ($11 >= 5 ? " ⚠" : ""), $8 }' "$RUNS"
    echo
    echo "### Median of rounds"
    echo
    echo "| scenario | server | req/s | p50 (µs) | p99 (µs) | CPU/req (µs) | of which user (µs) |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    summary
    if ((IDLE_N > 0)); then
        echo
        echo "### Memory per idle keep-alive connection ($IDLE_N connections, user-space RSS)"
        echo
        echo "| server | VmRSS before (KiB) | VmRSS with connections (KiB) | bytes/connection | closed by server |"
        echo "|---|---:|---:|---:|---:|"
        awk '{ printf "| %s | %d | %d | %d | %d |\n", $1, $2, $3, $5, $6 }' "$MEM"
    fi
    if [[ -z $ONLY ]]; then
        echo
        echo "### Targets"
        echo
        echo "| target | measured | met |"
        echo "|---|---:|---|"
        targets
    fi
}

col() { awk -v sc="$1" -v s="$2" -v c="$3" '$1 == sc && $3 == s { print $c }' "$RUNS" | median; }

summary() {
    local s srv
    for s in $SCENARIOS; do
        for srv in "${SERVERS[@]}"; do
            printf '| %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n' "$s" "$srv" "$(col "$s" "$srv" 4)" \
                "$(col "$s" "$srv" 6)" "$(col "$s" "$srv" 7)" "$(col "$s" "$srv" 9)" "$(col "$s" "$srv" 12)"
        done
        if [[ -z $ONLY ]]; then
            awk -v a="$(col "$s" hostpool 4)" -v b="$(col "$s" nginx 4)" -v c="$(col "$s" hostpool 6)" \
                -v d="$(col "$s" nginx 6)" -v e="$(col "$s" hostpool 7)" -v f="$(col "$s" nginx 7)" \
                -v g="$(col "$s" hostpool 9)" -v h="$(col "$s" nginx 9)" -v s="$s" \
                -v i="$(col "$s" hostpool 12)" -v j="$(col "$s" nginx 12)" \
                'BEGIN { printf "| %s | **hostpool/nginx** | %.2f× | %.2f× | %.2f× | **%.2f×** | %.2f× |\n", s, a / b, c / d, e / f, g / h, i / j }'
        fi
        if want before; then
            awk -v a="$(col "$s" hostpool 4)" -v b="$(col "$s" before 4)" -v c="$(col "$s" hostpool 6)" \
                -v d="$(col "$s" before 6)" -v e="$(col "$s" hostpool 7)" -v f="$(col "$s" before 7)" \
                -v g="$(col "$s" hostpool 9)" -v h="$(col "$s" before 9)" -v s="$s" \
                -v i="$(col "$s" hostpool 12)" -v j="$(col "$s" before 12)" \
                'BEGIN { printf "| %s | **hostpool/before** | %.2f× | %.2f× | %.2f× | **%.2f×** | %.2f× |\n", s, a / b, c / d, e / f, g / h, i / j }'
        fi
    done
}

targets() {
    local s limit
    for s in $SCENARIOS; do
        if [[ $s == fixed ]]; then limit=0.8; else limit=0.7; fi
        awk -v g="$(col "$s" hostpool 9)" -v h="$(col "$s" nginx 9)" -v l="$limit" -v s="$s" \
            'BEGIN { r = g / h; printf "| CPU/request ≤ %.1f× nginx (%s) | %.2f× | %s |\n", l, s, r, r <= l ? "yes" : "**no**" }'
        awk -v e="$(col "$s" hostpool 7)" -v f="$(col "$s" nginx 7)" -v s="$s" \
            'BEGIN { printf "| p99 no worse than nginx (%s) | %.0f µs vs %.0f µs | %s |\n", s, e, f, e <= f ? "yes" : "**no**" }'
    done
    if ((IDLE_N > 0)); then
        awk '$1 == "hostpool" { printf "| ≤ 1 KiB per idle keep-alive connection | %d B (nginx %s B) | %s |\n", $5, n, $5 <= 1024 ? "yes" : "**no**" } $1 == "nginx" { n = $5 }' "$MEM"
    fi
}

mkdir -p "$BUILD"
report | tee "$OUT"
note "written to $OUT"
