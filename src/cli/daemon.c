/* `hostpool validate --config FILE` and `hostpool run --config FILE`.
 *
 * Both load the whole config and build every server (which creates the handlers, so a file
 * root that does not exist is found too); every problem is printed as file:line:column: path:
 * message, and any problem means exit 1: `run` refuses to start on a config error. `run` then
 * starts every server of the pool; a server that cannot start (its port is taken) fails alone
 * and is reported, the others run. It prints one line per address of every running server,
 * "hostpool: listening on URL (name[, Host: name][, exposed as URL])", with a URL that a
 * client on this machine can open (a switchboard's front adds ", switchboard: URL", its first
 * pattern as a URL with {name} in it), then "hostpool: N of M servers running" (a
 * switchboard's front counts as a server).
 * SIGINT/SIGTERM drain and stop the pool, exit 0. The admin API listens first, on the
 * config's admin.listen or on --admin ADDR ("hostpool: admin API on ADDRESS"); if it cannot,
 * `run` exits 1. So does a config of servers none of which could start, unless --keep-going
 * (the admin API stays up to fix them). The pid file (--pid-file, pid_file.h) is checked before
 * anything binds and written just before the "servers running" line. SIGHUP reloads the file;
 * one that comes during a reload is queued (live_config.h). SIGUSR1 reopens every log file
 * (the error_log and each access_log path: logrotate's postrotate) and says so on the error
 * log. The error_log, when the config has one, takes the daemon's messages from the moment the
 * config is loaded (common/log.h); it cannot change on a reload. Under systemd (NOTIFY_SOCKET)
 * it says READY=1 with the "servers running" line, RELOADING=1 then READY=1 around a SIGHUP
 * reload and STOPPING=1 when the drain starts (sd_notify.h). */
#include "cli/cli.h"

#include "config/config.h"
#include "admin/live_config.h"
#include "config/config_errors.h"
#include "hostpool/hostpool.h"
#include "hostpool/pool.h"
#include "cli/options.h"
#include "cli/pid_file.h"
#include "cli/sd_notify.h"
#include "common/log.h"
#include "common/alloc.h"
#include "io/fd_limit.h"
#include "io/log_file.h"
#include "io/socket.h"
#include "pool/pool_internal.h"
#include "switch/switchboard.h"
#include "upstream/upstreams.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loaded {
    hp__config *config;
    json_t *doc;               /* the document, for the admin API's running config */
    hp_server_config *servers; /* built, one per config server */
} loaded;

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
    const char *path = NULL;
    const hp__option options[] = {{.name = "--config", .short_name = "-c", .value = &path}, {0}};
    const hp__option *const tables[] = {options, NULL};
    const hp__usage usage = {
        .command = "validate",
        .synopsis = "validate --config FILE",
        .help = "\n"
                "Checks a config (YAML, or JSON when FILE ends in .json) as `run` would, and\n"
                "builds every server (a file root that does not exist is found too). Prints every\n"
                "error as file:line:column: path: message and exits 1 on any, else 0.\n"
                "\n"
                "  -c, --config FILE   the config file\n",
    };
    hp__args args;
    int status;
    if (!hp__options_read(&usage, tables, argc, argv, &args, &status)) return status;
    free(args.items);
    if (!path) return hp__usage_error(&usage, "--config FILE is required");
    loaded l;
    if (load("validate", path, &l) != 0) return 1;
    size_t switchboards = l.config->switchboard_count;
    printf("%s: valid, %zu server%s", path, l.config->server_count,
           l.config->server_count == 1 ? "" : "s");
    if (switchboards) printf(", %zu switchboard%s", switchboards, switchboards == 1 ? "" : "s");
    printf("\n");
    unload(&l, true);
    return 0;
}

/* ---- run ---------------------------------------------------------------------------------- */

typedef struct daemon_state {
    hp_pool *pool;
    hp__live_config *live;
    bool stopping;
    uv_signal_t sigint, sigterm, sighup, sigusr1;
    hp__sd_notify notify;
} daemon_state;

/* What systemd's STATUS= says: the pool's servers (the admin API's aside, a switchboard's
 * front and the servers it made included) and how many of them run, counted as the
 * "servers running" line counts them. */
typedef struct counting {
    size_t running, servers;
} counting;

static bool count_server(const hp_server_info *info, void *data)
{
    counting *c = data;
    if (strcmp(info->name, HP__CONFIG_ADMIN_SERVER) == 0) return true;
    c->servers++;
    if (info->state == HP_SERVER_RUNNING || info->state == HP_SERVER_STARTING) c->running++;
    return true;
}

static counting count_servers(const hp_pool *pool)
{
    counting c = {0, 0};
    hp_pool_walk(pool, count_server, &c);
    return c;
}

static void on_pool_stopped(hp_pool *pool, void *data)
{
    daemon_state *d = data;
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->sigusr1, NULL);
}

static void stop(daemon_state *d)
{
    counting c = count_servers(d->pool);
    hp__sd_notify_stopping(&d->notify, c.running, c.servers);
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

/* A SIGHUP reload is done (refused or not): the pool serves again as it is now. systemd hears
 * READY=1 once the last reload asked for is done, not while one queued behind this one waits. */
static void on_reloaded(const hp__reload_result *r, void *data)
{
    daemon_state *d = data;
    counting c = count_servers(d->pool);
    if (!hp__live_config_reload_queued(d->live))
        hp__sd_notify_ready(&d->notify, c.running, c.servers);
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

/* SIGHUP: the config file again (live_config.h says what a reload changes). During a reload
 * it is queued, and SIGHUPs sent while it waits are one: the file is read once that reload
 * is done, so the pool ends on the file's last version. */
static void on_sighup(uv_signal_t *sig, int signum)
{
    daemon_state *d = sig->data;
    if (d->stopping) return;
    counting c = count_servers(d->pool);
    hp__sd_notify_reloading(&d->notify, c.running, c.servers);
    if (hp__live_config_reloading(d->live))
        fprintf(stderr, "hostpool: Hangup: a reload is under way; the config is reloaded again "
                        "when it is done\n");
    else
        fprintf(stderr, "hostpool: Hangup: reloading the config\n");
    hp__live_config_reload_file(d->live, on_reloaded, d); /* `d` waits once: never refused */
}

/* SIGUSR1: every log file opened again at its path (after logrotate renamed it). */
static void on_sigusr1(uv_signal_t *sig, int signum)
{
    bool error_log = hp__log_reopen();
    int failed = hp__log_files_reopen() + !error_log;
    if (failed)
        fprintf(stderr, "hostpool: %s: %d log file%s could not be reopened\n", strsignal(signum),
                failed, failed == 1 ? "" : "s");
    else
        fprintf(stderr, "hostpool: %s: log files reopened\n", strsignal(signum));
}

/* ---- the URLs it prints ---- */

/* "localhost" and the names under it resolve to loopback in curl and browsers (RFC 6761). */
static bool names_loopback(const char *name)
{
    size_t len = strlen(name);
    return strcmp(name, "localhost") == 0 ||
           (len > 10 && strcmp(name + len - 10, ".localhost") == 0);
}

/* A switchboard's front: its address answers names only, so its line says what to open,
 * ", switchboard: http://{name}.localhost:8000/" from its first pattern when the pattern's
 * names resolve to the address, else ", switchboard: Host {name}.example". */
static void print_switchboard_hint(const hp__switchboard_model *m, const char *host, int port)
{
    if (strncmp(host, "127.", 4) == 0 && names_loopback(m->hosts[0]))
        printf(", switchboard: http://%s:%d/", m->hosts[0], port);
    else
        printf(", switchboard: Host %s", m->hosts[0]);
}

/* One line per address of a running server, with a URL to open: a server chosen by Host gets
 * its first host name in the URL ("*.suffix" as www.suffix) when that name resolves to the
 * address, else the address's URL and the Host to send. The expose URL follows when set. */
static void print_address(const hp_pool *pool, const hp_server *s, const char *name, size_t i,
                          const hp__switchboard *sb)
{
    struct sockaddr_storage addr;
    char host[300], vhost[260];
    hp__socket_parse_address(hp_server_listen_address(s, i), &addr);
    if (addr.ss_family == AF_UNIX) {
        printf("hostpool: listening on %s (%s)\n", hp_server_listen_address(s, i), name);
        return;
    }
    const char *every = hp__socket_url_host(&addr, host, sizeof host);
    /* A name that resolves to 127.0.0.1 reaches an IPv4 loopback or wildcard address. */
    bool by_name = addr.ss_family == AF_INET && strncmp(host, "127.", 4) == 0;
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
    printf("hostpool: listening on http://%s:%d/ (%s", host, hp_pool_bound_port(pool, s, i), name);
    if (every) printf(", %s", every);
    if (send_host) printf(", Host: %s", send_host);
    if (sb)
        print_switchboard_hint(hp__switchboard_model_of(sb), host, hp_pool_bound_port(pool, s, i));
    if (hp_server_expose(s)) printf(", exposed as %s", hp_server_expose(s));
    printf(")\n");
}

/* The walk of the servers printed at start. */
typedef struct printing {
    const hp_pool *pool;
    size_t running;
} printing;

static bool print_server(const hp_server_info *info, void *data)
{
    printing *p = data;
    /* A process server is starting until its program is ready; its addresses serve already
     * (requests wait for the program). */
    if (info->state != HP_SERVER_RUNNING && info->state != HP_SERVER_STARTING) return true;
    if (strcmp(info->name, HP__CONFIG_ADMIN_SERVER) == 0) {
        printf("hostpool: admin API on %s\n", hp_server_listen_address(info->server, 0));
        return true;
    }
    p->running++;
    const hp__switchboard *sb = hp__switchboard_find(p->pool, info->name);
    for (size_t i = 0; i < info->listen_count; i++)
        print_address(p->pool, info->server, info->name, i, sb);
    return true;
}

/* Adds every built server to the pool; the pool owns their handlers from then on. Each
 * server's model is freed as soon as the pool has its copy, so that what the next one
 * allocates fills the room it leaves: freed together at the end, the models left a hole of
 * about 330 B per server between blocks that live on (docs/PERFORMANCE.md). */
static int add_all(hp_pool *pool, loaded *l)
{
    int failed = 0;
    /* Upstreams first: a proxy route resolves its upstream by name from its first request. */
    for (size_t i = 0; i < l->config->upstream_count; i++)
        hp__upstreams_put(hp__pool_upstreams(pool), &l->config->upstreams[i]);
    for (size_t i = 0; i < l->config->server_count; i++) {
        char err[256];
        hp_server_config *c = &l->servers[i];
        bool added = hp_pool_add(pool, c, err, sizeof err) == 0;
        if (!added) {
            fprintf(stderr, "hostpool: %s: %s\n", c->name, err);
            failed++;
        }
        hp__config_server_config_close(c, !added);
        hp__config_forget_server(l->config, i);
    }
    close_servers(l, false);
    for (size_t i = 0; i < l->config->switchboard_count; i++) {
        char err[256];
        const hp__switchboard_model *m = &l->config->switchboards[i];
        if (hp__switchboard_add(pool, m, err, sizeof err) != 0) {
            fprintf(stderr, "hostpool: %s: %s\n", m->name, err);
            failed++;
        }
    }
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
        /* drain_timeout: 0 means at once; the pool reads 0 as its default, 30 s */
        .drain_timeout_ms = c->limits.drain_timeout_ms ? c->limits.drain_timeout_ms : 1,
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
    uv_signal_init(loop, &d->sigusr1);
    d->sigint.data = d->sigterm.data = d->sighup.data = d->sigusr1.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
    uv_signal_start(&d->sigusr1, on_sigusr1, SIGUSR1);
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

/* Adds and starts the config's servers, printing what failed and each running server's
 * URLs. Returns how many run; *add_failures: how many could not be added. */
static size_t start_servers(daemon_state *d, loaded *l, int *add_failures)
{
    *add_failures = add_all(d->pool, l);
    hp_pool_result r;
    hp_pool_start_all(d->pool, &r);
    for (size_t i = 0; i < r.failed; i++)
        fprintf(stderr, "hostpool: %s failed to start: %s\n", r.failures[i].name,
                r.failures[i].error);
    hp_pool_result_free(&r);
    printing p = {d->pool, 0};
    hp_pool_walk(d->pool, print_server, &p);
    return p.running;
}

typedef struct run_options {
    const char *config, *admin, *token_file, *pid_file;
    bool keep_going;
    char *pid_file_in_use; /* owned: --pid-file, else the config's pid_file, or NULL */
} run_options;

static const hp__usage run_usage = {
    .command = "run",
    .synopsis = "run --config FILE [--admin ADDR] [--token-file FILE] [--pid-file FILE] "
                "[--keep-going]",
    .help = "\n"
            "Runs every server of a config file (YAML, or JSON when FILE ends in .json) as one\n"
            "pool, with its admin API, until SIGINT or SIGTERM (drain, then exit 0). SIGHUP\n"
            "reloads the file (as `hostpool reload` does); SIGUSR1 reopens the log files (after\n"
            "logrotate). A config error: nothing starts, exit 1.\n"
            "A server that cannot start fails alone; when none of them can, run exits 1.\n"
            "\n"
            "  -c, --config FILE   the config file\n"
            "  --admin ADDR        the admin API's address instead of admin.listen: unix:PATH,\n"
            "                      or a loopback HOST:PORT with a token file\n"
            "  --token-file FILE   the admin API's bearer token (its first line) instead of\n"
            "                      admin.token_file\n"
            "  --pid-file FILE     write the daemon's process id there once it runs (removed\n"
            "                      when it exits) instead of the config's pid_file\n"
            "  --keep-going        stay up even when no server could start (fix them through\n"
            "                      the admin API)\n",
};

/* Reads run's options; false: return *status. */
static bool read_run_options(int argc, char **argv, run_options *o, int *status)
{
    const hp__option options[] = {
        {.name = "--config", .short_name = "-c", .value = &o->config},
        {.name = "--admin", .value = &o->admin},
        {.name = "--token-file", .value = &o->token_file},
        {.name = "--pid-file", .value = &o->pid_file},
        {.name = "--keep-going", .set = &o->keep_going},
        {0},
    };
    const hp__option *const tables[] = {options, NULL};
    hp__args args;
    if (!hp__options_read(&run_usage, tables, argc, argv, &args, status)) return false;
    free(args.items);
    if (o->config) return true;
    *status = hp__usage_error(&run_usage, "--config FILE is required");
    return false;
}

/* --admin ADDR and --token-file FILE replace the config's admin.listen and admin.token_file,
 * checked as the keys are (a TCP address needs a token file). */
static int override_admin(hp__config *config, const run_options *o)
{
    if (o->token_file) {
        if (!o->token_file[0]) {
            fprintf(stderr, "hostpool run: --token-file: the path is empty\n");
            return -1;
        }
        free(config->admin.token_file);
        config->admin.token_file = hp__strdup(o->token_file);
    }
    return o->admin ? set_admin_listen(config, o->admin) : 0;
}

/* error_log: its level, and its file from here on. False (said on stderr) if it cannot open. */
static bool open_error_log(const hp__config *config)
{
    char err[4400];
    hp__log_set_level(config->error_log.level);
    if (!config->error_log.path || hp__log_open_file(config->error_log.path, err, sizeof err))
        return true;
    fprintf(stderr, "hostpool run: error_log: %s\n", err);
    return false;
}

/* After the servers started: the pid file, then the summary line (a test or supervisor that
 * waits for it finds the pid file there). False when the daemon must stop. */
static bool announce(const run_options *o, size_t running, size_t servers)
{
    char err[4400];
    if (servers > 0 && running == 0 && !o->keep_going) {
        fprintf(stderr,
                "hostpool: none of the %zu servers could start; stopping "
                "(--keep-going stays up)\n",
                servers);
        return false;
    }
    if (o->pid_file_in_use && !hp__pid_file_write(o->pid_file_in_use, err, sizeof err)) {
        fprintf(stderr, "hostpool: %s\n", err);
        return false;
    }
    printf("hostpool: %zu of %zu servers running (Ctrl+C stops them)\n", running, servers);
    fflush(stdout);
    return true;
}

int hp__cmd_run(int argc, char **argv)
{
    run_options o = {0};
    int status;
    if (!read_run_options(argc, argv, &o, &status)) return status;
    signal(SIGHUP, SIG_IGN); /* until the daemon's handlers say what they do */
    signal(SIGUSR1, SIG_IGN);
    loaded l;
    if (load("run", o.config, &l) != 0) return 1;
    char err[4400];
    const char *pid_file = o.pid_file ? o.pid_file : l.config->pid_file;
    bool ok = override_admin(l.config, &o) == 0 && open_error_log(l.config);
    if (ok && pid_file && !(ok = hp__pid_file_check(pid_file, err, sizeof err)))
        fprintf(stderr, "hostpool run: %s\n", err);
    if (!ok) {
        unload(&l, true);
        return 1;
    }
    o.pid_file_in_use = pid_file ? hp__strdup(pid_file) : NULL; /* outlives the config */
    signal(SIGPIPE, SIG_IGN);
    hp__fd_limit_raise();
    uv_loop_t *loop = uv_default_loop();
    daemon_state d = {0};
    if (create_pool(loop, l.config, &d.pool) != 0) {
        fprintf(stderr, "hostpool run: cannot create the pool\n");
        unload(&l, true);
        return 1;
    }
    /* Signals are handled before anything says "listening": a client may stop us at once. */
    start_signals(loop, &d);
    hp__sd_notify_init(&d.notify); /* before any process server's program starts */
    /* The config and its document are the live config's from here; `l` borrows them. */
    d.live = hp__live_config_create(d.pool, o.config, HP__CONFIG_ADMIN_SERVER, l.config, l.doc);
    hp__live_config_override_admin(d.live, o.admin, o.token_file);
    if (hp__daemon_add_admin(d.pool, d.live, err, sizeof err) != 0) {
        fprintf(stderr, "hostpool: admin API: %s\n", err);
        close_servers(&l, true);
        stop(&d);
        run_until_stopped(loop, &d);
        hp__sd_notify_close(&d.notify);
        free(o.pid_file_in_use);
        return 1;
    }
    size_t servers = l.config->server_count + l.config->switchboard_count; /* each a front */
    int add_failures;
    size_t running = start_servers(&d, &l, &add_failures);
    hp__live_config_servers_added(d.live);
    bool up = add_failures == 0 && announce(&o, running, servers);
    if (up)
        hp__sd_notify_ready(&d.notify, running, servers);
    else
        stop(&d);
    run_until_stopped(loop, &d);
    hp__sd_notify_close(&d.notify);
    if (up && o.pid_file_in_use) hp__pid_file_remove(o.pid_file_in_use);
    free(o.pid_file_in_use);
    fprintf(stderr, "hostpool: stopped\n");
    return up ? 0 : 1;
}
