/* Content types by file extension. */
#ifndef HP_HANDLERS_MIME_H
#define HP_HANDLERS_MIME_H

#include <stddef.h>

/* The content type for `path` from its extension (case-insensitive);
 * "application/octet-stream" when unknown. Static string. */
const char *hp__mime_type(const char *path, size_t len);

#endif
