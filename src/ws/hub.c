/* The hub: see hub.h for the design (per-worker tables, batches per loop iteration, bounds,
 * exactly once). */
#include "ws/hub.h"

#include "common/alloc.h"
#include "common/locked_queue.h"
#include "core/topic.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

/* One published message: the payload shared by reference, the topic copied once. */
typedef struct hub_msg {
    _Atomic unsigned refs;
    const hp__ws_hub_ops *ops;
    void *payload;
    size_t bytes; /* the payload's */
    char topic[];
} hub_msg;

typedef enum { BATCH_MESSAGES, BATCH_CLOSE } batch_kind;

/* What travels to a worker's inbox: messages in publication order, or a close request. */
typedef struct batch {
    hp__queue_item item; /* first: batches travel through an hp__locked_queue */
    batch_kind kind;
    uint64_t close_id;
    uint16_t close_code;
    size_t n, cap;
    size_t bytes; /* of its messages' payloads */
    hub_msg **msgs;
} batch;

/* A pattern's subscriptions on one worker. */
typedef struct pattern_subs {
    char *pattern;
    struct hp__ws_sub **subs;
    size_t n, cap;
} pattern_subs;

typedef struct hp__ws_sub {
    hp__ws_member *m;
    pattern_subs *ps;
    size_t pos; /* its index in ps->subs */
} hp__ws_sub;

struct hp__ws_hub_worker {
    hp__ws_hub *hub;
    unsigned index;
    uv_loop_t *loop;
    uv_async_t wake;  /* batches arrived in the inbox */
    uv_idle_t flush;  /* started by a publish: sends the outgoing batches */
    int open_handles; /* freed when both are closed */
    hp__locked_queue inbox;
    _Atomic size_t queued;       /* messages in the inbox */
    _Atomic size_t queued_bytes; /* their payloads' bytes */
    batch *out[HP_MAX_WORKERS];
    pattern_subs **table;
    size_t table_n, table_cap;
    uint64_t stamp;
    bool delivering;
    hub_msg **later; /* published while delivering: delivered after, in order */
    size_t later_head, later_n, later_cap;
    hp__ws_member *doomed; /* closed while delivering */
};

struct hp__ws_hub {
    const hp__ws_hub_ops *ops;
    hp__ws_registry registry;
    uv_mutex_t lock; /* guards workers[] (their inboxes may be pushed to under it) */
    hp__ws_hub_worker *workers[HP_MAX_WORKERS];
    _Atomic uint64_t dropped;
};

hp__ws_hub *hp__ws_hub_create(const hp__ws_hub_ops *ops)
{
    hp__ws_hub *hub = HP_NEW(hp__ws_hub);
    hub->ops = ops;
    hp__ws_registry_init(&hub->registry);
    uv_mutex_init(&hub->lock);
    return hub;
}

void hp__ws_hub_destroy(hp__ws_hub *hub)
{
    if (!hub) return;
    hp__ws_registry_close(&hub->registry);
    uv_mutex_destroy(&hub->lock);
    free(hub);
}

hp__ws_registry *hp__ws_hub_registry(hp__ws_hub *hub)
{
    return &hub->registry;
}

uint64_t hp__ws_hub_dropped(const hp__ws_hub *hub)
{
    return atomic_load_explicit(&((hp__ws_hub *)hub)->dropped, memory_order_relaxed);
}

/* ---- messages and batches ----------------------------------------------------------------- */

static hub_msg *msg_create(const hp__ws_hub_ops *ops, const char *topic, void *payload)
{
    size_t len = strlen(topic);
    hub_msg *msg = hp__malloc(sizeof *msg + len + 1);
    atomic_init(&msg->refs, 1);
    msg->ops = ops;
    msg->payload = payload;
    msg->bytes = ops->payload_size(payload);
    ops->payload_ref(payload);
    memcpy(msg->topic, topic, len + 1);
    return msg;
}

static hub_msg *msg_ref(hub_msg *msg)
{
    atomic_fetch_add_explicit(&msg->refs, 1, memory_order_relaxed);
    return msg;
}

static void msg_unref(hub_msg *msg)
{
    if (atomic_fetch_sub_explicit(&msg->refs, 1, memory_order_acq_rel) != 1) return;
    msg->ops->payload_unref(msg->payload);
    free(msg);
}

static void batch_append(batch **slot, hub_msg *msg)
{
    batch *b = *slot;
    if (!b) *slot = b = HP_NEW(batch);
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->msgs = hp__realloc(b->msgs, b->cap * sizeof *b->msgs);
    }
    b->msgs[b->n++] = msg_ref(msg);
    b->bytes += msg->bytes;
}

static void batch_destroy(batch *b)
{
    for (size_t i = 0; i < b->n; i++) msg_unref(b->msgs[i]);
    free(b->msgs);
    free(b);
}

/* Under hub->lock: hands `b` to `hw`'s inbox, or drops it past the bound. */
static void push_locked(hp__ws_hub *hub, hp__ws_hub_worker *hw, batch *b)
{
    if (!hw) {
        batch_destroy(b);
        return;
    }
    size_t queued = atomic_load_explicit(&hw->queued, memory_order_relaxed);
    size_t bytes = atomic_load_explicit(&hw->queued_bytes, memory_order_relaxed);
    if (b->kind == BATCH_MESSAGES &&
        (queued + b->n > HP__WS_HUB_QUEUE_MAX || bytes + b->bytes > HP__WS_HUB_QUEUE_BYTES)) {
        atomic_fetch_add_explicit(&hub->dropped, b->n, memory_order_relaxed);
        batch_destroy(b);
        return;
    }
    atomic_fetch_add_explicit(&hw->queued, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&hw->queued_bytes, b->bytes, memory_order_relaxed);
    hp__locked_queue_push(&hw->inbox, &b->item);
    uv_async_send(&hw->wake);
}

/* ---- a worker's table --------------------------------------------------------------------- */

static pattern_subs *table_find(hp__ws_hub_worker *hw, const char *pattern)
{
    for (size_t i = 0; i < hw->table_n; i++)
        if (strcmp(hw->table[i]->pattern, pattern) == 0) return hw->table[i];
    return NULL;
}

static hp__ws_sub *table_add(hp__ws_hub_worker *hw, hp__ws_member *m, const char *pattern)
{
    pattern_subs *ps = table_find(hw, pattern);
    if (!ps) {
        ps = HP_NEW(pattern_subs);
        ps->pattern = hp__strdup(pattern);
        if (hw->table_n == hw->table_cap) {
            hw->table_cap = hw->table_cap ? 2 * hw->table_cap : 8;
            hw->table = hp__realloc(hw->table, hw->table_cap * sizeof *hw->table);
        }
        hw->table[hw->table_n++] = ps;
    }
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 8;
        ps->subs = hp__realloc(ps->subs, ps->cap * sizeof *ps->subs);
    }
    hp__ws_sub *sub = HP_NEW(hp__ws_sub);
    *sub = (hp__ws_sub){m, ps, ps->n};
    ps->subs[ps->n++] = sub;
    return sub;
}

static void pattern_subs_destroy(pattern_subs *ps)
{
    free(ps->subs);
    free(ps->pattern);
    free(ps);
}

/* Removes the patterns nobody holds any more (not while delivering: the table is walked). */
static void table_sweep(hp__ws_hub_worker *hw)
{
    for (size_t i = 0; i < hw->table_n;) {
        if (hw->table[i]->n) {
            i++;
            continue;
        }
        pattern_subs_destroy(hw->table[i]);
        hw->table[i] = hw->table[--hw->table_n];
    }
}

static void table_remove(hp__ws_hub_worker *hw, hp__ws_sub *sub)
{
    pattern_subs *ps = sub->ps;
    hp__ws_sub *last = ps->subs[--ps->n];
    ps->subs[sub->pos] = last;
    last->pos = sub->pos;
    free(sub);
    if (ps->n == 0 && !hw->delivering) table_sweep(hw);
}

/* ---- delivering on a worker --------------------------------------------------------------- */

static void member_free(hp__ws_member *m)
{
    for (unsigned i = 0; i < m->sub_count; i++) table_remove(m->hw, m->subs[i]);
    free(m->subs);
    free(m);
}

static void deliver_now(hp__ws_hub_worker *hw, hub_msg *msg)
{
    uint64_t stamp = ++hw->stamp;
    const hp__ws_hub_ops *ops = hw->hub->ops;
    /* By index, reading the sizes again: a callback may subscribe (the arrays may move). */
    for (size_t i = 0; i < hw->table_n; i++) {
        pattern_subs *ps = hw->table[i];
        if (!hp__topic_match(ps->pattern, msg->topic)) continue;
        for (size_t j = 0; j < ps->n; j++) {
            hp__ws_member *m = ps->subs[j]->m;
            if (m->closed || m->stamp == stamp) continue;
            m->stamp = stamp;
            ops->deliver(m->entry.conn, msg->payload);
        }
    }
}

static void later_push(hp__ws_hub_worker *hw, hub_msg *msg)
{
    if (hw->later_head + hw->later_n == hw->later_cap) {
        memmove(hw->later, hw->later + hw->later_head, hw->later_n * sizeof *hw->later);
        hw->later_head = 0;
        if (hw->later_n == hw->later_cap) {
            hw->later_cap = hw->later_cap ? 2 * hw->later_cap : 8;
            hw->later = hp__realloc(hw->later, hw->later_cap * sizeof *hw->later);
        }
    }
    hw->later[hw->later_head + hw->later_n++] = msg_ref(msg);
}

static void deliver(hp__ws_hub_worker *hw, hub_msg *msg)
{
    if (hw->delivering) {
        later_push(hw, msg);
        return;
    }
    hw->delivering = true;
    deliver_now(hw, msg);
    while (hw->later_n) {
        hub_msg *next = hw->later[hw->later_head++];
        hw->later_n--;
        deliver_now(hw, next);
        msg_unref(next);
    }
    hw->later_head = 0;
    hw->delivering = false;
    while (hw->doomed) {
        hp__ws_member *m = hw->doomed;
        hw->doomed = m->next_doomed;
        member_free(m);
    }
    table_sweep(hw);
}

static void close_by_id(hp__ws_hub_worker *hw, uint64_t id, uint16_t code)
{
    unsigned worker;
    void *conn;
    /* Only this thread closes its connections: found here, it stays open for the call. */
    if (hp__ws_registry_find(&hw->hub->registry, id, &worker, &conn) && worker == hw->index)
        hw->hub->ops->close(conn, code);
}

static void on_wake(uv_async_t *async)
{
    hp__ws_hub_worker *hw = async->data;
    hp__queue_item *item = hp__locked_queue_take_all(&hw->inbox);
    while (item) {
        batch *b = (batch *)item;
        item = item->next;
        if (b->kind == BATCH_CLOSE) {
            close_by_id(hw, b->close_id, b->close_code);
        } else {
            atomic_fetch_sub_explicit(&hw->queued, b->n, memory_order_relaxed);
            atomic_fetch_sub_explicit(&hw->queued_bytes, b->bytes, memory_order_relaxed);
            for (size_t i = 0; i < b->n; i++) deliver(hw, b->msgs[i]);
        }
        batch_destroy(b);
    }
}

/* The end of the loop iteration in which this worker published: one push per destination. */
static void on_flush(uv_idle_t *idle)
{
    hp__ws_hub_worker *hw = idle->data;
    uv_idle_stop(idle);
    hp__ws_hub *hub = hw->hub;
    uv_mutex_lock(&hub->lock);
    for (unsigned w = 0; w < HP_MAX_WORKERS; w++) {
        if (!hw->out[w]) continue;
        push_locked(hub, hub->workers[w], hw->out[w]);
        hw->out[w] = NULL;
    }
    uv_mutex_unlock(&hub->lock);
}

/* ---- worker lifecycle ----------------------------------------------------------------------- */

hp__ws_hub_worker *hp__ws_hub_worker_start(hp__ws_hub *hub, uv_loop_t *loop, unsigned index)
{
    hp__ws_hub_worker *hw = HP_NEW(hp__ws_hub_worker);
    hw->hub = hub;
    hw->index = index;
    hw->loop = loop;
    hp__locked_queue_init(&hw->inbox);
    uv_async_init(loop, &hw->wake, on_wake);
    uv_idle_init(loop, &hw->flush);
    hw->wake.data = hw->flush.data = hw;
    hw->open_handles = 2;
    uv_mutex_lock(&hub->lock);
    hub->workers[index] = hw;
    uv_mutex_unlock(&hub->lock);
    return hw;
}

static void on_handle_closed(uv_handle_t *h)
{
    hp__ws_hub_worker *hw = h->data;
    if (--hw->open_handles) return;
    free(hw);
}

void hp__ws_hub_worker_stop(hp__ws_hub_worker *hw)
{
    hp__ws_hub *hub = hw->hub;
    uv_mutex_lock(&hub->lock);
    hub->workers[hw->index] = NULL;
    uv_mutex_unlock(&hub->lock);
    for (unsigned w = 0; w < HP_MAX_WORKERS; w++)
        if (hw->out[w]) batch_destroy(hw->out[w]);
    hp__queue_item *item = hp__locked_queue_take_all(&hw->inbox);
    while (item) {
        batch *b = (batch *)item;
        item = item->next;
        batch_destroy(b);
    }
    hp__locked_queue_close(&hw->inbox);
    for (size_t i = 0; i < hw->table_n; i++) pattern_subs_destroy(hw->table[i]);
    free(hw->table);
    free(hw->later);
    uv_close((uv_handle_t *)&hw->wake, on_handle_closed);
    uv_close((uv_handle_t *)&hw->flush, on_handle_closed);
}

hp__ws_hub_worker *hp__ws_hub_worker_find(hp__ws_hub *hub, uv_loop_t *loop, unsigned index)
{
    if (index >= HP_MAX_WORKERS) return NULL;
    /* Written only by the worker `index` itself (start, stop): no lock for its own read. */
    hp__ws_hub_worker *hw = hub->workers[index];
    return hw && hw->loop == loop ? hw : NULL;
}

/* ---- members ------------------------------------------------------------------------------ */

hp__ws_member *hp__ws_member_open(hp__ws_hub_worker *hw, void *conn, uint64_t id,
                                  const char *client, uint64_t since_ms)
{
    hp__ws_member *m = HP_NEW(hp__ws_member);
    m->hw = hw;
    hp__ws_registry_open(&hw->hub->registry, &m->entry, conn, id, hw->index, client, since_ms);
    return m;
}

void hp__ws_member_close(hp__ws_member *m)
{
    if (!m) return;
    hp__ws_hub_worker *hw = m->hw;
    hp__ws_registry_remove(&hw->hub->registry, &m->entry);
    if (!hw->delivering) {
        member_free(m);
        return;
    }
    m->closed = true;
    m->next_doomed = hw->doomed;
    hw->doomed = m;
}

int hp__ws_member_subscribe(hp__ws_member *m, const char *pattern)
{
    if (!hp__topic_pattern_valid(pattern)) return HP_EINVAL;
    int rc = hp__ws_registry_subscribe(&m->hw->hub->registry, &m->entry, pattern);
    if (rc) return rc;
    if (m->sub_count == m->sub_cap) {
        m->sub_cap = m->sub_cap ? 2 * m->sub_cap : 4;
        m->subs = hp__realloc(m->subs, m->sub_cap * sizeof *m->subs);
    }
    m->subs[m->sub_count++] = table_add(m->hw, m, pattern);
    return 0;
}

int hp__ws_member_unsubscribe(hp__ws_member *m, const char *pattern)
{
    int rc = hp__ws_registry_unsubscribe(&m->hw->hub->registry, &m->entry, pattern);
    if (rc) return rc;
    for (unsigned i = 0; i < m->sub_count; i++) {
        if (strcmp(m->subs[i]->ps->pattern, pattern) != 0) continue;
        hp__ws_sub *sub = m->subs[i];
        memmove(&m->subs[i], &m->subs[i + 1], (m->sub_count - i - 1) * sizeof m->subs[0]);
        m->sub_count--;
        table_remove(m->hw, sub);
        break;
    }
    return 0;
}

int hp__ws_member_join(hp__ws_member *m, const char *name)
{
    return hp__ws_registry_join(&m->hw->hub->registry, &m->entry, name);
}

/* ---- publishing ----------------------------------------------------------------------------- */

int hp__ws_hub_publish(hp__ws_hub *hub, hp__ws_hub_worker *from, const char *topic, void *payload)
{
    if (!hp__topic_valid(topic)) return HP_EINVAL;
    uint64_t workers;
    size_t reached = hp__ws_registry_reach(&hub->registry, topic, &workers);
    if (!workers) return (int)reached;
    hub_msg *msg = msg_create(hub->ops, topic, payload);
    if (from) {
        bool queued = false;
        for (unsigned w = 0; w < HP_MAX_WORKERS; w++) {
            if (!(workers & (UINT64_C(1) << w)) || w == from->index) continue;
            batch_append(&from->out[w], msg);
            queued = true;
        }
        if (queued && !uv_is_active((uv_handle_t *)&from->flush))
            uv_idle_start(&from->flush, on_flush);
        if (workers & (UINT64_C(1) << from->index)) deliver(from, msg);
    } else {
        uv_mutex_lock(&hub->lock);
        for (unsigned w = 0; w < HP_MAX_WORKERS; w++) {
            if (!(workers & (UINT64_C(1) << w))) continue;
            batch *b = NULL;
            batch_append(&b, msg);
            push_locked(hub, hub->workers[w], b);
        }
        uv_mutex_unlock(&hub->lock);
    }
    msg_unref(msg);
    return reached > INT32_MAX ? INT32_MAX : (int)reached;
}

int hp__ws_hub_close_connection(hp__ws_hub *hub, uint64_t id, uint16_t code)
{
    unsigned worker;
    void *conn;
    if (!hp__ws_registry_find(&hub->registry, id, &worker, &conn)) return HP_ENOTFOUND;
    batch *b = HP_NEW(batch);
    b->kind = BATCH_CLOSE;
    b->close_id = id;
    b->close_code = code;
    uv_mutex_lock(&hub->lock);
    push_locked(hub, hub->workers[worker], b);
    uv_mutex_unlock(&hub->lock);
    return 0;
}
