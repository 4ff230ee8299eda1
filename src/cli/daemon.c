/* `hostpool validate --config FILE` and `hostpool run --config FILE`.
 *
 * Both load the whole config and build every server (which creates the handlers, so a file
 * root that does not exist is found too); every problem is printed as file:line:column: path:
 * message, and any problem means exit 1: `run` refuses to start on a config error. `run` then
 * starts every server of the pool; a server that cannot start (its port is taken) fails alone
 * and is reported, the others run. It prints one line per address of every running server,
 * "hostpool: listening on URL (name[, Host: name][, exposed as URL])", with a URL that a
 * client on this machine can open, then "hostpool: N of M servers running".
 * SIGINT/SIGTERM drain and stop the pool, exit 0. The admin API listens first, on the
 * config's admin.listen or on --admin ADDR ("hostpool: admin API on ADDRESS"); if it cannot,
 * `run` exits 1. */
#include "cli/cli.h"

#include "config/config.h"
#include "admin/live_config.h"
#include "config/config_errors.h"
#include "hostpool/hostpool.h"
#include "hostpool/pool.h"
#include "io/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loaded {
    hp__config *config;
    json_t *doc;               /* the document, for the admin API's running config */
    hp_server_config *servers; /* built, one per config server */
} loaded;

/* The value of option `name` ("--config FILE" or "--config=FILE"), or of its short form. */
static const char *option(int argc, char **argv, const char *name, const char *short_name)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc; i++) {
        bool exact = strcmp(argv[i], name) == 0 || (short_name && strcmp(argv[i], short_name) == 0);
        if (exact && i + 1 < argc) return argv[i + 1];
        if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') return argv[i] + len + 1;
    }
    return NULL;
}

static const char *config_path(int argc, char **argv)
{
    return option(argc, argv, "--config", "-c");
}

static void close_servers(loaded *l, bool handlers)
{
    if (l->servers)
        for (size_t i = 0; i < l->config->server_count; i++)
            hp__config_server_config_close(&l->servers[i], handlers);
    free(l->servers);
    l->servers = NULL;
}

static void unload(loaded *l, bool handlers)
{
    close_servers(l, handlers);
    hp__config_destroy(l->config);
    json_decref(l->doc);
}

/* Loads and builds everything; prints every error and returns -1 on any. */
static int load(const char *command, const char *path, loaded *l)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    memset(l, 0, sizeof *l);
    if (hp__config_load_file_doc(path, &l->config, &l->doc, &errs) == 0) {
        l->servers = calloc(l->config->server_count + 1, sizeof *l->servers);
        for (size_t i = 0; i < l->config->server_count; i++)
            hp__config_build_server(&l->config->servers[i], &l->servers[i], &errs);
    }
    if (errs.count == 0) {
        hp__config_errors_close(&errs);
        return 0;
    }
    hp__config_errors_print(&errs, stderr);
    fprintf(stderr, "hostpool %s: %zu error%s in %s\n", command, errs.count,
            errs.count == 1 ? "" : "s", path);
    hp__config_errors_close(&errs);
    if (l->config) unload(l, true);
    return -1;
}

int hp__cmd_validate(int argc, char **argv)
{
    const char *path = config_path(argc, argv);
    if (!path) {
        fprintf(stderr, "hostpool validate: --config FILE is required\n");
        return 2;
    }
    loaded l;
    if (load("validate", path, &l) != 0) return 1;
    printf("%s: valid, %zu server%s\n", path, l.config->server_count,
           l.config->server_count == 1 ? "" : "s");
    unload(&l, true);
    return 0;
}

/* ---- run ---------------------------------------------------------------------------------- */

typedef struct daemon_state {
    hp_pool *pool;
    hp__live_config *live;
    bool stopping;
    uv_signal_t sigint, sigterm, sighup;
} daemon_state;

static void on_pool_stopped(hp_pool *pool, void *data)
{
    daemon_state *d = data;
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
}

static void stop(daemon_state *d)
{
    d->stopping = true;
    hp_pool_shutdown(d->pool, on_pool_stopped, d);
}

/* SIGINT or SIGTERM: drain every server; another one while draining changes nothing (the drain
 * deadline bounds the wait). */
static void on_signal(uv_signal_t *sig, int signum)
{
    daemon_state *d = sig->data;
    if (d->stopping) {
        fprintf(stderr, "hostpool: %s: already draining\n", strsignal(signum));
        return;
    }
    fprintf(stderr, "hostpool: %s: draining every server\n", strsignal(signum));
    stop(d);
}

static void print_names(const char *what, const hp_pool_strings *names)
{
    for (size_t i = 0; i < names->count; i++)
        fprintf(stderr, "%s%s", i ? ", " : what, names->items[i]);
}

static void on_reloaded(const hp__reload_result *r, void *data)
{
    if (r->errors) {
        hp__config_errors_print(r->errors, stderr);
        fprintf(stderr, "hostpool: reload refused, %zu error%s: nothing changed\n",
                r->errors->count, r->errors->count == 1 ? "" : "s");
        return;
    }
    fprintf(stderr, "hostpool: reloaded: %zu unchanged", r->unchanged);
    print_names("; replaced ", &r->replaced);
    print_names("; added ", &r->added);
    print_names("; removed ", &r->removed);
    fprintf(stderr, "\n");
    for (size_t i = 0; i < r->failed.failed; i++)
        fprintf(stderr, "hostpool: %s: %s\n", r->failed.failures[i].name,
                r->failed.failures[i].error);
}

/* SIGHUP: the config file again (live_config.h says what a reload changes). */
static void on_sighup(uv_signal_t *sig, int signum)
{
    daemon_state *d = sig->data;
    if (d->stopping) return;
    fprintf(stderr, "hostpool: Hangup: reloading the config\n");
    if (hp__live_config_reload_file(d->live, on_reloaded, d) != 0)
        fprintf(stderr, "hostpool: a reload is under way; send SIGHUP again when it is done\n");
}

/* ---- the URLs it prints ---- */

/* The host of a URL that reaches `a` from this machine: a wildcard address is reached on
 * loopback. *by_name: a name that resolves to 127.0.0.1 reaches it too (IPv4 loopback or
 * wildcard). */
static void address_host(const struct sockaddr_storage *a, char *buf, size_t len, bool *by_name)
{
    char text[INET6_ADDRSTRLEN];
    if (a->ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
        inet_ntop(AF_INET6, IN6_IS_ADDR_UNSPECIFIED(in6) ? &in6addr_loopback : in6, text,
                  sizeof text);
        snprintf(buf, len, "[%s]", text);
        *by_name = false;
        return;
    }
    struct in_addr in = ((const struct sockaddr_in *)a)->sin_addr;
    if (in.s_addr == htonl(INADDR_ANY)) in.s_addr = htonl(INADDR_LOOPBACK);
    inet_ntop(AF_INET, &in, buf, (socklen_t)len);
    *by_name = (ntohl(in.s_addr) >> 24) == 127;
}

/* "localhost" and the names under it resolve to loopback in curl and browsers (RFC 6761). */
static bool names_loopback(const char *name)
{
    size_t len = strlen(name);
    return strcmp(name, "localhost") == 0 ||
           (len > 10 && strcmp(name + len - 10, ".localhost") == 0);
}

/* One line per address of a running server, with a URL to open: a server chosen by Host gets
 * its first host name in the URL ("*.suffix" as www.suffix) when that name resolves to the
 * address, else the address's URL and the Host to send. The expose URL follows when set. */
static void print_address(const hp_server *s, const char *name, size_t i)
{
    struct sockaddr_storage addr;
    char host[300], vhost[260];
    bool by_name;
    hp__socket_parse_address(hp_server_listen_address(s, i), &addr);
    address_host(&addr, host, sizeof host, &by_name);
    const char *send_host = NULL;
    if (hp_server_host_count(s) > 0) {
        const char *pattern = hp_server_host(s, 0);
        bool wildcard = pattern[0] == '*';
        snprintf(vhost, sizeof vhost, "%s%s", wildcard ? "www" : "", pattern + wildcard);
        if (by_name && names_loopback(vhost))
            snprintf(host, sizeof host, "%s", vhost);
        else
            send_host = vhost;
    }
    printf("hostpool: listening on http://%s:%d/ (%s", host, hp_server_bound_port(s, i), name);
    if (send_host) printf(", Host: %s", send_host);
    if (hp_server_expose(s)) printf(", exposed as %s", hp_server_expose(s));
    printf(")\n");
}

static bool print_server(const hp_server_info *info, void *data)
{
    size_t *running = data;
    if (info->state != HP_SERVER_RUNNING) return true;
    if (strcmp(info->name, HP__CONFIG_ADMIN_SERVER) == 0) {
        printf("hostpool: admin API on %s\n", hp_server_listen_address(info->server, 0));
        return true;
    }
    ++*running;
    for (size_t i = 0; i < info->listen_count; i++) print_address(info->server, info->name, i);
    return true;
}

/* Adds every built server to the pool; the pool owns their handlers from then on. */
static int add_all(hp_pool *pool, loaded *l)
{
    int failed = 0;
    for (size_t i = 0; i < l->config->server_count; i++) {
        char err[256];
        hp_server_config *c = &l->servers[i];
        bool added = hp_pool_add(pool, c, err, sizeof err) == 0;
        if (!added) {
            fprintf(stderr, "hostpool: %s: %s\n", c->name, err);
            failed++;
        }
        hp__config_server_config_close(c, !added);
    }
    close_servers(l, false);
    return failed;
}

/* --admin ADDR replaces the config's admin.listen, checked the same way. */
static int set_admin_listen(hp__config *config, const char *listen)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    int rc = hp__config_set_admin_listen(config, listen, &errs);
    hp__config_errors_print(&errs, stderr);
    hp__config_errors_close(&errs);
    return rc;
}

static int create_pool(uv_loop_t *loop, const hp__config *c, hp_pool **out)
{
    hp_pool_options o = {
        .workers = c->workers,
        .max_servers = c->max_servers,
        .port_min = c->ports.lo,
        .port_max = c->ports.hi,
        .drain_timeout_ms = c->limits.drain_timeout_ms,
        .health_interval_ms = c->health.interval_ms,
        .health_rise = c->health.rise,
        .health_fall = c->health.fall,
    };
    return hp_pool_create(loop, &o, out);
}

static void start_signals(uv_loop_t *loop, daemon_state *d)
{
    uv_signal_init(loop, &d->sigint);
    uv_signal_init(loop, &d->sigterm);
    uv_signal_init(loop, &d->sighup);
    d->sigint.data = d->sigterm.data = d->sighup.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
}

/* Runs the loop until the pool stopped, then frees everything. */
static void run_until_stopped(uv_loop_t *loop, daemon_state *d)
{
    uv_run(loop, UV_RUN_DEFAULT);
    hp_pool_destroy(d->pool);
    uv_run(loop, UV_RUN_DEFAULT); /* the close callbacks of what the pool's handlers held */
    uv_loop_close(loop);
    hp__live_config_destroy(d->live);
}

/* Adds and starts the config's servers, printing what failed and what runs. Returns how many
 * could not be added. */
static int start_servers(daemon_state *d, loaded *l)
{
    size_t servers = l->config->server_count, running = 0;
    int add_failures = add_all(d->pool, l);
    hp_pool_result r;
    hp_pool_start_all(d->pool, &r);
    for (size_t i = 0; i < r.failed; i++)
        fprintf(stderr, "hostpool: %s failed to start: %s\n", r.failures[i].name,
                r.failures[i].error);
    hp_pool_result_free(&r);
    hp_pool_walk(d->pool, print_server, &running);
    printf("hostpool: %zu of %zu servers running (Ctrl+C stops them)\n", running, servers);
    fflush(stdout);
    return add_failures;
}

int hp__cmd_run(int argc, char **argv)
{
    const char *path = config_path(argc, argv);
    if (!path) {
        fprintf(stderr, "hostpool run: --config FILE is required\n");
        return 2;
    }
    loaded l;
    if (load("run", path, &l) != 0) return 1;
    const char *admin = option(argc, argv, "--admin", NULL);
    if (admin && set_admin_listen(l.config, admin) != 0) {
        unload(&l, true);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    daemon_state d = {0};
    if (create_pool(loop, l.config, &d.pool) != 0) {
        fprintf(stderr, "hostpool run: cannot create the pool\n");
        unload(&l, true);
        return 1;
    }
    /* Signals are handled before anything says "listening": a client may stop us at once. */
    start_signals(loop, &d);
    /* The config and its document are the live config's from here; `l` borrows them. */
    d.live = hp__live_config_create(d.pool, path, HP__CONFIG_ADMIN_SERVER, l.config, l.doc);
    char err[512];
    if (hp__daemon_add_admin(d.pool, d.live, err, sizeof err) != 0) {
        fprintf(stderr, "hostpool: admin API: %s\n", err);
        close_servers(&l, true);
        stop(&d);
        run_until_stopped(loop, &d);
        return 1;
    }
    int add_failures = start_servers(&d, &l);
    hp__live_config_servers_added(d.live);
    if (add_failures) stop(&d);
    run_until_stopped(loop, &d);
    fprintf(stderr, "hostpool: stopped\n");
    return add_failures ? 1 : 0;
}
