/* A compression policy: what `compress` (hostpool/server.h hp_compress_config) says for a
 * server or a route, made once when the server is built and read by its workers' requests.
 *
 * One allocation holds the policy, its config view (for a copy of the server) and its types.
 * Immutable after hp__compress_create, so worker threads read it without a lock. A route's
 * effective policy is its own, else its server's (hp__route.compress); NULL means that nothing
 * of the route is compressed and costs nothing but the NULL test (http/compress_plan.c). */
#ifndef HP_HTTP_COMPRESS_H
#define HP_HTTP_COMPRESS_H

#include "hostpool/request.h"
#include "hostpool/server.h"

#include <stdbool.h>
#include <stddef.h>

#define HP__COMPRESS_TYPES_MAX 64

typedef struct hp__compress {
    hp_compress_config config; /* defaults filled in; types point into this allocation */
} hp__compress;

/* Checks a config as hp_server_create does: NULL when it is valid, else why (static text). */
const char *hp__compress_config_problem(const hp_compress_config *config);
/* Is `type` a media type "type/subtype" of tokens, whose subtype may be "*" (any), and whose
 * type may be "*" only with it? */
bool hp__compress_type_valid(const char *type);

/* A policy for a valid, not `off` config (the defaults where it leaves them 0 or NULL). */
hp__compress *hp__compress_create(const hp_compress_config *config);
/* NULL: no-op. */
void hp__compress_destroy(hp__compress *compress);

/* Does the media type of a Content-Type value (parameters and case ignored) match one of the
 * policy's types? */
bool hp__compress_type_matches(const hp__compress *compress, hp_str content_type);

#endif
