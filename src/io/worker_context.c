#include "io/worker_context.h"

#include <assert.h>
#include <stddef.h>

/* The context entered by this thread; NULL on a thread that entered none. */
static _Thread_local hp_worker *current;

void hp__worker_context_init(hp_worker *w, uv_loop_t *loop, unsigned index)
{
    w->index = index;
    w->loop = loop;
    w->upstreams = NULL;
    hp__uv_sched_init(&w->timers, loop);
    hp__worker_handlers_init(&w->handlers);
}

void hp__worker_context_enter(hp_worker *w)
{
    current = w;
}

hp_worker *hp__worker_context_current(void)
{
    return current;
}

void hp__worker_context_close(hp_worker *w)
{
    hp__worker_handlers_close(w);
    hp__uv_sched_close(&w->timers, NULL);
    if (current == w) current = NULL;
}

struct hp__upstreams *hp__worker_upstreams(hp_worker *w)
{
    return w->upstreams;
}

hp_worker *hp_request_worker(const hp_request *req)
{
    assert(!current || current->index == req->worker);
    return current;
}

unsigned hp_worker_index(const hp_worker *w)
{
    return w->index;
}

uv_loop_t *hp_worker_loop(hp_worker *w)
{
    return w->loop;
}

uint64_t hp_worker_now(const hp_worker *w)
{
    return uv_now(w->loop);
}

void *hp_worker_data(const hp_worker *w, const hp_handler *handler)
{
    return hp__worker_handlers_data(&w->handlers, handler);
}
