#!/usr/bin/env bash
# shellcheck disable=SC2154 # per-proxy variables are set by name with printf -v
# hostpool, nginx and HAProxy side by side as reverse proxies, in one run, on loopback.
#
#   bench/proxy.sh                              (after building; `make bench` runs it too)
#   BENCH_SECONDS=8 BENCH_ROUNDS=5 bench/proxy.sh
#
# One backend for all three: nginx (one worker) answering `return 200 "Hello, World!"`. In front
# of it three proxies, one worker each, keep-alive to the backend with up to 64 idle connections:
#   hostpool  `hostpool run` with one server whose only route is
#             `proxy: { to: [BACKEND], keepalive: 64 }` (workers: 1, access_log: off)
#   nginx     worker_processes 1; upstream { keepalive 64; }, proxy_http_version 1.1,
#             proxy_set_header Connection "", access_log off
#   haproxy   nbthread 1, http-reuse always, no log
# The proxies are pinned to PROXY_CPU, the backend and wrk (1 thread, keep-alive) to CLIENT_CPU.
# After a warmup, the proxies take turns for BENCH_ROUNDS rounds (the order turns every round).
# Per run: requests/s, p50 and p99 (wrk --latency), and the CPU time per proxied request of the
# proxy process alone (Δ utime+stime of /proc/PID/stat ÷ requests; nginx: its worker) and,
# apart, of the backend. Then memory for BENCH_IDLE_CONNS idle client connections through each
# proxy (a fresh instance; bench_idle_conns opens them, one request each, then holds them; Δ VmRSS
# of the proxy ÷ N). And what a proxied request costs in counts that the machine's load does not
# move: user-space instructions (callgrind) and syscalls (strace). Prints a markdown table and writes it to $BUILD/bench-proxy.md; every wrk
# output stays in $BUILD/bench-proxy-raw/. Only ever sends traffic to 127.0.0.1, bounded in time.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [10]       length of each measured run
#   BENCH_WARMUP [2]         warmup seconds per proxy (0 skips it)
#   BENCH_ROUNDS [3]         rounds (each round runs every proxy once)
#   BENCH_CONNS [50]         wrk connections
#   BENCH_IDLE_CONNS [10000] idle client connections for the memory measurement (0 skips it)
#   BENCH_COST_REQUESTS [2000] requests counted under callgrind (instructions per request) (0 skips
#                            it, and strace's syscalls per request)
#   BENCH_PROXIES ["hostpool nginx haproxy"]   which proxies, in the first round's order
#   BENCH_PROXY_CPU [0], BENCH_CLIENT_CPU [1]   (the backend runs on the client's CPU)
#   BUILD [build]            build directory holding hostpool and bench/bench_idle_conns
#   HOSTPOOL [$BUILD/hostpool]
#   HOSTPOOL_BEFORE []       another hostpool binary (an earlier build), run as the proxy "before" in
#                            the same rounds: a change's before and after beside nginx and HAProxy
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HOSTPOOL=${HOSTPOOL:-$BUILD/hostpool}
IDLE_TOOL=$BUILD/bench/bench_idle_conns
OUT=$BUILD/bench-proxy.md
RAW=$BUILD/bench-proxy-raw

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-50}
IDLE_N=${BENCH_IDLE_CONNS:-10000}
COST_N=${BENCH_COST_REQUESTS:-2000}
read -r -a PROXIES <<<"${BENCH_PROXIES:-hostpool nginx haproxy}"
HOSTPOOL_BEFORE=${HOSTPOOL_BEFORE:-}
[[ -n $HOSTPOOL_BEFORE ]] && PROXIES+=(before)
PROXY_CPU=${BENCH_PROXY_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
KEEPALIVE=64
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
[[ $COST_N =~ ^[0-9]+$ && $COST_N -le 100000 ]] || fail "BENCH_COST_REQUESTS must be 0..100000"
((${#PROXIES[@]} > 0)) || fail "BENCH_PROXIES names no proxy"
for p in "${PROXIES[@]}"; do
    case $p in hostpool | nginx | haproxy | before) ;; *) fail "unknown proxy $p (hostpool, nginx or haproxy)" ;; esac
done
[[ -z $HOSTPOOL_BEFORE || -x $HOSTPOOL_BEFORE ]] || fail "HOSTPOOL_BEFORE=$HOSTPOOL_BEFORE is not executable"
want() { [[ " ${PROXIES[*]} " == *" $1 "* ]]; }

NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || fail "nginx (the backend) is not installed: run \`make bench\` (it installs nginx-light, haproxy and wrk)"
HAPROXY=$(command -v haproxy || true)
[[ -z $HAPROXY && -x /usr/sbin/haproxy ]] && HAPROXY=/usr/sbin/haproxy
if want haproxy; then
    [[ -n $HAPROXY ]] || fail "haproxy is not installed: run \`make bench\` (it installs nginx-light, haproxy and wrk)"
fi
command -v wrk >/dev/null || fail "wrk is not installed: run \`make bench\`"
for tool in taskset curl ss getconf awk; do
    command -v $tool >/dev/null || fail "$tool is missing"
done
if want hostpool; then
    [[ -x $HOSTPOOL ]] || fail "$HOSTPOOL not found: build first (\`make build\`, or set HOSTPOOL)"
fi
if ((COST_N > 0)); then
    for tool in valgrind strace; do
        command -v $tool >/dev/null || fail "$tool is missing (or set BENCH_COST_REQUESTS=0)"
    done
fi
if ((IDLE_N > 0)); then
    [[ -x $IDLE_TOOL ]] || fail "$IDLE_TOOL not found: build first (\`make build\`)"
fi
NCPU=$(nproc)
((PROXY_CPU < NCPU && CLIENT_CPU < NCPU && PROXY_CPU != CLIENT_CPU)) ||
    fail "need two distinct CPUs (proxy $PROXY_CPU, client $CLIENT_CPU; this machine has $NCPU)"

# Each idle client connection is a descriptor in the proxy (and one in bench_idle_conns); as
# root the hard limit can rise too.
NOFILE_NEED=$((IDLE_N * 2 + 10000))
((NOFILE_NEED < 30000)) && NOFILE_NEED=30000
if (($(ulimit -Sn) < NOFILE_NEED)); then
    ulimit -Hn $NOFILE_NEED 2>/dev/null || true
    ulimit -Sn $NOFILE_NEED 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"
fi
if ((IDLE_N > 0 && $(ulimit -Sn) < IDLE_N + 1000)); then
    fail "ulimit -n is $(ulimit -Sn), too low for BENCH_IDLE_CONNS=$IDLE_N (raise the hard limit)"
fi
NOFILE=$(ulimit -Sn)
# HAProxy reserves two descriptors per connection (the client's and the server's) and refuses to
# start when maxconn does not fit the limit; where the hard limit cannot rise (20,000 here) it
# holds fewer idle connections than the others, and the table says how many.
HAPROXY_MAXCONN=$(((NOFILE - 100) / 2))
((HAPROXY_MAXCONN > IDLE_N + 1000)) && HAPROXY_MAXCONN=$((IDLE_N + 1000))
idle_n_of() { # proxy: how many idle client connections it is given
    if [[ $1 == haproxy ]] && ((IDLE_N > HAPROXY_MAXCONN - 20)); then
        echo $((HAPROXY_MAXCONN - 20))
    else
        echo "$IDLE_N"
    fi
}

check_body() { # url: answers 200 with exactly the body
    local got
    got=$(curl -s --max-time 2 -o - -w '\n%{http_code}' "$1" 2>/dev/null) || return 1
    [[ $got == "$BODY"$'\n'200 ]]
}
# A command the proxies start under (valgrind, for the instruction counts), and how many tenths of
# a second a start may take.
WRAP=()
POLLS=100
wait_body() { # url pid: polls until the url answers the body while pid lives
    for _ in $(seq "$POLLS"); do
        kill -0 "$2" 2>/dev/null || return 1
        check_body "$1" && return 0
        sleep 0.1
    done
    return 1
}

# ---- nginx, as the backend and as a proxy ----------------------------------------------------
nginx_common() { # dir: what both nginx configs start with
    printf '%s\n' "worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log error;
worker_rlimit_nofile $NOFILE;
events { worker_connections $NOFILE; }"
}
nginx_temp_paths() { # dir
    printf '%s\n' "    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;"
}
backend_conf() { # dir port
    nginx_common "$1"
    printf '%s\n' "http {
    access_log off;
    keepalive_requests 1000000;                 # never closes a proxy's connection
$(nginx_temp_paths "$1")
    server {
        listen 127.0.0.1:$2;
        location / { return 200 \"$BODY\"; }
    }
}"
}
nginx_proxy_conf() { # dir port backend_port
    nginx_common "$1"
    printf '%s\n' "http {
    access_log off;
    keepalive_requests 1000000;                 # the clients' connections, as the backend's
$(nginx_temp_paths "$1")
    upstream backend {
        server 127.0.0.1:$3;
        keepalive $KEEPALIVE;
        keepalive_requests 1000000;             # default 1000 would reconnect every 1000 requests
    }
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
    }
}"
}

# start_nginx NAME CPU CONF_FUNCTION [args after dir and port]: starts nginx (master + one
# worker) pinned to CPU on a free port; sets NAME_PORT, NAME_PID (the worker) and NAME_MASTER.
start_nginx() {
    local name=$1 cpu=$2 conf=$3 port dir master worker
    shift 3
    port=$(free_port)
    dir=$TMP/$name
    mkdir -p "$dir/tmp"
    "$conf" "$dir" "$port" "$@" >"$dir/nginx.conf"
    "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/stderr" ||
        fail "nginx rejected its config: $(cat "$dir/stderr" "$dir/error.log" 2>/dev/null)"
    taskset -c "$cpu" "${WRAP[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >"$dir/stdout" 2>"$dir/stderr" &
    master=$!
    PIDS+=("$master")
    worker=""
    for _ in $(seq "$POLLS"); do
        kill -0 "$master" 2>/dev/null || fail "nginx exited: $(cat "$dir/stderr" "$dir/error.log" 2>/dev/null)"
        worker=$(pgrep -P "$master" | head -n1 || true)
        [[ -n $worker ]] && break
        sleep 0.1
    done
    [[ -n $worker ]] || fail "nginx started no worker: $(cat "$dir/error.log" 2>/dev/null)"
    PIDS+=("$worker")
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$worker"
    printf -v "${name}_MASTER" '%s' "$master"
}

# ---- hostpool --------------------------------------------------------------------------------
hostpool_conf() { # dir port backend_port
    printf '%s\n' "workers: 1
access_log: off
admin: { listen: \"unix:$1/admin.sock\" }
limits: { max_connections: $((IDLE_N + 1000)) }
servers:
  - name: proxy
    listen: 127.0.0.1:$2
    routes:
      - proxy: { to: [127.0.0.1:$3], keepalive: $KEEPALIVE }"
}
start_hostpool() { # NAME backend_port binary: sets NAME_PORT, NAME_PID
    local name=$1 binary=$3 port dir pid
    port=$(free_port)
    dir=$TMP/$name
    mkdir -p "$dir"
    hostpool_conf "$dir" "$port" "$2" >"$dir/hostpool.yaml"
    taskset -c "$PROXY_CPU" "${WRAP[@]}" "$binary" run --config "$dir/hostpool.yaml" >"$dir/stdout" 2>"$dir/stderr" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq "$POLLS"); do
        kill -0 "$pid" 2>/dev/null || fail "hostpool run exited: $(cat "$dir/stdout" "$dir/stderr")"
        grep -q "^hostpool: 1 of 1 servers running" "$dir/stdout" && break
        sleep 0.1
    done
    grep -q "^hostpool: 1 of 1 servers running" "$dir/stdout" ||
        fail "hostpool did not start its server: $(cat "$dir/stdout" "$dir/stderr")"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$pid"
}

# ---- HAProxy ---------------------------------------------------------------------------------
haproxy_conf() { # port backend_port
    printf '%s\n' "global
    nbthread 1
    maxconn $HAPROXY_MAXCONN

defaults
    mode http
    timeout connect 5s
    timeout client 75s
    timeout server 60s
    timeout http-keep-alive 75s

frontend proxy
    bind 127.0.0.1:$1
    default_backend backend

backend backend
    http-reuse always
    server backend 127.0.0.1:$2"
}
start_haproxy() { # NAME backend_port: sets NAME_PORT, NAME_PID
    local name=$1 port dir pid
    port=$(free_port)
    dir=$TMP/$name
    mkdir -p "$dir"
    haproxy_conf "$port" "$2" >"$dir/haproxy.cfg"
    "$HAPROXY" -c -q -f "$dir/haproxy.cfg" >"$dir/check" 2>&1 ||
        fail "haproxy rejected its config: $(cat "$dir/check")"
    taskset -c "$PROXY_CPU" "${WRAP[@]}" "$HAPROXY" -db -f "$dir/haproxy.cfg" >"$dir/stdout" 2>"$dir/stderr" &
    pid=$!
    PIDS+=("$pid")
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$pid"
}

start_proxy() { # proxy NAME backend_port
    case $1 in
    hostpool) start_hostpool "$2" "$3" "$HOSTPOOL" ;;
    before) start_hostpool "$2" "$3" "$HOSTPOOL_BEFORE" ;;
    nginx) start_nginx "$2" "$PROXY_CPU" nginx_proxy_conf "$3" ;;
    haproxy) start_haproxy "$2" "$3" ;;
    esac
    local -n port_ref=${2}_PORT pid_ref=${2}_PID
    wait_body "http://127.0.0.1:$port_ref/" "$pid_ref" ||
        fail "$1 does not answer $BODY through the proxy: $(cat "$TMP/$2"/std* 2>/dev/null)"
}
stop_proxy() { # proxy NAME [seconds it may take to exit, 5]
    local -n pid_ref=${2}_PID
    if [[ $1 == nginx ]]; then
        local -n master_ref=${2}_MASTER
        stop_pid "$master_ref" "${3:-5}"
    fi
    stop_pid "$pid_ref" "${3:-5}"
}

# ---- wrk -------------------------------------------------------------------------------------
rm -rf "$RAW"
mkdir -p "$RAW"
RUNS=$RAW/runs.txt
: >"$RUNS"
# measure PROXY ROUND: one wrk run through a running proxy; appends a line to RUNS:
# proxy round rps requests p50 p99 errors proxy_us/req proxy_user_us/req backend_us/req
# proxy_cpu% other_load% wrk_us/req
measure() {
    local proxy=$1 round=$2 port pid out t0 u0 t1 u1 k0 k1 b0 b1 c0 c1 parsed rps req p50 p99 err
    local -n port_ref=${proxy}_PORT pid_ref=${proxy}_PID
    port=$port_ref pid=$pid_ref
    out=$RAW/wrk-$proxy-$round.txt
    children_ticks
    read -r t0 u0 < <(cpu_ticks "$pid")
    read -r k0 _ < <(cpu_ticks "$backend_PID")
    b0=$(busy_ticks) c0=$CHILD_TICKS
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --timeout 2s --latency \
        "http://127.0.0.1:$port/" >"$out" 2>&1 || fail "wrk failed against $proxy: $(cat "$out")"
    children_ticks
    read -r t1 u1 < <(cpu_ticks "$pid")
    read -r k1 _ < <(cpu_ticks "$backend_PID")
    b1=$(busy_ticks) c1=$CHILD_TICKS
    parsed=$(parse_wrk "$out") || fail "cannot read wrk's output: $(cat "$out")"
    read -r rps req p50 p99 err <<<"$parsed"
    ((req > 0)) || fail "wrk completed no request through $proxy"
    ((err == 0)) || note "$proxy round $round: $err errors or non-2xx responses"
    awk -v p="$proxy" -v r="$round" -v rps="$rps" -v req="$req" -v p50="$p50" -v p99="$p99" \
        -v err="$err" -v dt="$((t1 - t0))" -v du="$((u1 - u0))" -v dk="$((k1 - k0))" \
        -v hz="$CLK_TCK" -v secs="$SECONDS_PER_RUN" -v dc="$((c1 - c0))" \
        -v other="$((b1 - b0 - (t1 - t0) - (k1 - k0) - (c1 - c0)))" \
        'BEGIN { if (other < 0) other = 0
                 printf "%s %s %s %s %s %s %d %.3f %.3f %.3f %.1f %.1f %.3f\n", p, r, rps, req, p50, p99, err,
                 dt * 1e6 / hz / req, du * 1e6 / hz / req, dk * 1e6 / hz / req, 100 * dt / hz / secs,
                 100 * other / hz / secs, dc * 1e6 / hz / req }' >>"$RUNS"
    tail -n1 "$RUNS" | awk '{ printf "bench: round %s %-8s %8.0f req/s  p50 %6.0f us  p99 %7.0f us  proxy %6.2f us CPU/req (user %5.2f)  backend %5.2f us  wrk %5.2f us  proxy CPU %3.0f%%  other load %3.0f%%\n", $2, $1, $3, $5, $6, $8, $9, $10, $13, $11, $12 }' >&2
}
warmup() { # proxy
    local -n port_ref=${1}_PORT
    ((WARMUP > 0)) || return 0
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" --timeout 2s \
        "http://127.0.0.1:$port_ref/" >/dev/null 2>&1 || fail "warmup through $1 failed"
}

# ---- what one proxied request costs, counted rather than timed ------------------------------
# CPU time moves with the machine's load; these counts do not. Instructions: the proxy runs
# under callgrind (every process it forks too) while one curl sends it 1 + N sequential
# keep-alive requests, for N = 200 and N = 200 + COST_N; the difference of the totals over
# COST_N is the user-space instructions per request (start, stop and the first request cancel
# out). Syscalls: strace counts every thread of a running proxy during a 2 s wrk run.
COST=$RAW/cost.txt
: >"$COST"
instructions() { # proxy n: prints the instructions of all its processes for 1 + n requests
    local proxy=$1 n=$2 name=cg_$1_$2 out=$TMP/callgrind
    # nginx's worker, started by root, runs as an unprivileged user: it writes its file here too
    mkdir -p "$out"
    chmod 1777 "$out"
    WRAP=(valgrind --tool=callgrind --trace-children=yes "--callgrind-out-file=$out/$name.%p.out")
    POLLS=600
    start_proxy "$proxy" "$name" "$backend_PORT"
    WRAP=()
    POLLS=100
    local -n port_ref=${name}_PORT
    curl -s --max-time 300 "http://127.0.0.1:$port_ref/?[1-$n]" >/dev/null ||
        fail "curl through $proxy under callgrind failed"
    if [[ $proxy == nginx ]]; then
        # A graceful stop: on TERM the master kills a worker that takes over a second to exit
        # (writing callgrind's file does), and the worker's counts would be lost.
        local -n master_ref=${name}_MASTER worker_ref=${name}_PID
        kill -QUIT "$master_ref"
        for _ in $(seq 600); do kill -0 "$worker_ref" 2>/dev/null || break; sleep 0.1; done
    fi
    stop_proxy "$proxy" "$name" 60
    awk '/^summary:/ { s += $2 } END { if (s == 0) exit 1; print s }' "$out/$name".*.out ||
        fail "callgrind wrote no totals for $proxy"
}
traced() { # pid: every thread of pid has a tracer
    local t
    for t in /proc/"$1"/task/*; do
        awk '/^TracerPid:/ { exit $2 == 0 }' "$t/status" || return 1
    done
}
syscalls() { # proxy: prints "per-request-total name=count/req ..." for the running proxy
    local proxy=$1 pid t tracer args=() out=$RAW/strace-$1.txt req
    local -n port_ref=${proxy}_PORT pid_ref=${proxy}_PID
    pid=$pid_ref
    for t in /proc/"$pid"/task/*; do args+=(-p "${t##*/}"); done
    strace -c -o "$out" "${args[@]}" 2>/dev/null &
    tracer=$!
    PIDS+=("$tracer")
    for _ in $(seq 100); do traced "$pid" && break; sleep 0.05; done
    traced "$pid" || fail "strace did not attach to $proxy"
    run_wait taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$port_ref/" \
        >"$RAW/wrk-strace-$proxy.txt" 2>&1 || fail "wrk under strace failed against $proxy"
    kill -INT "$tracer"
    wait "$tracer" || true
    forget_pid "$tracer"
    req=$(awk '/ requests in / { print $1 }' "$RAW/wrk-strace-$proxy.txt")
    awk -v req="$req" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
            total += $4; if ($4 / req >= 0.05) list = list sprintf(" %s=%.2f", $NF, $4 / req) }
        END { printf "%.2f%s\n", total / req, list }' "$out"
}
cost() { # proxy: appends "proxy instructions/request syscalls/request list" to COST
    local proxy=$1 base more sys
    sys=$(syscalls "$proxy")
    base=$(instructions "$proxy" 200)
    more=$(instructions "$proxy" $((200 + COST_N)))
    echo "$proxy $(((more - base) / COST_N)) $sys" >>"$COST"
    tail -n1 "$COST" | awk '{ printf "bench: cost  %-8s %6d instructions and %s syscalls per proxied request:", $1, $2, $3; for (i = 4; i <= NF; i++) printf " %s", $i; printf "\n" }' >&2
}

# ---- memory for idle client connections through the proxy -----------------------------------
MEM=$RAW/mem.txt
: >"$MEM"
idle_memory() { # proxy: a fresh instance holds idle client connections; appends to MEM
    local proxy=$1 name=mem_$1 port pid n
    n=$(idle_n_of "$proxy")
    start_proxy "$proxy" "$name" "$backend_PORT"
    local -n port_ref=${name}_PORT pid_ref=${name}_PID
    port=$port_ref pid=$pid_ref
    idle_rss "$proxy" "$pid" "$port" "$n" "$RAW/idle-$proxy.txt" "$IDLE_TOOL" >>"$MEM"
    tail -n1 "$MEM" | awk '{ printf "bench: idle %-8s RSS %d KiB -> %d KiB with %d client connections: %d bytes/connection (%d closed by the proxy)\n", $1, $2, $3, $4, $5, $6 }' >&2
    stop_proxy "$proxy" "$name"
}

# ---- run -------------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
note "proxies on CPU $PROXY_CPU; the backend and wrk -t1 -c$CONNS on CPU $CLIENT_CPU;" \
    "${SECONDS_PER_RUN}s runs, $ROUNDS rounds, warmup ${WARMUP}s; load average $LOAD_START"

start_nginx backend "$CLIENT_CPU" backend_conf
wait_body "http://127.0.0.1:$backend_PORT/" "$backend_PID" || fail "the backend does not answer $BODY"
for p in "${PROXIES[@]}"; do start_proxy "$p" "$p" "$backend_PORT"; done
for p in "${PROXIES[@]}"; do warmup "$p"; done
for ((r = 1; r <= ROUNDS; r++)); do
    # the order turns every round, so slow drift in the machine's load touches every proxy
    order=("${PROXIES[@]:$(((r - 1) % ${#PROXIES[@]}))}" "${PROXIES[@]:0:$(((r - 1) % ${#PROXIES[@]}))}")
    for p in "${order[@]}"; do measure "$p" "$r"; done
done
if ((COST_N > 0)); then
    for p in "${PROXIES[@]}"; do cost "$p"; done
fi
for p in "${PROXIES[@]}"; do stop_proxy "$p" "$p"; done
if ((IDLE_N > 0)); then
    for p in "${PROXIES[@]}"; do idle_memory "$p"; done
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----------------------------------------------------------------------------------
col() { awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$RUNS" | median; }
ratio() { awk -v a="$(col "$1" "$3")" -v b="$(col "$2" "$3")" 'BEGIN { print a / b }'; } # a b column
report() {
    local p cpu_model
    cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
    echo "## Reverse proxies: hostpool, nginx, HAProxy ($STARTED)"
    echo
    echo "Machine: $NCPU CPUs, $cpu_model, Linux $(uname -r); load average $LOAD_START at start, $LOAD_END at end."
    echo "Proxies (one worker each) pinned to CPU $PROXY_CPU; the backend (nginx, one worker, \`return 200\`) and"
    echo "\`wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s --latency\` pinned to CPU $CLIENT_CPU; $ROUNDS rounds after a ${WARMUP}s warmup, the order turning."
    echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*version: nginx\///')$(want haproxy && echo ", HAProxy $("$HAPROXY" -v | awk 'NR == 1 { print $3 }')")."
    [[ -z $HOSTPOOL_BEFORE ]] || echo "\"before\" is $HOSTPOOL_BEFORE, \"hostpool\" is $HOSTPOOL, in the same rounds."
    echo "CPU/req = the proxy's Δ(utime+stime) ÷ requests completed (nginx: its worker); the backend's and wrk's apart."
    echo "Other load = CPU time that neither the proxy, the backend nor wrk used, in % of one CPU; ⚠ at 5% or more."
    echo
    echo "| round | proxy | req/s | p50 (µs) | p99 (µs) | proxy CPU/req (µs) | of which user | backend CPU/req (µs) | wrk CPU/req (µs) | proxy CPU | other load | errors |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk '{ printf "| %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f%% | %.0f%%%s | %d |\n", $2, $1, $3, $5, $6, $8, $9, $10, $13, $11, $12, ($12 >= 5 ? " ⚠" : ""), $7 }' "$RUNS"
    echo
    echo "Median of rounds:"
    echo
    echo "| proxy | req/s | p50 (µs) | p99 (µs) | proxy CPU/req (µs) | of which user (µs) | backend CPU/req (µs) | wrk CPU/req (µs) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for p in "${PROXIES[@]}"; do
        printf '| %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n' "$p" "$(col "$p" 3)" "$(col "$p" 5)" \
            "$(col "$p" 6)" "$(col "$p" 8)" "$(col "$p" 9)" "$(col "$p" 10)" "$(col "$p" 13)"
    done
    for p in "${PROXIES[@]}"; do
        [[ $p == hostpool ]] || ! want hostpool && continue
        printf '| **hostpool/%s** | %.2f× | %.2f× | %.2f× | **%.2f×** | %.2f× | %.2f× | %.2f× |\n' "$p" \
            "$(ratio hostpool "$p" 3)" "$(ratio hostpool "$p" 5)" "$(ratio hostpool "$p" 6)" \
            "$(ratio hostpool "$p" 8)" "$(ratio hostpool "$p" 9)" "$(ratio hostpool "$p" 10)" \
            "$(ratio hostpool "$p" 13)"
    done
    if ((COST_N > 0)); then
        echo
        echo "Per proxied request, counted: user-space instructions (callgrind, all the proxy's processes, $COST_N sequential"
        echo "keep-alive requests of one curl) and syscalls (strace, every thread, during a 2 s wrk run):"
        echo
        echo "| proxy | instructions | syscalls | of which (per request) |"
        echo "|---|---:|---:|---|"
        awk '{ l = ""; for (i = 4; i <= NF; i++) l = l (i > 4 ? ", " : "") $i; printf "| %s | %d | %.2f | %s |\n", $1, $2, $3, l }' "$COST"
    fi
    if ((IDLE_N > 0)); then
        echo
        echo "Memory for idle client connections through each proxy (a fresh instance; user-space RSS of the proxy):"
        echo
        echo "| proxy | connections | VmRSS before (KiB) | VmRSS with connections (KiB) | bytes/connection | closed by the proxy |"
        echo "|---|---:|---:|---:|---:|---:|"
        awk '{ printf "| %s | %d | %d | %d | %d | %d |\n", $1, $4, $2, $3, $5, $6 }' "$MEM"
    fi
    if want hostpool && want nginx; then
        echo
        echo "| target | measured | met |"
        echo "|---|---:|---|"
        awk -v g="$(col hostpool 8)" -v h="$(col nginx 8)" \
            'BEGIN { r = g / h; printf "| CPU per proxied request ≤ 0.8× nginx | %.2f× (%.2f vs %.2f µs) | %s |\n", r, g, h, r <= 0.8 ? "yes" : "**no**" }'
        awk -v e="$(col hostpool 6)" -v f="$(col nginx 6)" \
            'BEGIN { printf "| p99 no worse than nginx | %.0f µs vs %.0f µs | %s |\n", e, f, e <= f ? "yes" : "**no**" }'
    fi
}

mkdir -p "$BUILD"
report | tee "$OUT"
note "written to $OUT"
