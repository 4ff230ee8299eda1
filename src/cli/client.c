/* The client verbs' shared part (client.h): options, the token file, calls, failures.
 *
 * A failure is reported in one place so that every verb says it the same way: no connection
 * is exit 3 with a hint about --admin; an answer that is not 2xx is exit 1 with the API's
 * error (status, code, message, then each detail indented), or the status line and the body
 * when the answer is not an API error (a 413 of the HTTP layer). */
#include "cli/client.h"

#include "cli/sse_reader.h"
#include "common/alloc.h"
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ---- */

static const char common_help[] =
    "\n"
    "options of every client command:\n"
    "  --admin ADDR       where the admin API listens: unix:PATH or HOST:PORT (default:\n"
    "                     $HOSTPOOL_ADMIN, else unix:hostpool.sock)\n"
    "  --token-file FILE  send its first line as the bearer token, for a TCP admin API\n"
    "                     (default: $HOSTPOOL_TOKEN_FILE)\n"
    "  --json             print the API's JSON answer instead of the human form\n"
    "exit status: 0 done, 1 the call failed (or a server it names did), 2 usage,\n"
    "3 the admin API cannot be reached\n";

int hp__client_usage_error(const hp__client *c, const hp__client_verb *verb, const char *message)
{
    return hp__usage_error(&verb->usage, "%s", message);
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

bool hp__client_init(hp__client *c, const hp__client_verb *verb, int argc, char **argv, int *status)
{
    *c = (hp__client){.verb = argv[0]};
    const char *admin = from_env("HOSTPOOL_ADMIN"), *token_file = from_env("HOSTPOOL_TOKEN_FILE");
    const hp__option common[] = {
        {.name = "--admin", .value = &admin},
        {.name = "--token-file", .value = &token_file},
        {.name = "--json", .set = &c->json},
        {0},
    };
    const hp__option *const tables[] = {common, verb->options, NULL};
    hp__usage usage = verb->usage;
    usage.common_help = common_help;
    hp__args args;
    if (!hp__options_read(&usage, tables, argc, argv, &args, status)) return false;
    c->args = args.items;
    c->arg_count = args.count;
    char why[300] = "";
    if (token_file && !(c->token = read_token(token_file, why, sizeof why))) {
        free(c->args);
        *status = hp__client_usage_error(c, verb, why);
        return false;
    }
    c->admin =
        (hp__admin_client){.address = admin ? admin : HP__CONFIG_ADMIN_LISTEN, .token = c->token};
    *status = HP__EXIT_OK;
    return true;
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

/* A 401: what to do about it, which depends on whether a token was sent. */
static void print_token_hint(const hp__client *c)
{
    if (c->token)
        fprintf(stderr, "  the token of --token-file (or $HOSTPOOL_TOKEN_FILE) is not the one "
                        "of the daemon's admin.token_file\n");
    else
        fprintf(stderr, "  this admin API needs its token: --token-file FILE (the daemon's "
                        "admin.token_file) or $HOSTPOOL_TOKEN_FILE\n");
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
    if (resp->status == 401) print_token_hint(c);
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

bool hp__client_add_query(char *buf, size_t cap, const char *prefix, const char *value)
{
    if (!value) return true;
    size_t used = strlen(buf);
    if ((size_t)snprintf(buf + used, cap - used, "%s=", prefix) >= cap - used) return false;
    return hp__client_escape(buf, cap, value);
}

static void feed_sse(const char *bytes, size_t len, void *sse)
{
    hp__sse_reader_feed(sse, bytes, len);
}

int hp__client_follow(hp__client *c, const char *path,
                      void (*on_event)(void *c, const char *event, const char *data))
{
    hp__sse_reader sse = {.on_event = on_event, .arg = c};
    hp__admin_request req = {.method = "GET", .path = path, .on_body = feed_sse, .arg = &sse};
    hp__admin_response resp;
    int status = hp__client_call(c, &req, &resp);
    if (status == HP__EXIT_OK) hp__admin_response_close(&resp);
    hp__sse_reader_close(&sse);
    return status;
}
