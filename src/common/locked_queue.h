/* A queue between threads: any thread pushes, one thread takes everything at once.
 *
 * Items are intrusive: each starts with an hp__queue_item. A mutex guards only the two
 * pointers; the taker gets the whole list in push order and walks it without the lock. Used
 * for control → worker commands and worker → control replies, each paired with a
 * uv_async_t that wakes the taker (never on the request path). */
#ifndef HP_COMMON_LOCKED_QUEUE_H
#define HP_COMMON_LOCKED_QUEUE_H

#include <uv.h>

typedef struct hp__queue_item {
    struct hp__queue_item *next;
} hp__queue_item;

typedef struct hp__locked_queue {
    uv_mutex_t lock;
    hp__queue_item *head, *tail;
} hp__locked_queue;

void hp__locked_queue_init(hp__locked_queue *q);
void hp__locked_queue_close(hp__locked_queue *q);
void hp__locked_queue_push(hp__locked_queue *q, hp__queue_item *item);
/* Everything pushed so far, oldest first (NULL when empty); the queue is then empty. */
hp__queue_item *hp__locked_queue_take_all(hp__locked_queue *q);

#endif
