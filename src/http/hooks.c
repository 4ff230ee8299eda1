#include "http/hooks.h"

#include "http/exchange.h"
#include "http/server.h"

void hp__http_hooks_start(hp__http_context *ctx, hp__exchange *x)
{
    const hp_hooks *h = ctx->hooks;
    if (!h->request_start) return;
    hp__exchange_give_request_id(ctx, x);
    h->request_start(&x->req, h->data);
}

/* The end observer: only requests that reached a server (those the start hook heard of). */
static void request_ended(void *data, const hp__exchange *x, bool answered, uint64_t end_ns)
{
    hp__http_context *ctx = data;
    if (!x->server) return;
    uint64_t end = answered ? end_ns : hp__exchange_now_ns();
    hp_request_end info = {
        .server = hp_server_name(x->server),
        .status = x->responded ? x->status : 0,
        .duration_us = x->start_ns && end > x->start_ns ? (end - x->start_ns) / 1000 : 0,
        .bytes_in = x->bytes_in,
        .bytes_out = x->bytes_out,
        .error = hp__exchange_error(x, answered),
    };
    ctx->hooks->request_end(&x->req, &info, ctx->hooks->data);
}

void hp__http_hooks_install(hp__http_context *ctx, const hp_hooks *hooks)
{
    ctx->hooks = hooks;
    if (hooks->request_end) hp__http_context_observe(ctx, request_ended, ctx);
}
