/* The built-in handler kinds (hostpool/handler_kind.h), each described in its handler's file,
 * and the models their checks make: what a route's settings mean once checked. */
#ifndef HP_HANDLERS_KINDS_H
#define HP_HANDLERS_KINDS_H

#include "hostpool/handler_kind.h"

#include <stdbool.h>
#include <stddef.h>

extern const hp_handler_kind hp__respond_kind;  /* respond.c */
extern const hp_handler_kind hp__file_kind;     /* file.c */
extern const hp_handler_kind hp__redirect_kind; /* redirect.c */
extern const hp_handler_kind hp__metrics_kind;  /* pool_handlers.c, no settings (model NULL) */
extern const hp_handler_kind hp__health_kind;   /* pool_handlers.c, no settings (model NULL) */
extern const hp_handler_kind hp__proxy_kind;    /* proxy.c */

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
    hp_config_pos root_pos;
} hp__file_model;

typedef struct hp__redirect_model {
    int status; /* 302 by default */
    char *location;
    bool keep_path; /* false by default */
} hp__redirect_model;

typedef struct hp__proxy_model {
    hp_proxy_options options; /* `to` and `host_name` are set by build, from below */
    char **to;
    size_t to_count;
    char *host_name;
} hp__proxy_model;

#endif
