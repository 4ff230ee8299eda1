/* Query strings of the admin API: "key=value&key2=value2", values percent-decoded. */
#include "admin/admin_internal.h"

#include "common/alloc.h"
#include "common/str.h"

#include <stdlib.h>
#include <string.h>

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void hp__admin_url_decode(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (*s == '+') {
            *out++ = ' ';
        } else if (*s == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
            *out++ = (char)(hex(s[1]) * 16 + hex(s[2]));
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

char *hp__admin_query_get(const char *query, const char *key)
{
    size_t key_len = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            char *value = hp__strndup(p + key_len + 1, len - key_len - 1);
            hp__admin_url_decode(value);
            return value;
        }
        p += len + (p[len] == '&');
    }
    return NULL;
}

bool hp__admin_query_number(hp__control_job *job, const char *key, uint64_t max, uint64_t absent,
                            uint64_t *out)
{
    char *value = hp__admin_query_get(job->query, key);
    *out = absent;
    bool ok = !value || hp__str_to_u64(hp__str(value, strlen(value)), max, out);
    if (!ok)
        hp__admin_answer_error(job, 400, "bad_query", NULL, "%s: \"%s\" is not a number up to %llu",
                               key, value, (unsigned long long)max);
    free(value);
    return ok;
}
