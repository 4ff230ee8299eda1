/* The built-in handler kinds (hostpool/handler_kind.h), each described in its handler's file,
 * and the models their checks make: what a route's settings mean once checked. */
#ifndef HP_HANDLERS_KINDS_H
#define HP_HANDLERS_KINDS_H

#include "hostpool/handler_kind.h"
#include "hostpool/websocket.h"
#include "upstream/upstream_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const hp_handler_kind hp__respond_kind;   /* respond.c */
extern const hp_handler_kind hp__file_kind;      /* file.c */
extern const hp_handler_kind hp__redirect_kind;  /* redirect.c */
extern const hp_handler_kind hp__metrics_kind;   /* pool_handlers.c, no settings (model NULL) */
extern const hp_handler_kind hp__health_kind;    /* pool_handlers.c, no settings (model NULL) */
extern const hp_handler_kind hp__proxy_kind;     /* proxy_kind.c */
extern const hp_handler_kind hp__websocket_kind; /* websocket_kind.c */

typedef struct hp__respond_model {
    int status; /* 200 by default */
    char *body; /* may hold NUL bytes (from JSON "\u0000"); NULL when not set */
    size_t body_len;
    char **headers; /* name, value pairs: 2 * header_count strings, in order */
    size_t header_count;
} hp__respond_model;

typedef struct hp__file_model {
    char *root;
    char *index; /* NULL: the handler's default (index.html) */
    bool precompressed;
    hp_config_pos root_pos;
    bool browse; /* false by default */
} hp__file_model;

typedef struct hp__redirect_model {
    int status; /* 302 by default */
    char *location;
    bool keep_path; /* false by default */
} hp__redirect_model;

/* `proxy: {...}`: exactly one of a named upstream (`upstream`) or inline targets and settings
 * (`to` and the keys of HP__UPSTREAM_SETTING_KEYS). */
typedef struct hp__proxy_model {
    char *upstream;                     /* the named upstream, or NULL: inline */
    hp__upstream_model inline_upstream; /* when upstream is NULL (its name is NULL) */
    hp_proxy_host host;                 /* keep (the default), upstream or host_name */
    char *host_name;                    /* for HP_PROXY_HOST_NAME */
    uint64_t max_body_bytes;            /* the route's own cap; 0: none */
    hp_config_pos pos;                  /* where `upstream` (else the settings) is written */
} hp__proxy_model;

/* `websocket: {...}`: the common options and exactly one mode (websocket_kind.c). */
typedef struct hp__websocket_model {
    hp_ws_options options;
    unsigned mode;                     /* an index into websocket_kind.c's modes */
    struct hp__pubsub_options *pubsub; /* pubsub's settings (ws/pubsub.h), or NULL */
} hp__websocket_model;

/* The proxy handler for a checked model (proxy.c); the model is not kept. A named upstream is
 * found at request time (a route naming one that is gone answers 503). */
hp_handler *hp__proxy_handler_create_model(const hp__proxy_model *m);

#endif
