/* A supervised process: a server of the pool whose requests are proxied to a program hostpool
 * starts, watches and restarts (hp_server_config.process).
 *
 * The pool starts the program when it starts the server (its listen addresses are bound
 * first, so requests that come while the program boots wait for it), and stops it when it
 * stops the server: SIGTERM to its process group, SIGKILL after `stop_timeout_ms`. No child
 * outlives hostpool. The server is `starting` until the program is ready (its port accepts a
 * connection, or `ready_path` answers 2xx), then `running`; it stays `running` across
 * restarts after a crash, and becomes `failed` when the restart policy gives up (its
 * addresses stay bound and answer 503; a start clears the count).
 *
 * Requests to a process server:
 *   the program is ready                  proxied to 127.0.0.1:port
 *   it boots (first start or a restart)   wait, at most `queue` of them, for ready (then
 *                                         proxied) or boot_timeout_ms (504); past `queue`: 503
 *   it crashed and waits for its restart  503 with Retry-After (the seconds until it starts)
 *   the policy gave up, or it stopped     503
 *
 * Events: process.started (pid), process.ready (boot_ms), process.exited (code or signal),
 * process.restarting (attempt, delay_ms), process.giveup. */
#ifndef HOSTPOOL_PROCESS_H
#define HOSTPOOL_PROCESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HP_RESTART_PERMANENT, /* restart after any exit */
    HP_RESTART_TRANSIENT, /* only after an abnormal exit (a signal, a non-zero code, boot timeout)
                           */
    HP_RESTART_TEMPORARY, /* never */
} hp_restart_policy;

/* Backoff before restart k (the restarts within `within_ms`, counting this one):
 * initial_ms · factor^(k−1), capped at max_ms, then ± jitter. At most max_restarts restarts
 * within the sliding within_ms; the next exit gives up. A zero field takes its default. */
typedef struct hp_restart_config {
    hp_restart_policy policy; /* HP_RESTART_PERMANENT (0) */
    uint32_t initial_ms;      /* 100 */
    uint32_t max_ms;          /* 5000 */
    uint32_t factor_milli;    /* 2000 (a factor of 2) */
    uint32_t jitter_ppm;      /* 100000 (± 10 %); HP_RESTART_NONE for none */
    uint32_t max_restarts;    /* 10; HP_RESTART_NONE for 0 */
    uint32_t within_ms;       /* 60000 */
} hp_restart_config;

/* A zero that is not "the default": max_restarts (give up at the first exit that would
 * restart) and jitter_ppm (every delay exact). */
#define HP_RESTART_NONE UINT32_MAX

typedef struct hp_process_config {
    /* The program and its arguments (no shell); "{port}" in an argument is the port. An
     * argv[0] without '/' is looked up in hostpool's PATH. */
    const char *const *command;
    size_t command_count;
    const char *cwd; /* NULL: hostpool's working directory */
    /* "NAME=VALUE" entries laid over hostpool's environment ("{port}" expanded). */
    const char *const *env;
    size_t env_count;
    uint16_t port;            /* where the program listens, on 127.0.0.1; 0: one from the
                               * pool's range ("auto"), kept until the server is removed */
    const char *ready_path;   /* NULL: ready when the port accepts a TCP connection; else when
                               * GET ready_path answers 2xx. Polled every 5 ms for a
                               * second, then every 100 ms */
    uint32_t boot_timeout_ms; /* 0: 30 s */
    uint32_t stop_timeout_ms; /* 0: 10 s */
    uint32_t queue;           /* requests waiting while it boots; 0: 100 */
    hp_restart_config restart;
} hp_process_config;

#endif
