/* A route's response header rules (hostpool/server.h hp_header_rules: `headers: { set, add,
 * remove }` in a config), checked once and prebuilt into what one answer needs.
 *
 * Every answer of a route goes through compose_head (http/response.c), which applies the
 * route's rules to the fields its handler (or a guard, or the engine's error answer) added:
 * the lines whose name is in `drop` (the names of `remove` and of `set`) are cut out, then the
 * prebuilt `lines` (every `set`, then every `add`, "Name: value\r\n" each) are appended. A
 * server's rules come before a route's: composed at server creation into one set per route
 * (a route's `set` or `remove` of a name also drops the server's lines of that name), and the
 * server's own set for the answers no route gives (404, 405).
 *
 * The engine's own fields (Date, Content-Length, Transfer-Encoding, Connection, X-Request-Id)
 * are written in the head before the rules apply and are refused by the check: a rule could
 * not do what it says.
 *
 * Threading: made and destroyed with the server (control thread); applied by any worker. The
 * request path allocates nothing: the exchange's field buffer keeps its capacity. */
#ifndef HP_HTTP_HEADER_RULES_H
#define HP_HTTP_HEADER_RULES_H

#include "hostpool/server.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp__header_rules {
    char *lines; /* "Name: value\r\n" of every set, then every add */
    size_t lines_len;
    hp_str *drop; /* names whose fields are cut out of a handler's (remove and set) */
    size_t drop_count;
} hp__header_rules;

/* Is `rules` valid: names are tokens, values have no control byte, no engine-owned name, no
 * name both set and removed, nor set twice? HP_EINVAL with why in errbuf ("set[1]: ..."), else
 * 0. NULL is valid. */
int hp__header_rules_check(const hp_header_rules *rules, char *errbuf, size_t len);

/* Why `name` cannot be named by a rule ("is not a header name", "is the engine's own field"),
 * or NULL when it can. Static. */
const char *hp__header_rules_name_problem(const char *name);

/* The rules of `server` then `route` (each checked, each may be NULL) as one prebuilt set, or
 * NULL when both have none. */
hp__header_rules *hp__header_rules_create(const hp_header_rules *server,
                                          const hp_header_rules *route);
/* NULL: no-op. */
void hp__header_rules_destroy(hp__header_rules *rules);

/* A deep copy of `rules` (NULL for NULL): what a server keeps as written, for its copy
 * (pool/server_copy.c). Free with hp__header_rules_config_free. */
hp_header_rules *hp__header_rules_config_copy(const hp_header_rules *rules);
/* Frees rules whose arrays and strings were each allocated (a copy, the config's reading).
 * NULL: no-op. */
void hp__header_rules_config_free(hp_header_rules *rules);

/* Cuts the lines of `fields[0..len)` ("Name: value\r\n" each) whose name `rules` drops, in
 * place; returns the new length. */
size_t hp__header_rules_filter(const hp__header_rules *rules, char *fields, size_t len);

#endif
