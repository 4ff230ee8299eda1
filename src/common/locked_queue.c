#include "common/locked_queue.h"

void hp__locked_queue_init(hp__locked_queue *q)
{
    uv_mutex_init(&q->lock);
    q->head = q->tail = NULL;
}

void hp__locked_queue_close(hp__locked_queue *q)
{
    uv_mutex_destroy(&q->lock);
}

void hp__locked_queue_push(hp__locked_queue *q, hp__queue_item *item)
{
    item->next = NULL;
    uv_mutex_lock(&q->lock);
    if (q->tail) {
        q->tail->next = item;
    } else {
        q->head = item;
    }
    q->tail = item;
    uv_mutex_unlock(&q->lock);
}

hp__queue_item *hp__locked_queue_take_all(hp__locked_queue *q)
{
    uv_mutex_lock(&q->lock);
    hp__queue_item *all = q->head;
    q->head = q->tail = NULL;
    uv_mutex_unlock(&q->lock);
    return all;
}
