/* A pool of N servers in one process, measured (bench/pool_scale.sh drives it).
 *
 *   bench_pool_scale N [WORKERS]
 *
 * Adds N `respond` servers on automatic ports, starts them all, measures memory, waits until
 * the pool is healthy (every server passed its TCP checks) and prints one line
 *   ready servers=N workers=W start_ms=... add_ms=... healthy_ms=... rss_before_kib=...
 *   rss_after_kib=... bytes_per_server=... port0=PORT
 * (healthy_ms counts from the end of the start).
 * Then it waits. Each SIGUSR1 starts a round of CYCLES add+start / stop+remove cycles of another
 * server, spaced so they span the load the script puts on server 0 (up to MAX_ROUNDS rounds; a
 * signal during a round is ignored), and prints after each round
 *   churn round=R cycles=... add_p50_us=... add_p99_us=... remove_p50_us=... remove_p99_us=...
 * over the cycles of every round so far.
 * where "add" is hp_pool_add + hp_pool_start and "remove" is hp_pool_remove until its
 * callback (the drain of an idle server). SIGTERM shuts the pool down and exits. */
#include "hostpool/hostpool.h"
#include "hostpool/pool.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CYCLES 100 /* per round (one SIGUSR1) */
#define MAX_ROUNDS 10
#define CYCLE_GAP_MS 50

static hp_pool *pool;
static uv_loop_t *loop;
static uv_signal_t sigusr1, sigterm;
static uv_timer_t cycle_timer, settle_timer;
static int servers;
static unsigned workers;
static long rss_before, rss_after;
static uint64_t settle_started, started_us, added_us;
static int cycle, rounds; /* cycle: of the current round */
static uint64_t add_us[CYCLES * MAX_ROUNDS], remove_us[CYCLES * MAX_ROUNDS];
static uint64_t remove_started;

static uint64_t now_us(void)
{
    return uv_hrtime() / 1000;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

static int add_server(const char *name)
{
    static const char body[] = "Hello, World!";
    hp_route_config route = {.handler =
                                 hp_respond_handler_create(200, body, sizeof body - 1, NULL, 0)};
    const char *listen = "auto";
    hp_server_config c = {
        .name = name, .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256];
    int rc = hp_pool_add(pool, &c, err, sizeof err);
    if (rc) {
        fprintf(stderr, "pool_scale: add %s: %s\n", name, err);
        hp_handler_destroy(route.handler);
    }
    return rc;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t percentile(uint64_t *v, int n, int pct)
{
    qsort(v, (size_t)n, sizeof *v, compare_u64);
    return v[(n - 1) * pct / 100];
}

static void next_cycle(uv_timer_t *t);

/* Where cycle `c` of the current round keeps its samples. */
static int sample(int c)
{
    return (rounds - 1) * CYCLES + c;
}

/* Percentiles are over every cycle of every round so far. */
static void on_removed(hp_pool *p, const char *name, int status, void *data)
{
    remove_us[sample(cycle)] = now_us() - remove_started;
    if (++cycle < CYCLES) {
        uv_timer_start(&cycle_timer, next_cycle, CYCLE_GAP_MS, 0);
        return;
    }
    int n = sample(cycle);
    printf("churn round=%d cycles=%d add_p50_us=%llu add_p99_us=%llu remove_p50_us=%llu "
           "remove_p99_us=%llu\n",
           rounds, n, (unsigned long long)percentile(add_us, n, 50),
           (unsigned long long)percentile(add_us, n, 99),
           (unsigned long long)percentile(remove_us, n, 50),
           (unsigned long long)percentile(remove_us, n, 99));
    fflush(stdout);
}

static void next_cycle(uv_timer_t *t)
{
    uint64_t start = now_us();
    if (add_server("churn") != 0 || hp_pool_start(pool, "churn", NULL, 0) != 0) exit(1);
    add_us[sample(cycle)] = now_us() - start;
    remove_started = now_us();
    hp_pool_remove(pool, "churn", on_removed, NULL);
}

/* Prints the ready line once the pool is healthy (every server passed its TCP checks). */
static void on_settle_tick(uv_timer_t *t)
{
    if (hp_pool_health(pool) != HP_HEALTH_OK) return;
    uv_timer_stop(t);
    hp_server_info info;
    hp_pool_info(pool, "s0", &info);
    printf("ready servers=%d workers=%u start_ms=%.1f add_ms=%.1f healthy_ms=%.1f "
           "rss_before_kib=%ld rss_after_kib=%ld bytes_per_server=%ld port0=%d\n",
           servers, workers, (double)started_us / 1000, (double)added_us / 1000,
           (double)(now_us() - settle_started) / 1000, rss_before, rss_after,
           (rss_after - rss_before) * 1024 / servers, hp_pool_bound_port(pool, info.server, 0));
    fflush(stdout);
}

static void on_usr1(uv_signal_t *s, int signum)
{
    if (rounds == MAX_ROUNDS || (rounds > 0 && cycle < CYCLES)) return;
    rounds++;
    cycle = 0;
    uv_timer_start(&cycle_timer, next_cycle, 0, 0);
}

static void on_pool_stopped(hp_pool *p, void *data)
{
    uv_close((uv_handle_t *)&sigusr1, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&cycle_timer, NULL);
    uv_close((uv_handle_t *)&settle_timer, NULL);
}

static void on_term(uv_signal_t *s, int signum)
{
    hp_pool_shutdown(pool, on_pool_stopped, NULL);
}

int main(int argc, char **argv)
{
    int n = servers = argc > 1 ? atoi(argv[1]) : 10000;
    workers = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
    loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN);
    /* Ports below the kernel's ephemeral range (32768 up): a port some client connection left
     * in TIME_WAIT there cannot be bound and would shrink the range. */
    if (n < 1 || n > 20000) return 2;
    hp_pool_options o = {.workers = workers,
                         .max_servers = (uint32_t)n + 10,
                         .port_min = 11000,
                         .port_max = (uint16_t)(11000 + n + 1000)};
    if (hp_pool_create(loop, &o, &pool) != 0) return 1;
    /* Signals first: the script may signal as soon as it reads the ready line. */
    uv_signal_init(loop, &sigusr1);
    uv_signal_init(loop, &sigterm);
    uv_timer_init(loop, &cycle_timer);
    uv_signal_start(&sigusr1, on_usr1, SIGUSR1);
    uv_signal_start(&sigterm, on_term, SIGTERM);
    rss_before = rss_kib();
    uint64_t t0 = now_us();
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "s%d", i);
        if (add_server(name) != 0) return 1;
    }
    uint64_t t1 = now_us();
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    uint64_t t2 = settle_started = now_us();
    if (r.failed) {
        fprintf(stderr, "pool_scale: %zu servers failed, first %s: %s\n", r.failed,
                r.failures[0].name, r.failures[0].error);
        return 1;
    }
    hp_pool_result_free(&r);
    /* Let every worker open its listeners before measuring memory. */
    for (int i = 0; i < 50; i++) uv_run(loop, UV_RUN_NOWAIT);
    uv_sleep(500);
    rss_after = rss_kib();
    started_us = t2 - t1;
    added_us = t1 - t0;
    /* The loaded server is measured in the steady state: once every server passed its first
     * health checks (the burst right after a start is not what an idle pool costs). */
    uv_timer_init(loop, &settle_timer);
    uv_timer_start(&settle_timer, on_settle_tick, 50, 50);
    uv_run(loop, UV_RUN_DEFAULT);
    hp_pool_destroy(pool);
    return 0;
}
