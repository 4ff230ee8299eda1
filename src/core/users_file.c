#include "core/users_file.h"

#include "common/alloc.h"
#include "core/password.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 1024

typedef struct user {
    char *name;
    size_t name_len;
    char *hash;
} user;

struct hp__users {
    user *users;
    size_t count, cap;
    char dummy[CRYPT_OUTPUT_SIZE];
};

static void report(hp__users_error_cb cb, void *data, int line, const char *fmt, const char *arg)
{
    char message[512];
    snprintf(message, sizeof message, fmt, arg);
    cb(data, line, message);
}

static bool name_valid(const char *name, size_t len)
{
    if (len == 0 || len > HP__USER_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) return false;
    return true;
}

static bool known_name(const hp__users *u, const char *name, size_t len)
{
    bool known;
    hp__users_hash(u, name, len, &known);
    return known;
}

/* One line without its newline; false when it is bad (reported). */
static bool read_line(hp__users *u, char *line, int number, hp__users_error_cb cb, void *data)
{
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[--len] = '\0';
    if (len == 0 || line[0] == '#') return true;
    char *colon = strchr(line, ':');
    if (!colon) {
        report(cb, data, number, "%s", "expected user:hash");
        return false;
    }
    *colon = '\0';
    size_t name_len = (size_t)(colon - line);
    const char *hash = colon + 1;
    if (!name_valid(line, name_len)) {
        report(cb, data, number, "%s", "a user name is 1 to 255 bytes without control characters");
        return false;
    }
    if (known_name(u, line, name_len)) {
        report(cb, data, number, "user \"%s\" is named twice", line);
        return false;
    }
    if (!hp__password_hash_supported(hash)) {
        report(cb, data, number,
               "the hash of \"%s\" is not yescrypt ($y$), bcrypt ($2b$) or sha512-crypt ($6$) as "
               "libcrypt reads them",
               line);
        return false;
    }
    if (u->count == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 8;
        u->users = hp__realloc(u->users, u->cap * sizeof *u->users);
    }
    u->users[u->count++] = (user){hp__strdup(line), name_len, hp__strdup(hash)};
    return true;
}

/* The dummy: the first user's setting on a fixed text, else a fresh yescrypt hash. */
static bool make_dummy(hp__users *u)
{
    if (u->count == 0)
        return hp__password_hash("hostpool: nobody", HP__PASSWORD_YESCRYPT, u->dummy);
    struct crypt_data *scratch = hp__calloc(1, sizeof *scratch);
    const char *out = crypt_rn("hostpool: nobody", u->users[0].hash, scratch, (int)sizeof *scratch);
    bool ok = out && out[0] == '$';
    if (ok) snprintf(u->dummy, sizeof u->dummy, "%s", out);
    free(scratch);
    return ok;
}

hp__users *hp__users_load(const char *path, hp__users_error_cb cb, void *data)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        report(cb, data, 0, "cannot read the users file: %s", strerror(errno));
        return NULL;
    }
    hp__users *u = HP_NEW(hp__users);
    char line[LINE_MAX_BYTES + 2];
    bool ok = true;
    int number = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') {
            line[len - 1] = '\0';
        } else if (!feof(f)) {
            report(cb, data, number, "%s", "a line is at most 1024 bytes");
            ok = false;
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') continue;
            continue;
        }
        ok &= read_line(u, line, number, cb, data);
    }
    fclose(f);
    if (ok && !make_dummy(u)) {
        report(cb, data, 0, "%s", "libcrypt cannot hash with the first user's setting");
        ok = false;
    }
    if (ok) return u;
    hp__users_free(u);
    return NULL;
}

void hp__users_free(hp__users *u)
{
    if (!u) return;
    for (size_t i = 0; i < u->count; i++) {
        free(u->users[i].name);
        free(u->users[i].hash);
    }
    free(u->users);
    free(u);
}

const char *hp__users_hash(const hp__users *u, const char *name, size_t len, bool *known)
{
    for (size_t i = 0; i < u->count; i++)
        if (u->users[i].name_len == len && memcmp(u->users[i].name, name, len) == 0) {
            *known = true;
            return u->users[i].hash;
        }
    *known = false;
    return u->dummy;
}
