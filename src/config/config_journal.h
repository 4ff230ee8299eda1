/* A server's `journal:` (docs/CONFIG.md): { capacity: N, overflow: drop_oldest | reject }.
 *
 * capacity is required, 1 to HP__JOURNAL_CAPACITY_MAX; overflow defaults to drop_oldest. The
 * memory it would take (hp__journal_bytes: about 1.3 KiB an entry, split between the workers)
 * is checked against HP__JOURNAL_MEMORY_MAX here, so a journal too large is refused at its
 * position with the figure rather than found when the server starts. */
#ifndef HP_CONFIG_CONFIG_JOURNAL_H
#define HP_CONFIG_CONFIG_JOURNAL_H

#include "config/config_check.h"
#include "hostpool/server.h"

#define HP__JOURNAL_MEMORY_MAX ((size_t)256 << 20)
#define HP__JOURNAL_CAPACITY_MAX 10000000

/* Reads `n` into *out; `workers` is the config's (0, auto: counted as one). */
void hp__config_read_journal(hp_config_check *c, hp__cfg_node *n, unsigned workers,
                             hp_journal_config *out);

#endif
