#include "config/config_journal.h"

#include "core/journal.h"

#include <string.h>

static void read_overflow(hp_config_check *c, hp__cfg_node *n, hp_journal_overflow *out)
{
    const char *text = hp_config_string(c, n);
    if (!text) return;
    if (strcmp(text, "drop_oldest") == 0)
        *out = HP_JOURNAL_DROP_OLDEST;
    else if (strcmp(text, "reject") == 0)
        *out = HP_JOURNAL_REJECT;
    else
        hp_config_error(c, n, "expected drop_oldest or reject, got \"%.*s\"", HP_CONFIG_QUOTE_MAX,
                        text);
}

void hp__config_read_journal(hp_config_check *c, hp__cfg_node *n, unsigned workers,
                             hp_journal_config *out)
{
    static const char *const keys[] = {"capacity", "overflow", NULL};
    *out = (hp_journal_config){0};
    if (!hp_config_expect_mapping(c, n)) return;
    hp_config_keys(c, n, keys);
    hp__cfg_node *v;
    if ((v = hp__cfg_mapping_get(n, "overflow"))) read_overflow(c, v, &out->overflow);
    long long capacity;
    if (!(v = hp__cfg_mapping_get(n, "capacity"))) {
        hp_config_error(c, n, "\"capacity\" is required");
        return;
    }
    if (!hp_config_integer(c, v, 1, HP__JOURNAL_CAPACITY_MAX, &capacity)) return;
    size_t bytes = hp__journal_bytes((uint32_t)capacity, workers ? workers : 1);
    if (bytes > HP__JOURNAL_MEMORY_MAX) {
        hp_config_error(c, v, "a journal of %lld entries takes %zu MiB, more than %zu MiB",
                        capacity, (bytes + (1u << 20) - 1) >> 20, HP__JOURNAL_MEMORY_MAX >> 20);
        return;
    }
    out->capacity = (uint32_t)capacity;
}
