/* A server's request journal (core/journal.h), as the server versions of one name share it,
 * and the end observer that records each of its exchanges.
 *
 * Ownership. hp_server_create notes the configured capacity and overflow; the engine, when it
 * installs the server (control thread, before any worker can see it), attaches a journal sized
 * for its workers (hp__server_attach_journal). A new version of a name (hp_pool_replace) takes
 * a reference to the old version's journal when the capacity and the overflow are the same
 * (hp__server_share_journal): the record, its seqs and its counts go on across a reload, and
 * while the old version drains, both versions' exchanges on a worker are appended by that one
 * worker's thread, so each ring keeps its single writer. A changed capacity or overflow starts
 * an empty journal. The last version destroyed frees it (control thread, after its workers let
 * it go: no exchange of it is left).
 *
 * The observer runs on the worker that answered (the context's index is its ring): it reaches
 * the journal through the exchange's server, with no lookup and no lock. A worker adds it when
 * the first server with a journal is published to it (before that table can route a request),
 * so a worker that never had a journal pays nothing for it; after that, a server without one
 * costs the observer's call and a pointer test. */
#ifndef HP_HTTP_SERVER_JOURNAL_H
#define HP_HTTP_SERVER_JOURNAL_H

#include "core/journal.h"

#include <stdbool.h>
#include <stdint.h>

struct hp_server;
struct hp__exchange;

typedef struct hp__server_journal {
    hp__journal *journal;
    uint32_t capacity;
    hp__journal_overflow overflow;
    unsigned workers;
    unsigned refs; /* the server versions holding it (control thread) */
} hp__server_journal;

/* Gives `server` its journal, for `workers` workers, unless it has none configured or holds
 * one already sized for them. Control thread, before the server starts. */
void hp__server_attach_journal(struct hp_server *server, unsigned workers);
/* `server`, a new version of `from` that has not started, keeps `from`'s journal when both
 * are configured alike. */
void hp__server_share_journal(struct hp_server *server, const struct hp_server *from);
/* Lets the server's reference go; the last one frees the journal. NULL is a no-op. */
void hp__server_journal_release(hp__server_journal *sj);
/* The journal the admin API reads, or NULL (none configured, or not started yet). */
hp__journal *hp__server_journal_of(const struct hp_server *server);

struct hp__http_context;

/* `server` is published to the worker of `ctx` (its thread): the first server with a journal
 * there adds the end observer that appends to the exchange's server's journal. */
void hp__server_journal_published(struct hp__http_context *ctx, const struct hp_server *server);

#endif
