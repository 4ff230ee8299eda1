#include "http/server_journal.h"

#include "common/alloc.h"
#include "http/exchange.h"
#include "http/server.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void hp__server_attach_journal(hp_server *s, unsigned workers)
{
    if (!s->journal_config.capacity) return;
    if (s->journal && s->journal->workers >= workers) return;
    hp__server_journal_release(s->journal); /* sized for an engine with fewer workers */
    hp__server_journal *sj = HP_NEW(hp__server_journal);
    sj->capacity = s->journal_config.capacity;
    sj->overflow = s->journal_config.overflow == HP_JOURNAL_REJECT ? HP__JOURNAL_REJECT
                                                                   : HP__JOURNAL_DROP_OLDEST;
    sj->workers = workers;
    sj->refs = 1;
    sj->journal = hp__journal_create(sj->capacity, sj->overflow, workers);
    s->journal = sj;
}

void hp__server_share_journal(hp_server *s, const hp_server *from)
{
    hp__server_journal *old = from->journal;
    if (!old || s->journal || old->capacity != s->journal_config.capacity ||
        old->overflow != (s->journal_config.overflow == HP_JOURNAL_REJECT
                              ? HP__JOURNAL_REJECT
                              : HP__JOURNAL_DROP_OLDEST))
        return;
    old->refs++;
    s->journal = old;
}

void hp__server_journal_release(hp__server_journal *sj)
{
    if (!sj || --sj->refs > 0) return;
    hp__journal_destroy(sj->journal);
    free(sj);
}

hp__journal *hp__server_journal_of(const hp_server *s)
{
    return s->journal ? s->journal->journal : NULL;
}

static uint64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void record_exchange(const hp__http_context *ctx, hp__journal *journal,
                            const hp__exchange *x, bool answered, uint64_t end_ns)
{
    char client[HP__JOURNAL_CLIENT_MAX];
    size_t client_len = hp_request_client_ip(&x->req, client, sizeof client);
    uint64_t end = answered ? end_ns : hp__exchange_now_ns();
    const char *error = hp__exchange_error(x, answered);
    hp__journal_record r = {
        .time_ms = unix_ms(),
        .duration_us = x->start_ns && end > x->start_ns ? (end - x->start_ns) / 1000 : 0,
        .bytes_in = x->bytes_in,
        .bytes_out = x->bytes_out,
        .status = x->responded ? x->status : 0,
    };
    r.text[HP__JOURNAL_CLIENT] = (hp_str){client, client_len};
    r.text[HP__JOURNAL_METHOD] = x->req.method;
    r.text[HP__JOURNAL_PATH] = x->req.path;
    r.text[HP__JOURNAL_QUERY] = x->req.query;
    r.text[HP__JOURNAL_REQUEST_ID] = x->req.request_id;
    r.text[HP__JOURNAL_UPSTREAM] = (hp_str){x->upstream, strlen(x->upstream)};
    r.text[HP__JOURNAL_ERROR] = (hp_str){error, error ? strlen(error) : 0};
    hp__journal_append(journal, ctx->worker, &r);
}

static void journal_exchange(void *data, const hp__exchange *x, bool answered, uint64_t end_ns)
{
    if (!x->server || !x->server->journal) return;
    record_exchange(data, x->server->journal->journal, x, answered, end_ns);
}

void hp__server_journal_published(hp__http_context *ctx, const hp_server *server)
{
    if (!server->journal || ctx->journal_observed) return;
    ctx->journal_observed = true;
    hp__http_context_observe(ctx, journal_exchange, ctx);
}
