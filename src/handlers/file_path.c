#include "handlers/file_path.h"

#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hp__file_path_from_request(hp_str path, char *out, size_t cap, size_t *len, bool *folder)
{
    if (path.len == 0 || path.base[0] != '/' || cap == 0) return 400;
    *folder = path.base[path.len - 1] == '/';
    size_t n = 0;
    size_t end = path.len - (*folder ? 1 : 0); /* "/" is the root: nothing to decode */
    for (size_t i = 1; i < end; i++) {
        char c = path.base[i];
        if (c == '%') {
            int hi = i + 2 < path.len ? hex_value(path.base[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(path.base[i + 2]) : -1;
            if (lo < 0) return 400;
            c = (char)(hi * 16 + lo);
            i += 2;
            if (c == '/') return 404; /* a name with a '/' in it: no such file */
        }
        if (c == '\0') return 400;
        if (n + 1 >= cap) return 414;
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

/* Appends `len` bytes of `src` at out[*n]; false when out[cap] (and its NUL) is full. */
static bool append(char *out, size_t cap, size_t *n, const char *src, size_t len)
{
    if (*n + len >= cap) return false;
    memcpy(out + *n, src, len);
    *n += len;
    return true;
}

size_t hp__file_path_folder_location(hp_str path, hp_str query, char *out, size_t cap)
{
    size_t n = 0;
    bool ok = append(out, cap, &n, path.base, path.len) && append(out, cap, &n, "/", 1) &&
              (query.len == 0 ||
               (append(out, cap, &n, "?", 1) && append(out, cap, &n, query.base, query.len)));
    if (!ok) return 0;
    out[n] = '\0';
    return n;
}
