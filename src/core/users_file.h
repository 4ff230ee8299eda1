/* A users file of `basic_auth` (docs/CONFIG.md): one `user:hash` a line, the hash in a
 * crypt(3) format core/password.h accepts; blank lines and lines starting with '#' are
 * skipped. A user name is 1 to 255 bytes without ':' or control bytes, named once.
 *
 * Loading reports every bad line with its number and refuses the file if any is bad. It also
 * makes the dummy hash an unknown user is verified against: the first user's hash setting
 * (method, cost, salt) applied to a fixed text, so a name that is not in the file costs what
 * a user hashed like the first one costs (a file of one method and cost hides which names
 * exist).
 *
 * Immutable once loaded; its one owner (basic_auth.c's shared block, itself counted by the
 * route and each verification in flight) frees it.
 *
 * Threading: load on any thread (the control thread), read from any at once. */
#ifndef HP_CORE_USERS_FILE_H
#define HP_CORE_USERS_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define HP__USER_NAME_MAX 255

typedef struct hp__users hp__users;

/* Called once for each problem: `line` 0 for the file as a whole (it cannot be read). */
typedef void (*hp__users_error_cb)(void *data, int line, const char *message);

/* The users of `path`, or NULL after reporting every problem to `cb`. */
hp__users *hp__users_load(const char *path, hp__users_error_cb cb, void *data);
/* NULL: no-op. */
void hp__users_free(hp__users *users);

/* The hash of the user `name` (`len` bytes), or with *known false the dummy hash. Borrowed for
 * as long as `users` lives. */
const char *hp__users_hash(const hp__users *users, const char *name, size_t len, bool *known);

#endif
