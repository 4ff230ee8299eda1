/* The answers of the metrics and health handlers (pool_handlers.c), which the admin API's
 * GET /metrics and GET /health give too: one rendering of a pool's state for both. Control
 * thread only, as the pool is. */
#ifndef HP_HANDLERS_POOL_HANDLERS_H
#define HP_HANDLERS_POOL_HANDLERS_H

#include "handlers/control_job.h"
#include "hostpool/pool.h"

/* The Prometheus text of the pool (docs/METRICS.md), 200. */
void hp__pool_answer_metrics(hp__control_job *job, hp_pool *pool);
/* {"health": ..., "servers": [{name, state, health}...]}: 200 while the pool serves (OK or
 * WARN), 503 when it is KO or not known yet. */
void hp__pool_answer_health(hp__control_job *job, hp_pool *pool);

#endif
