/* Allocation that never returns NULL.
 *
 * Policy (as in redis and h2o): running out of memory is not a recoverable condition for a
 * server; every allocation goes through these wrappers, which print a message and abort.
 * Callers therefore never check for NULL. */
#ifndef HP_COMMON_ALLOC_H
#define HP_COMMON_ALLOC_H

#include <stddef.h>

void *hp__malloc(size_t size);
void *hp__calloc(size_t count, size_t size);
void *hp__realloc(void *ptr, size_t size);
char *hp__strdup(const char *s);
char *hp__strndup(const char *s, size_t len);
void *hp__memdup(const void *p, size_t len);

#define HP_NEW(type) ((type *)hp__calloc(1, sizeof(type)))

#endif
