/* The client verbs' shared part (client.h): options, the token file, calls, failures.
 *
 * A failure is reported in one place so that every verb says it the same way: no connection
 * is exit 3 with a hint about --admin; an answer that is not 2xx is exit 1 with the API's
 * error (status, code, message, then each detail indented), or the status line and the body
 * when the answer is not an API error (a 413 of the HTTP layer). */
#include "cli/client.h"

#include "common/alloc.h"
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ---- */

static const hp__client_flag *find_flag(const hp__client_flag *flags, const char *arg, size_t len)
{
    for (const hp__client_flag *f = flags; f && f->name; f++) {
        bool long_match = strlen(f->name) == len && strncmp(f->name, arg, len) == 0;
        bool short_match =
            f->short_name && strlen(f->short_name) == len && strncmp(f->short_name, arg, len) == 0;
        if (long_match || short_match) return f;
    }
    return NULL;
}

int hp__client_usage_error(const hp__client *c, const hp__client_verb *verb, const char *message)
{
    fprintf(stderr, "hostpool %s: %s\nusage: hostpool %s\n", c->verb, message, verb->usage);
    fprintf(stderr, "  common options: --admin ADDR  --token-file FILE  --json\n");
    return HP__EXIT_USAGE;
}

/* Reads one option at argv[*i] (and its value); sets `why` when it is unknown or lacks its
 * value. */
static void read_option(const hp__client_flag *const tables[2], int argc, char **argv, int *i,
                        char *why, size_t whylen)
{
    const char *arg = argv[*i], *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const hp__client_flag *f = find_flag(tables[0], arg, len);
    if (!f) f = find_flag(tables[1], arg, len);
    if (!f) {
        snprintf(why, whylen, "unknown option '%.*s'", (int)len, arg);
    } else if (f->set) {
        if (eq) snprintf(why, whylen, "%s takes no value", f->name);
        *f->set = true;
    } else {
        *f->value = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!*f->value) snprintf(why, whylen, "%s needs a value", f->name);
    }
}

/* The token file's first line, without its line break. NULL (and `why`) on failure. */
static char *read_token(const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "cannot read the token file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);
    fclose(f);
    if (len < 0) len = 0;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    char *token = hp__strndup(line ? line : "", (size_t)len);
    free(line);
    return token;
}

static const char *from_env(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] ? value : NULL;
}

int hp__client_init(hp__client *c, const hp__client_verb *verb, int argc, char **argv)
{
    *c = (hp__client){.verb = argv[0], .args = hp__calloc((size_t)argc, sizeof *c->args)};
    const char *admin = from_env("HOSTPOOL_ADMIN"), *token_file = from_env("HOSTPOOL_TOKEN_FILE");
    const hp__client_flag common[] = {
        {"--admin", NULL, &admin, NULL},
        {"--token-file", NULL, &token_file, NULL},
        {"--json", NULL, NULL, &c->json},
        {0},
    };
    const hp__client_flag *const tables[2] = {common, verb->flags};
    char why[300] = "";
    bool options_ended = false;
    for (int i = 1; i < argc && !why[0]; i++) {
        if (!options_ended && strcmp(argv[i], "--") == 0)
            options_ended = true;
        else if (!options_ended && argv[i][0] == '-' && argv[i][1] != '\0')
            read_option(tables, argc, argv, &i, why, sizeof why);
        else
            c->args[c->arg_count++] = argv[i];
    }
    if (!why[0] && (c->arg_count < verb->min_args || c->arg_count > verb->max_args))
        snprintf(why, sizeof why, "%s",
                 c->arg_count < verb->min_args ? "missing argument" : "too many arguments");
    if (!why[0] && token_file) c->token = read_token(token_file, why, sizeof why);
    if (why[0]) {
        free(c->args);
        return hp__client_usage_error(c, verb, why);
    }
    c->admin =
        (hp__admin_client){.address = admin ? admin : HP__CONFIG_ADMIN_LISTEN, .token = c->token};
    return HP__EXIT_OK;
}

void hp__client_close(hp__client *c)
{
    free(c->token);
    free(c->args);
}

/* ---- failures ---- */

static void print_api_error(const hp__client *c, int status, const json_t *error)
{
    fprintf(stderr, "hostpool: %s: %d %s: %s\n", c->verb, status,
            json_string_value(json_object_get(error, "code")),
            json_string_value(json_object_get(error, "message")));
    size_t i;
    json_t *detail;
    json_array_foreach(json_object_get(error, "details"), i, detail)
        fprintf(stderr, "  %s\n", json_string_value(detail));
}

/* The body of an answer that is not the API's error: its first line, if any. */
static void print_http_error(const hp__client *c, const hp__admin_response *resp)
{
    size_t line = strcspn(resp->body, "\r\n");
    fprintf(stderr, "hostpool: %s: %d %s%s%.*s\n", c->verb, resp->status, resp->reason,
            line ? ": " : "", (int)line, resp->body);
}

static int report_answer(const hp__client *c, const hp__admin_response *resp)
{
    if (c->json) fwrite(resp->body, 1, resp->body_len, stdout);
    json_t *body = json_loads(resp->body, 0, NULL);
    json_t *error = json_object_get(body, "error");
    if (json_is_string(json_object_get(error, "code")))
        print_api_error(c, resp->status, error);
    else
        print_http_error(c, resp);
    json_decref(body);
    return HP__EXIT_FAILED;
}

static int report_no_answer(const hp__client *c, hp__admin_result result, const char *err)
{
    if (result == HP__ADMIN_UNREACHABLE) {
        fprintf(stderr,
                "hostpool: cannot reach the admin API at %s: %s (is the daemon running? use "
                "--admin ADDR)\n",
                c->admin.address, err);
        return HP__EXIT_UNREACHABLE;
    }
    fprintf(stderr, "hostpool: %s: the admin API at %s: %s\n", c->verb, c->admin.address, err);
    return HP__EXIT_FAILED;
}

/* ---- calls ---- */

/* The call; a 2xx answer, or one with status `also_ok` (0: none), is not a failure. */
static int call(hp__client *c, const hp__admin_request *req, int also_ok, hp__admin_response *resp)
{
    char err[300];
    hp__admin_result result = hp__admin_exchange(&c->admin, req, resp, err, sizeof err);
    int status = HP__EXIT_OK;
    if (result != HP__ADMIN_OK)
        status = report_no_answer(c, result, err);
    else if ((resp->status < 200 || resp->status > 299) && resp->status != also_ok)
        status = report_answer(c, resp);
    if (status != HP__EXIT_OK) hp__admin_response_close(resp);
    return status;
}

int hp__client_call(hp__client *c, const hp__admin_request *req, hp__admin_response *resp)
{
    return call(c, req, 0, resp);
}

static int call_json(hp__client *c, const hp__admin_request *req, int also_ok, json_t **answer)
{
    *answer = NULL;
    hp__admin_response resp;
    int status = call(c, req, also_ok, &resp);
    if (status != HP__EXIT_OK) return status;
    if (c->json) fwrite(resp.body, 1, resp.body_len, stdout);
    if (!(*answer = json_loads(resp.body, 0, NULL))) {
        fprintf(stderr, "hostpool: %s: the answer is not JSON: %.200s\n", c->verb, resp.body);
        status = HP__EXIT_FAILED;
    }
    hp__admin_response_close(&resp);
    return status;
}

int hp__client_call_json(hp__client *c, const char *method, const char *path, const char *body,
                         json_t **answer)
{
    hp__admin_request req = {.method = method, .path = path, .body = body};
    return call_json(c, &req, 0, answer);
}

int hp__client_get_json(hp__client *c, const char *path, int also_ok, json_t **answer)
{
    hp__admin_request req = {.method = "GET", .path = path};
    return call_json(c, &req, also_ok, answer);
}

bool hp__client_escape(char *buf, size_t cap, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(buf);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (len + (plain ? 1 : 3) >= cap) return false;
        if (plain) {
            buf[len++] = (char)*p;
        } else {
            buf[len++] = '%';
            buf[len++] = hex[*p >> 4];
            buf[len++] = hex[*p & 15];
        }
    }
    buf[len] = '\0';
    return true;
}
