#include "hp_test_admin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp_test_answer_free(hp_test_answer *a)
{
    json_decref(a->json);
    free(a->body);
    free(a->www_authenticate);
    free(a->allow);
    free(a->etag);
    memset(a, 0, sizeof *a);
}

static char *request_text(const hp_test_admin *admin, const char *method, const char *path,
                          const char *headers, const char *body)
{
    size_t len = body ? strlen(body) : 0;
    char auth[300] = "";
    if (admin->token) snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", admin->token);
    size_t head_cap = 1024 + (headers ? strlen(headers) : 0) + strlen(path);
    char *req = malloc(head_cap + len + 1);
    int head =
        snprintf(req, head_cap, "%s %s HTTP/1.1\r\nHost: admin\r\n%s%sContent-Length: %zu\r\n\r\n",
                 method, path, auth, headers ? headers : "", len);
    memcpy(req + head, body ? body : "", len + 1);
    return req;
}

static char *header_copy(const hp_test_response *r, const char *name)
{
    const char *value = hp_test_response_header(r, name);
    return value ? strdup(value) : NULL;
}

hp_test_answer hp_test_admin_call(const hp_test_admin *admin, const char *method, const char *path,
                                  const char *headers, const char *body)
{
    char *req = request_text(admin, method, path, headers, body);
    hp_test_response r;
    int rc = admin->socket_path[0]
                 ? hp_test_exchange_unix(admin->socket_path, req, &r, HP_TEST_DEADLINE_MS)
                 : hp_test_exchange(admin->port, req, &r, HP_TEST_DEADLINE_MS);
    free(req);
    assert_int_equal(rc, HP_TEST_OK);
    hp_test_answer a = {.status = r.status,
                        .body = strdup(r.body),
                        .json = json_loads(r.body, 0, NULL),
                        .www_authenticate = header_copy(&r, "WWW-Authenticate"),
                        .allow = header_copy(&r, "Allow"),
                        .etag = header_copy(&r, "ETag")};
    hp_test_response_free(&r);
    return a;
}

const char *hp_test_answer_error_code(const hp_test_answer *a)
{
    return json_string_value(json_object_get(json_object_get(a->json, "error"), "code"));
}

size_t hp_test_answer_error_details(const hp_test_answer *a)
{
    return json_array_size(json_object_get(json_object_get(a->json, "error"), "details"));
}

int hp_test_admin_start(hp_test_server *srv, const char *config, hp_test_admin *admin)
{
    memset(admin, 0, sizeof *admin);
    snprintf(admin->socket_path, sizeof admin->socket_path, "%s/admin.sock", hp_test_temp_dir());
    char address[4300];
    snprintf(address, sizeof address, "unix:%s", admin->socket_path);
    return hp_test_server_startl(srv, "run", "--config", config, "--admin", address, NULL);
}

int hp_test_admin_start_text(hp_test_server *srv, const char *text, hp_test_admin *admin)
{
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    if (hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)) != 0) return -1;
    return hp_test_admin_start(srv, config, admin);
}

void hp_test_assert_answers(int port, const char *host, const char *want)
{
    char request[256];
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
             host ? host : "hostpool.test");
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port, request, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(r.body, want);
    hp_test_response_free(&r);
}

void hp_test_assert_refuses(int port)
{
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, port, HP_TEST_DEADLINE_MS), -ECONNREFUSED);
}

typedef struct items_wanted {
    const hp_test_admin *admin;
    const char *path, *key;
    size_t count;
    hp_test_answer answer;
} items_wanted;

static bool has_items(void *data)
{
    items_wanted *w = data;
    hp_test_answer_free(&w->answer);
    w->answer = hp_test_admin_call(w->admin, "GET", w->path, NULL, NULL);
    return w->answer.status == 200 &&
           json_array_size(json_object_get(w->answer.json, w->key)) >= w->count;
}

hp_test_answer hp_test_admin_wait_items(const hp_test_admin *admin, const char *path,
                                        const char *key, size_t count)
{
    items_wanted w = {.admin = admin, .path = path, .key = key, .count = count};
    assert_true(hp_test_poll_until(has_items, &w, HP_TEST_DEADLINE_MS));
    return w.answer;
}

long long hp_test_metric(int port, const char *series)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(port, "GET /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n", &resp,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    size_t len = strlen(series);
    long long value = -1;
    for (const char *at = resp.body; (at = strstr(at, series)); at += len) {
        bool line_start = at == resp.body || at[-1] == '\n';
        if (line_start && at[len] == ' ') {
            value = atoll(at + len + 1);
            break;
        }
    }
    hp_test_response_free(&resp);
    return value;
}
