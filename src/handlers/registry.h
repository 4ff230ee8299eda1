/* The handler registry: every handler kind a config can name (hostpool/handler_kind.h), the
 * built-in ones first, in a fixed order, then those registered, in the order they were.
 *
 * The config checker (src/config) finds kinds only here: the keys a route may have, the
 * "exactly one of ..." message and each key's check all come from this list. Reading it
 * closes it to registrations (hp_handler_kind_register then fails with HP_ESTATE), so it is
 * read without a lock once configs are loaded; both happen on one thread before that. */
#ifndef HP_HANDLERS_REGISTRY_H
#define HP_HANDLERS_REGISTRY_H

#include "hostpool/handler_kind.h"

#include <stddef.h>

#define HP__HANDLER_KINDS_BUILT_IN 7
#define HP__HANDLER_KINDS_REGISTERED_MAX 32
#define HP__HANDLER_KINDS_MAX (HP__HANDLER_KINDS_BUILT_IN + HP__HANDLER_KINDS_REGISTERED_MAX)

/* How many kinds there are; closes the registry. */
size_t hp__handler_kinds_count(void);
/* Kind `i` (< hp__handler_kinds_count()); borrowed, valid for the life of the process. */
const hp_handler_kind *hp__handler_kind_at(size_t i);
/* Their keys in order, for messages: "respond, file, redirect, metrics, health, proxy, websocket".
 * Closes the registry. Static. */
const char *hp__handler_kinds_list(void);

#endif
