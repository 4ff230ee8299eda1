/* An engine run in-process (include/hostpool/engine.h) with one server on an ephemeral
 * loopback port whose every route is the handler a test gives: for integration tests whose
 * handler is C code of the test (an upgrading protocol, a streaming consumer). The control
 * loop runs on its own thread; the test thread is the client (hp_test.h raw connections).
 *
 * The handler runs on the worker threads: what it shares with the test must be atomics. */
#ifndef HP_TEST_ENGINE_FIXTURE_H
#define HP_TEST_ENGINE_FIXTURE_H

#include "hostpool/hostpool.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct engine_fixture engine_fixture;

/* Starts one worker serving `handler` (owned by the fixture from now on) with the default
 * limits, changed by `max_body_bytes` when it is not 0; aborts when it cannot start. */
engine_fixture *engine_fixture_start(hp_handler *handler, uint64_t max_body_bytes);
/* The port the server listens on (127.0.0.1). */
int engine_fixture_port(const engine_fixture *f);
/* Asks the engine to replace the server by a new version whose every route is `handler`
 * (owned by the fixture), on the same socket, the old version's requests draining for up to
 * `drain_ms`; returns at once. engine_fixture_replaced says when the old version is gone. */
void engine_fixture_replace(engine_fixture *f, hp_handler *handler, uint64_t drain_ms);
bool engine_fixture_replaced(engine_fixture *f);
/* Asks the engine to shut down (draining for up to `drain_ms`) and returns at once, so the
 * test can watch the drain from the client's side. */
void engine_fixture_shutdown(engine_fixture *f, uint64_t drain_ms);
/* Shuts the engine down (draining for up to `drain_ms`, unless engine_fixture_shutdown asked
 * already), waits for its loop to end and frees everything. NULL is harmless. */
void engine_fixture_stop(engine_fixture *f, uint64_t drain_ms);

#endif
