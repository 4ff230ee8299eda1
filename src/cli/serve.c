/* What `hostpool respond` and `hostpool file-server` share: their options, and running one
 * server with one handler until SIGINT or SIGTERM, then draining it (requests in flight
 * finish, within --drain-timeout). SIGHUP is ignored with a note on stderr: these commands
 * have no config to reload, and a `kill -HUP` meant for the daemon must not stop them. */
#include "cli/serve.h"

#include "common/units.h"
#include "hostpool/hostpool.h"
#include "io/fd_limit.h"
#include "io/socket.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct serve_state {
    uv_loop_t *loop;
    hp_engine *engine;
    uv_signal_t sigint, sigterm, sighup;
    uint64_t drain_timeout_ms;
} serve_state;

/* ---- options ------------------------------------------------------------------------------ */

static bool set_size(const char *value, uint64_t max, uint64_t *out)
{
    uint64_t v;
    if (!hp__parse_size(value, &v) || v == 0 || v > max) return false;
    *out = v;
    return true;
}

static bool set_u32(const char *value, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!set_size(value, max, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static bool set_duration(const char *value, uint64_t *out)
{
    return hp__parse_duration_ms(value, out) && *out > 0 && *out <= HP_LIMIT_MAX_TIMEOUT_MS;
}

static bool add_header(serve_options *o, const char *value)
{
    const char *colon = strchr(value, ':');
    if (!colon || colon == value || o->header_count == MAX_HEADERS) return false;
    static char storage[MAX_HEADERS][256];
    size_t name_len = (size_t)(colon - value);
    if (name_len >= sizeof storage[0]) return false;
    memcpy(storage[o->header_count], value, name_len);
    storage[o->header_count][name_len] = '\0';
    const char *v = colon + 1;
    while (*v == ' ') v++;
    o->headers[2 * o->header_count] = storage[o->header_count];
    o->headers[2 * o->header_count + 1] = v;
    o->header_count++;
    return true;
}

bool hp__serve_apply(void *ctx, const char *name, const char *value)
{
    serve_options *o = ctx;
    hp_limits *l = &o->limits;
    uint64_t n;
    if (!strcmp(name, "--header")) return add_header(o, value);
    if (!strcmp(name, "--status"))
        return set_size(value, 999, &n) && n >= 200 && (o->status = (int)n, true);
    if (!strcmp(name, "--workers"))
        return set_size(value, HP_MAX_WORKERS, &n) && (o->workers = (unsigned)n, true);
    if (!strcmp(name, "--max-header-bytes"))
        return set_u32(value, HP_LIMIT_MAX_HEADER_BYTES, &l->max_header_bytes);
    if (!strcmp(name, "--max-target-bytes"))
        return set_u32(value, HP_LIMIT_MAX_HEADER_BYTES, &l->max_target_bytes);
    if (!strcmp(name, "--max-headers"))
        return set_u32(value, HP_LIMIT_MAX_HEADERS, &l->max_headers);
    if (!strcmp(name, "--max-connections"))
        return set_u32(value, HP_LIMIT_MAX_CONNECTIONS, &l->max_connections);
    if (!strcmp(name, "--max-body-bytes"))
        return set_size(value, HP_LIMIT_MAX_BODY_BYTES, &l->max_body_bytes);
    if (!strcmp(name, "--header-timeout")) return set_duration(value, &l->header_timeout_ms);
    if (!strcmp(name, "--idle-timeout")) return set_duration(value, &l->idle_timeout_ms);
    if (!strcmp(name, "--write-timeout")) return set_duration(value, &l->write_timeout_ms);
    if (!strcmp(name, "--drain-timeout")) return set_duration(value, &l->drain_timeout_ms);
    return false;
}

const char hp__serve_options_help[] =
    "\n"
    "  --listen ADDR            required: 127.0.0.1:8080, 8080 (every interface), [::1]:8080,\n"
    "                           unix:PATH (port 0: any free port)\n"
    "  --workers N              worker threads (default: one per CPU)\n"
    "  --no-access-log          no line per request on stderr\n"
    "  --max-header-bytes SIZE  --max-target-bytes SIZE  --max-body-bytes SIZE\n"
    "  --max-headers N          --max-connections N (per worker)\n"
    "  --header-timeout DUR     --idle-timeout DUR  --write-timeout DUR  --drain-timeout DUR\n"
    "SIZE: 1024, 16KiB, 1MiB (headers and target at most 1MiB, a body 1GiB); DUR: 250ms, 10s,\n"
    "15m (at most 24h); --max-headers at most 10000, --max-connections 1000000.\n"
    "SIGINT or SIGTERM drains (requests in flight finish, within --drain-timeout) and exits 0;\n"
    "SIGHUP is ignored (there is no config to reload).\n";

bool hp__serve_read_options(const hp__usage *u, const hp__option *options, int argc, char **argv,
                            serve_options *o, int *status)
{
    memset(o, 0, sizeof *o);
    o->status = 200;
    hp_limits_init(&o->limits);
#define LIMIT(flag)                                                                                \
    {                                                                                              \
        .name = flag, .apply = hp__serve_apply, .ctx = o                                           \
    }
    const hp__option common[] = {
        {.name = "--listen", .value = &o->listen},
        {.name = "--no-access-log", .set = &o->no_access_log},
        LIMIT("--workers"),
        LIMIT("--max-header-bytes"),
        LIMIT("--max-target-bytes"),
        LIMIT("--max-headers"),
        LIMIT("--max-connections"),
        LIMIT("--max-body-bytes"),
        LIMIT("--header-timeout"),
        LIMIT("--idle-timeout"),
        LIMIT("--write-timeout"),
        LIMIT("--drain-timeout"),
        {0},
    };
#undef LIMIT
    const hp__option *const tables[] = {common, options, NULL};
    hp__args args;
    if (!hp__options_read(u, tables, argc, argv, &args, status)) return false;
    free(args.items); /* none: max_args is 0 */
    o->access_log = !o->no_access_log;
    if (!o->listen) {
        *status = hp__usage_error(u, "--listen ADDR is required");
        return false;
    }
    return true;
}

/* ---- running ------------------------------------------------------------------------------ */

static void on_engine_stopped(hp_engine *engine, void *data)
{
    serve_state *st = data;
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
    uv_close((uv_handle_t *)&st->sighup, NULL);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    serve_state *st = sig->data;
    fprintf(stderr, "hostpool: %s: draining (at most %llu ms)\n", strsignal(signum),
            (unsigned long long)st->drain_timeout_ms);
    hp_engine_shutdown(st->engine, st->drain_timeout_ms, on_engine_stopped, st);
}

static void on_sighup(uv_signal_t *sig, int signum)
{
    fprintf(stderr, "hostpool: Hangup: ignored (nothing to reload; SIGINT or SIGTERM stops)\n");
}

/* What is bound, as a URL to open from this machine; a wildcard says so. */
static void print_ready(const hp_engine *engine, const hp_server *server)
{
    for (size_t i = 0; i < hp_server_listen_count(server); i++) {
        struct sockaddr_storage addr;
        char host[64];
        hp__socket_parse_address(hp_server_listen_address(server, i), &addr);
        if (addr.ss_family == AF_UNIX) {
            printf("hostpool: listening on %s\n", hp_server_listen_address(server, i));
            continue;
        }
        const char *every = hp__socket_url_host(&addr, host, sizeof host);
        printf("hostpool: listening on http://%s:%d/%s%s%s\n", host,
               hp_engine_bound_port(engine, server, i), every ? " (" : "", every ? every : "",
               every ? ")" : "");
    }
    fflush(stdout);
}

int hp__serve(const serve_options *o, const char *name, hp_handler *handler)
{
    hp_route_config route = {.handler = handler};
    hp_server_config config = {
        .name = name,
        .listen = &o->listen,
        .listen_count = 1,
        .routes = &route,
        .route_count = 1,
        .limits = o->limits,
        .access_log = o->access_log,
    };
    char err[256];
    hp_server *server;
    if (hp_server_create(&config, &server, err, sizeof err) != 0) {
        fprintf(stderr, "hostpool: %s\n", err);
        hp_handler_destroy(handler);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN); /* until on_sighup says so */
    hp__fd_limit_raise();
    serve_state st = {.loop = uv_default_loop(), .drain_timeout_ms = o->limits.drain_timeout_ms};
    hp_engine_options eo = {.workers = o->workers};
    int rc = hp_engine_create(st.loop, &eo, &st.engine);
    if (rc == 0) rc = hp_engine_start_server(st.engine, server, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "hostpool: %s\n", err);
        hp_engine_shutdown(st.engine, 0, NULL, NULL);
        uv_run(st.loop, UV_RUN_DEFAULT);
        hp_engine_destroy(st.engine);
        hp_server_destroy(server);
        return 1;
    }
    uv_signal_init(st.loop, &st.sigint);
    uv_signal_init(st.loop, &st.sigterm);
    uv_signal_init(st.loop, &st.sighup);
    st.sigint.data = st.sigterm.data = st.sighup.data = &st;
    uv_signal_start(&st.sigint, on_signal, SIGINT);
    uv_signal_start(&st.sigterm, on_signal, SIGTERM);
    uv_signal_start(&st.sighup, on_sighup, SIGHUP);
    print_ready(st.engine, server);
    uv_run(st.loop, UV_RUN_DEFAULT);
    hp_engine_destroy(st.engine);
    hp_server_destroy(server);
    uv_loop_close(st.loop);
    fprintf(stderr, "hostpool: stopped\n");
    return 0;
}
