#include "handlers/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct mime_entry {
    const char *ext;
    const char *type;
} mime_entry;

/* Sorted by extension (ASCII lowercase) for bsearch. */
static const mime_entry table[] = {
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/x-icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"ogg", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
};

static int compare(const void *key, const void *entry)
{
    return strcasecmp(key, ((const mime_entry *)entry)->ext);
}

const char *hp__mime_type(const char *path, size_t len)
{
    static const char fallback[] = "application/octet-stream";
    size_t dot = len;
    while (dot > 0 && path[dot - 1] != '.' && path[dot - 1] != '/') dot--;
    if (dot == 0 || path[dot - 1] != '.' || len - dot == 0 || len - dot > 7) return fallback;
    char ext[8];
    memcpy(ext, path + dot, len - dot);
    ext[len - dot] = '\0';
    const mime_entry *e =
        bsearch(ext, table, sizeof table / sizeof table[0], sizeof table[0], compare);
    return e ? e->type : fallback;
}
