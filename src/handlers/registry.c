/* The handler registry (registry.h): the built-in kinds, then up to 32 registered ones.
 *
 * A registered kind is copied, its key too, into a static slot that lives as long as the
 * process: configs and routes point at it. Registering and the first read happen on one
 * thread before any config is checked (hostpool/handler_kind.h); the first read closes the
 * registry and writes the list of keys used in messages, so every later read only reads. */
#include "handlers/registry.h"

#include "handlers/kinds.h"
#include "hostpool/errors.h"

#include <stdbool.h>
#include <string.h>

#define KEY_MAX 32

typedef struct registered {
    hp_handler_kind kind; /* kind.key points at key */
    char key[KEY_MAX + 1];
} registered;

static const hp_handler_kind *const built_in[HP__HANDLER_KINDS_BUILT_IN] = {
    &hp__respond_kind, &hp__file_kind,  &hp__redirect_kind,  &hp__metrics_kind,
    &hp__health_kind,  &hp__proxy_kind, &hp__websocket_kind,
};

static registered added[HP__HANDLER_KINDS_REGISTERED_MAX];
static size_t added_count;
static bool closed;
static char key_list[HP__HANDLER_KINDS_MAX * (KEY_MAX + 2)];

/* 1 to KEY_MAX of a-z 0-9 _, starting with a letter; "match" is the route's own key. */
static bool valid_key(const char *key)
{
    size_t len = key ? strlen(key) : 0;
    return len >= 1 && len <= KEY_MAX && key[0] >= 'a' && key[0] <= 'z' &&
           strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") == len && strcmp(key, "match") != 0;
}

int hp_handler_kind_register(const hp_handler_kind *kind)
{
    if (closed) return HP_ESTATE;
    if (!kind || !valid_key(kind->key) || !kind->check || !kind->build) return HP_EINVAL;
    for (size_t i = 0; i < HP__HANDLER_KINDS_BUILT_IN + added_count; i++)
        if (strcmp(hp__handler_kind_at(i)->key, kind->key) == 0) return HP_EEXISTS;
    if (added_count == HP__HANDLER_KINDS_REGISTERED_MAX) return HP_ELIMIT;
    registered *r = &added[added_count++];
    strcpy(r->key, kind->key);
    r->kind = *kind;
    r->kind.key = r->key;
    return 0;
}

static void close_registry(void)
{
    if (closed) return;
    closed = true;
    size_t used = 0;
    for (size_t i = 0; i < HP__HANDLER_KINDS_BUILT_IN + added_count; i++) {
        const char *key = hp__handler_kind_at(i)->key;
        if (i) memcpy(key_list + used, ", ", 2), used += 2;
        memcpy(key_list + used, key, strlen(key));
        used += strlen(key);
    }
    key_list[used] = '\0';
}

size_t hp__handler_kinds_count(void)
{
    close_registry();
    return HP__HANDLER_KINDS_BUILT_IN + added_count;
}

const hp_handler_kind *hp__handler_kind_at(size_t i)
{
    return i < HP__HANDLER_KINDS_BUILT_IN ? built_in[i]
                                          : &added[i - HP__HANDLER_KINDS_BUILT_IN].kind;
}

const char *hp__handler_kinds_list(void)
{
    close_registry();
    return key_list;
}
