/* Which name a request asks a switchboard for, and whether that name is allowed.
 *
 * A switchboard (issue 14) creates a server per name on demand. The name comes from, in order:
 *   1. the Host: the first of the `hosts:` patterns that matches gives the label that stands
 *      for `{name}` ("{name}.localhost" matches "Blog.localhost:8000." and gives "blog");
 *   2. else the value of the `fallback_header` (trimmed);
 *   3. else the `default` name;
 *   4. else none: 404.
 * Whatever gave it, the name is lower-cased, then allowed only if it is a safe label (1-63 of
 * [a-z0-9-], not starting or ending with '-'), THEN matches the optional `allow.name` regex.
 * The safe-label rule comes first and cannot be configured away: so "..", "/", "%2e", a NUL
 * or a space never reach a path, a command or an environment variable built from the name,
 * whatever the regex says. A Host that matches a pattern with an unsafe label is refused: it
 * does not fall through to the header or the default.
 *
 * The optional `allow.exists` template ("./sites/{name}") is expanded here into a path; this
 * file does no I/O: the caller checks that the path exists (stat, on the control thread) before
 * creating anything.
 *
 * Templates (command args, cwd, env values, roots, the exists path) hold placeholders
 * `{name}` and `{port}`. A placeholder is '{', an identifier ([A-Za-z_][A-Za-z0-9_]*) and '}';
 * any other brace is a literal byte. An unknown placeholder ("{nmae}") is an error, found when
 * the config is checked (hp__template_check), not when a process is started.
 *
 * Threads: a hp__switch_names is immutable once created; every function taking a const one
 * may be called from any thread. Note that glibc's regexec takes a lock internally: call
 * hp__switch_names_allow only when a name is not already a live server (its creation path),
 * not on every request. */
#ifndef HP_CORE_SWITCH_NAME_H
#define HP_CORE_SWITCH_NAME_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>

/* A name (one DNS label) and its NUL. */
#define HP__SWITCH_NAME_CAP 64

/* What a switchboard's `hosts`, `fallback_header`, `default` and `allow` say. Every pointer is
 * borrowed for the duration of hp__switch_names_create only; NULL (or a count of 0) = absent. */
typedef struct hp__switch_names_config {
    const char *const *hosts; /* patterns, each with exactly one {name} */
    size_t host_count;
    const char *fallback_header; /* a header name */
    const char *default_name;
    const char *allow_name;   /* a POSIX extended regex */
    const char *allow_exists; /* a template with {name} */
} hp__switch_names_config;

typedef struct hp__switch_names hp__switch_names;

/* Compiles `config`. Returns a new object, or NULL with the reason in err[errcap] (always
 * NUL-terminated; errcap > 0): a bad pattern ("hosts[1]: \"a.{name}.{name}\" has two
 * {name}"), a default name that is not a safe label, a regex that does not compile, an
 * exists template with an unknown placeholder. */
hp__switch_names *hp__switch_names_create(const hp__switch_names_config *config, char *err,
                                          size_t errcap);
void hp__switch_names_destroy(hp__switch_names *names); /* NULL: no-op */

/* The fallback header's name (borrowed), or NULL when there is none: the caller finds its
 * value in the request and passes it to hp__switch_names_choose. */
const char *hp__switch_names_header(const hp__switch_names *names);

/* The outcome of choosing a name. */
typedef enum hp__switch_name_result {
    HP__SWITCH_NAME_OK = 0,      /* name[] holds an allowed name (the exists check remains) */
    HP__SWITCH_NAME_NONE,        /* nothing gave a name: 404 */
    HP__SWITCH_NAME_UNSAFE,      /* not a safe label: 404 */
    HP__SWITCH_NAME_NOT_ALLOWED, /* refused by allow.name: 404 */
} hp__switch_name_result;

/* Chooses the name for a request with Host `host` (as sent, possibly with ":port" and a
 * trailing dot; len 0 = no Host) and fallback header value `header` (len 0 = absent; ignored
 * when no fallback header is configured), and
 * judges it: the safe-label rule, then allow.name. On HP__SWITCH_NAME_OK name[] holds the
 * lower-cased name. Both strings are borrowed and may hold any bytes, NUL included. */
hp__switch_name_result hp__switch_names_choose(const hp__switch_names *names, hp_str host,
                                               hp_str header, char name[HP__SWITCH_NAME_CAP]);

/* Whether `name` (already lower-cased) may be a switchboard name: a safe label, then allow.name.
 * hp__switch_names_choose calls it; exposed for names that come from elsewhere (the admin API
 * starting a name by hand). */
hp__switch_name_result hp__switch_names_allow(const hp__switch_names *names, const char *name);

/* A safe label: 1-63 of [a-z0-9-], not starting or ending with '-'. */
bool hp__switch_name_safe(const char *name);

/* The path `allow.exists` names for `name`, written to out[cap]. Returns 1 when there is no
 * exists rule (nothing to check), 0 with the path written, -1 when it does not fit. */
int hp__switch_names_exists_path(const hp__switch_names *names, const char *name, char *out,
                                 size_t cap);

/* The values a template's placeholders stand for. port 0: no port is known, and {port} is an
 * error (HP__TEMPLATE_NO_PORT). */
typedef struct hp__template_values {
    const char *name;
    unsigned port;
} hp__template_values;

typedef enum hp__template_result {
    HP__TEMPLATE_OK = 0,
    HP__TEMPLATE_UNKNOWN,  /* a placeholder other than {name} and {port} */
    HP__TEMPLATE_NO_PORT,  /* {port} where no port is known */
    HP__TEMPLATE_TOO_LONG, /* the result does not fit in cap */
} hp__template_result;

/* Writes `template` with its placeholders replaced into out[cap] (NUL-terminated; cap > 0).
 * On any error out[] is "", never a cut result.
 * On HP__TEMPLATE_UNKNOWN or HP__TEMPLATE_NO_PORT, *bad (when not NULL) is the offending
 * placeholder in `template`, braces included. */
hp__template_result hp__template_expand(const char *template, hp__template_values values, char *out,
                                        size_t cap, hp_str *bad);

/* Checks a template from a config: 0, or -1 with the reason in err[errcap] (an unknown
 * placeholder, named; {port} when `has_port` is false). */
int hp__template_check(const char *template, bool has_port, char *err, size_t errcap);

#endif
