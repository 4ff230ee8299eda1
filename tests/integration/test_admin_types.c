/* Every key of a server, and of the config, sent with every JSON type through the admin API
 * (POST /servers, PUT /servers/{name}, POST /config): the answer is a 400 whose details name
 * the key, or the change is made and the running config (GET /config) holds the checked form
 * of the value, never the value as sent (`"name": 5` is the server "5", held as "5"). The
 * daemon answers every call, and a server so added can be replaced and removed by its name.
 * A YAML `name: 5` is the server "5" for DELETE, POST /config and reloads of the file alike.
 *
 * The table gives, for each key, the seven values sent (a string valid for the key, a number,
 * 1.5, true, null, {}, []) and what the running config then holds for each: its JSON, or NULL
 * for a 400 naming the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test_admin.h"

#define VALUES 7

typedef struct typed_key {
    const char *route;          /* the one route of the server the key is set in (JSON) */
    const char *path;           /* the key, in the server object ("routes[0].respond.status") */
    const char *sent[2];        /* the string and the number sent (the other five are fixed) */
    const char *stored[VALUES]; /* what the running config holds after each; NULL: 400 */
} typed_key;

static const char *const fixed_values[VALUES] = {NULL, NULL, "1.5", "true", "null", "{}", "[]"};

#define RESPOND "{\"respond\":{\"body\":\"typed\"}}"
#define FILE_ROUTE "{\"file\":{\"root\":\".\"}}"
#define REDIRECT "{\"redirect\":{\"location\":\"/\"}}"
#define NO NULL /* refused: a 400 naming the key */

static const typed_key server_keys[] = {
    {RESPOND,
     "name",
     {"\"typed\"", "5"},
     {"\"typed\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    /* A port alone is an address (every interface): the number sent is one out of range. */
    {RESPOND, "listen", {"\"127.0.0.1:0\"", "70000"}, {"\"127.0.0.1:0\"", NO, NO, NO, NO, NO, NO}},
    {RESPOND,
     "listen[0]",
     {"\"127.0.0.1:0\"", "70000"},
     {"\"127.0.0.1:0\"", NO, NO, NO, NO, NO, NO}},
    {RESPOND,
     "expose",
     {"\"http://typed.test\"", "5"},
     {"\"http://typed.test\"", NO, NO, NO, NO, NO, NO}},
    {RESPOND,
     "hosts",
     {"\"typed.test\"", "5"},
     {"\"typed.test\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    {RESPOND,
     "hosts[0]",
     {"\"typed.test\"", "5"},
     {"\"typed.test\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    {RESPOND, "limits", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {RESPOND, "limits.header_timeout", {"\"5s\"", "5"}, {"\"5s\"", "5", NO, NO, NO, NO, NO}},
    {RESPOND, "limits.idle_timeout", {"\"5m\"", "5"}, {"\"5m\"", "5", NO, NO, NO, NO, NO}},
    {RESPOND, "limits.write_timeout", {"\"250ms\"", "5"}, {"\"250ms\"", "5", NO, NO, NO, NO, NO}},
    {RESPOND, "limits.drain_timeout", {"\"1h\"", "0"}, {"\"1h\"", "0", NO, NO, NO, NO, NO}},
    {RESPOND,
     "limits.max_header_bytes",
     {"\"16KiB\"", "4096"},
     {"\"16KiB\"", "4096", NO, NO, NO, NO, NO}},
    {RESPOND,
     "limits.max_target_bytes",
     {"\"1KiB\"", "512"},
     {"\"1KiB\"", "512", NO, NO, NO, NO, NO}},
    {RESPOND, "limits.max_body_bytes", {"\"1MiB\"", "5"}, {"\"1MiB\"", "5", NO, NO, NO, NO, NO}},
    {RESPOND, "limits.max_headers", {"\"5\"", "5"}, {NO, "5", NO, NO, NO, NO, NO}},
    {RESPOND, "limits.max_connections", {"\"5\"", "5"}, {NO, "5", NO, NO, NO, NO, NO}},
    {RESPOND, "routes", {"\"x\"", "5"}, {NO, NO, NO, NO, "null", NO, "[]"}},
    {RESPOND, "routes[0]", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, NO, NO}},
    {RESPOND, "routes[0].match", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {RESPOND, "routes[0].match.path", {"\"/x\"", "5"}, {"\"/x\"", NO, NO, NO, NO, NO, NO}},
    {RESPOND, "routes[0].match.methods", {"\"GET\"", "5"}, {"\"GET\"", NO, NO, NO, NO, NO, NO}},
    {RESPOND, "routes[0].match.methods[0]", {"\"GET\"", "5"}, {"\"GET\"", NO, NO, NO, NO, NO, NO}},
    {RESPOND, "routes[0].respond", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {RESPOND, "routes[0].respond.status", {"\"404\"", "404"}, {NO, "404", NO, NO, NO, NO, NO}},
    {RESPOND,
     "routes[0].respond.body",
     {"\"b\"", "5"},
     {"\"b\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    {RESPOND, "routes[0].respond.headers", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {RESPOND,
     "routes[0].respond.headers.x-typed",
     {"\"v\"", "5"},
     {"\"v\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    {FILE_ROUTE, "routes[0].file", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, NO, NO}},
    {FILE_ROUTE, "routes[0].file.root", {"\".\"", "5"}, {"\".\"", NO, NO, NO, NO, NO, NO}},
    {FILE_ROUTE,
     "routes[0].file.index",
     {"\"index.htm\"", "5"},
     {"\"index.htm\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    {REDIRECT, "routes[0].redirect", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, NO, NO}},
    {REDIRECT,
     "routes[0].redirect.location",
     {"\"/b\"", "5"},
     {"\"/b\"", "\"5\"", "\"1.5\"", "\"true\"", NO, NO, NO}},
    {REDIRECT, "routes[0].redirect.status", {"\"301\"", "301"}, {NO, "301", NO, NO, NO, NO, NO}},
    {REDIRECT,
     "routes[0].redirect.keep_path",
     {"\"on\"", "1"},
     {"true", NO, NO, "true", NO, NO, NO}},
    {"{\"metrics\":{}}", "routes[0].metrics", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {"{\"health\":{}}", "routes[0].health", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
};

/* The top level, through POST /config. Keys a reload cannot change are refused unless the
 * value is the running one (the daemon's config below). */
static const typed_key config_keys[] = {
    {NULL, "workers", {"\"auto\"", "1"}, {NO, "1", NO, NO, NO, NO, NO}},
    {NULL, "admin", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {NULL, "admin.listen", {"\"unix:other.sock\"", "5"}, {NO, NO, NO, NO, NO, NO, NO}},
    {NULL, "admin.token_file", {"\"token\"", "5"}, {NO, NO, NO, NO, NO, NO, NO}},
    {NULL, "ports", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {NULL, "ports.range", {"\"20000-20999\"", "5"}, {"\"20000-20999\"", NO, NO, NO, NO, NO, NO}},
    {NULL, "limits", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {NULL, "limits.max_servers", {"\"1000\"", "1000"}, {NO, "1000", NO, NO, NO, NO, NO}},
    {NULL, "limits.idle_timeout", {"\"75s\"", "75"}, {"\"75s\"", "75", NO, NO, NO, NO, NO}},
    {NULL, "health", {"\"x\"", "5"}, {NO, NO, NO, NO, NO, "{}", NO}},
    {NULL, "health.interval", {"\"2s\"", "2"}, {"\"2s\"", "2", NO, NO, NO, NO, NO}},
    {NULL, "health.rise", {"\"2\"", "2"}, {NO, "2", NO, NO, NO, NO, NO}},
    {NULL, "health.fall", {"\"3\"", "3"}, {NO, "3", NO, NO, NO, NO, NO}},
    {NULL, "access_log", {"\"off\"", "0"}, {"false", NO, NO, "true", NO, NO, NO}},
    {NULL, "pid_file", {"\"hostpool.pid\"", "5"}, {NO, NO, NO, NO, NO, NO, NO}},
    /* servers: null is no servers, which the running config holds as [] */
    {NULL, "servers", {"\"x\"", "5"}, {NO, NO, NO, NO, "[]", NO, "[]"}},
};

static hp_test_server srv;
static hp_test_admin admin;

/* ---- JSON paths: "routes[0].respond.status" ---- */

/* The next part of `path`: a key (into `key`) or an index (*index, key ""). */
static const char *next_part(const char *path, char *key, size_t cap, size_t *index)
{
    if (*path == '[') {
        *index = strtoul(path + 1, NULL, 10);
        key[0] = '\0';
        path = strchr(path, ']') + 1;
    } else {
        size_t len = strcspn(path, ".[");
        assert_true(len < cap);
        memcpy(key, path, len);
        key[len] = '\0';
        path += len;
    }
    return *path == '.' ? path + 1 : path;
}

/* Sets `path` in `root` to `value` (taken), making the objects and arrays on the way. */
static void json_set_path(json_t *root, const char *path, json_t *value)
{
    char key[64];
    size_t index = 0;
    const char *rest = next_part(path, key, sizeof key, &index);
    bool last = *rest == '\0';
    json_t *child = key[0] ? json_object_get(root, key) : json_array_get(root, index);
    if (!last) {
        bool want_array = *rest == '[';
        if (want_array ? !json_is_array(child) : !json_is_object(child)) {
            child = want_array ? json_array() : json_object();
            if (key[0])
                json_object_set_new(root, key, child);
            else
                json_array_set_new(root, index, child);
        }
        if (want_array && json_array_size(child) == 0) json_array_append_new(child, json_null());
        return json_set_path(child, rest, value);
    }
    if (key[0])
        json_object_set_new(root, key, value);
    else if (index < json_array_size(root))
        json_array_set_new(root, index, value);
    else
        json_array_append_new(root, value);
}

static json_t *json_get_path(json_t *root, const char *path)
{
    char key[64];
    size_t index = 0;
    while (root && *path) {
        path = next_part(path, key, sizeof key, &index);
        root = key[0] ? json_object_get(root, key) : json_array_get(root, index);
    }
    return root;
}

static json_t *parse(const char *text)
{
    json_t *json = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(json);
    return json;
}

/* The i-th value sent for key `k` (new). */
static json_t *value_of(const typed_key *k, int i)
{
    return parse(i < 2 ? k->sent[i] : fixed_values[i]);
}

/* ---- the calls ---- */

typedef hp_test_answer answer;

static answer call(const char *method, const char *path, const char *body)
{
    return hp_test_admin_call(&admin, method, path, NULL, body);
}

static answer call_json(const char *method, const char *path, const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    answer a = call(method, path, text);
    free(text);
    return a;
}

/* A 400 whose details name `path` (and every detail is a string). */
static void assert_refused(const answer *a, const char *path, const char *what)
{
    if (a->status != 400) fail_msg("%s: expected 400, got %d: %s", what, a->status, a->body);
    json_t *details = json_object_get(json_object_get(a->json, "error"), "details"), *d;
    size_t i;
    bool named = false;
    json_array_foreach(details, i, d)
    {
        assert_non_null(json_string_value(d));
        named = named || strstr(json_string_value(d), path);
    }
    if (!named) fail_msg("%s: no error names %s: %s", what, path, a->body);
}

/* The server `name` of the running config (new), or NULL. */
static json_t *running_server(const char *name)
{
    answer a = call("GET", "/config", NULL);
    assert_int_equal(a.status, 200);
    json_t *servers = json_object_get(a.json, "servers"), *s, *found = NULL;
    size_t i;
    json_array_foreach(servers, i, s)
    {
        assert_true(json_is_string(json_object_get(s, "name"))); /* every name a string */
        if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
            found = json_incref(s);
    }
    hp_test_answer_free(&a);
    return found;
}

/* The running config holds `stored` at `path` of server `name`. */
static void assert_stored(const char *name, const char *path, const char *stored, const char *what)
{
    json_t *server = running_server(name), *want = parse(stored);
    if (!server) fail_msg("%s: no server \"%s\" in the running config", what, name);
    json_t *got = json_get_path(server, path);
    if (!got || !json_equal(got, want)) {
        char *text = got ? json_dumps(got, JSON_ENCODE_ANY) : strdup("(nothing)");
        fail_msg("%s: the running config holds %s, not %s", what, text, stored);
    }
    json_decref(want);
    json_decref(server);
}

static void assert_absent(const char *name, const char *what)
{
    json_t *server = running_server(name);
    if (server) fail_msg("%s: server \"%s\" is still in the running config", what, name);
    answer a = call("GET", "/servers", NULL);
    json_t *s;
    size_t i;
    json_array_foreach(json_object_get(a.json, "servers"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
            fail_msg("%s: server \"%s\" is still in the pool", what, name);
    }
    hp_test_answer_free(&a);
}

static void remove_server(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/servers/%s", name);
    answer a = call("DELETE", path, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    assert_absent(name, path);
}

/* The server of key `k` with value `i` set (new). */
static json_t *server_with(const typed_key *k, int i)
{
    char text[512];
    snprintf(text, sizeof text, "{\"name\":\"typed\",\"listen\":\"127.0.0.1:0\",\"routes\":[%s]}",
             k->route);
    json_t *server = parse(text);
    json_set_path(server, k->path, value_of(k, i));
    return server;
}

/* The name a server with key `k` set to value `i` has once accepted. */
static const char *name_of(const typed_key *k, int i, char *buf, size_t cap)
{
    if (strcmp(k->path, "name") != 0) return "typed";
    json_t *name = parse(k->stored[i]);
    snprintf(buf, cap, "%s", json_string_value(name));
    json_decref(name);
    return buf;
}

/* ---- the daemon ---- */

static int start_daemon(void **state)
{
    static const char text[] = "workers: 1\n"
                               "access_log: off\n"
                               "servers:\n"
                               "  - name: web\n"
                               "    listen: 127.0.0.1:0\n"
                               "    routes: [ { respond: { body: web } } ]\n";
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    return hp_test_admin_start(&srv, config, &admin);
}

static int stop_daemon(void **state)
{
    return hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS);
}

/* ---- the tests ---- */

static void add_takes_every_key_checked_or_refuses_it_naming_the_key(void **state)
{
    for (size_t k = 0; k < sizeof server_keys / sizeof *server_keys; k++) {
        const typed_key *key = &server_keys[k];
        for (int i = 0; i < VALUES; i++) {
            char what[256], name_buf[64];
            json_t *server = server_with(key, i);
            char *sent = json_dumps(server, JSON_COMPACT);
            snprintf(what, sizeof what, "POST /servers %s", sent);
            free(sent);
            answer a = call_json("POST", "/servers", server);
            json_decref(server);
            if (!key->stored[i]) {
                assert_refused(&a, key->path, what);
                assert_absent("typed", what);
            } else {
                if (a.status != 201) fail_msg("%s: %d %s", what, a.status, a.body);
                const char *name = name_of(key, i, name_buf, sizeof name_buf);
                assert_string_equal(json_string_value(json_object_get(a.json, "name")), name);
                assert_stored(name, key->path, key->stored[i], what);
                remove_server(name);
            }
            hp_test_answer_free(&a);
        }
    }
}

static void replace_takes_every_key_checked_or_refuses_it_naming_the_key(void **state)
{
    for (size_t k = 0; k < sizeof server_keys / sizeof *server_keys; k++) {
        const typed_key *key = &server_keys[k];
        for (int i = 0; i < VALUES; i++) {
            char what[256], path[128], name_buf[64];
            /* The server replaced has the name the body gives once checked ("5" for 5). */
            const char *name =
                key->stored[i] ? name_of(key, i, name_buf, sizeof name_buf) : "typed";
            json_t *before = server_with(&server_keys[0], 0);
            json_object_set_new(before, "name", json_string(name));
            answer a = call_json("POST", "/servers", before);
            assert_int_equal(a.status, 201);
            hp_test_answer_free(&a);
            json_t *server = server_with(key, i);
            char *sent = json_dumps(server, JSON_COMPACT);
            snprintf(path, sizeof path, "/servers/%s", name);
            snprintf(what, sizeof what, "PUT %s %s", path, sent);
            free(sent);
            a = call_json("PUT", path, server);
            json_decref(server);
            if (!key->stored[i]) {
                assert_refused(&a, key->path, what);
                assert_stored(name, "routes[0].respond.body", "\"typed\"", what); /* unchanged */
            } else {
                if (a.status != 200) fail_msg("%s: %d %s", what, a.status, a.body);
                assert_stored(name, key->path, key->stored[i], what);
            }
            hp_test_answer_free(&a);
            json_decref(before);
            remove_server(name);
        }
    }
}

/* POST /config of the running config with `path` set to value `i` of `k`; `prefix` is where
 * the key sits in the document ("servers[1]." or ""). Returns the answer. */
static answer post_config_with(const json_t *running, const char *prefix, const typed_key *k, int i,
                               char *what, size_t cap)
{
    json_t *doc = json_deep_copy(running);
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, k->path);
    if (k->route) {
        json_array_append_new(json_object_get(doc, "servers"), server_with(k, i));
    } else {
        json_set_path(doc, full, value_of(k, i));
    }
    char *sent = json_dumps(doc, JSON_COMPACT);
    snprintf(what, cap, "POST /config %s", sent);
    free(sent);
    answer a = call_json("POST", "/config", doc);
    json_decref(doc);
    return a;
}

static json_t *running_config(void)
{
    answer a = call("GET", "/config", NULL);
    assert_int_equal(a.status, 200);
    json_t *doc = json_incref(a.json);
    hp_test_answer_free(&a);
    return doc;
}

static void restore(const json_t *running)
{
    answer a = call_json("POST", "/config", running);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    json_t *now = running_config();
    assert_true(json_equal(now, (json_t *)running));
    json_decref(now);
}

static void config_takes_every_key_checked_or_refuses_it_naming_the_key(void **state)
{
    json_t *running = running_config();
    size_t index = json_array_size(json_object_get(running, "servers"));
    char prefix[32], what[1024], full[256], name_buf[64];
    snprintf(prefix, sizeof prefix, "servers[%zu].", index);
    for (size_t k = 0; k < sizeof server_keys / sizeof *server_keys; k++) {
        const typed_key *key = &server_keys[k];
        for (int i = 0; i < VALUES; i++) {
            answer a = post_config_with(running, prefix, key, i, what, sizeof what);
            snprintf(full, sizeof full, "%s%s", prefix, key->path);
            if (!key->stored[i]) {
                assert_refused(&a, full, what);
                json_t *now = running_config();
                assert_true(json_equal(now, running)); /* nothing changed */
                json_decref(now);
            } else {
                if (a.status != 200) fail_msg("%s: %d %s", what, a.status, a.body);
                assert_stored(name_of(key, i, name_buf, sizeof name_buf), key->path, key->stored[i],
                              what);
                restore(running);
            }
            hp_test_answer_free(&a);
        }
    }
    for (size_t k = 0; k < sizeof config_keys / sizeof *config_keys; k++) {
        const typed_key *key = &config_keys[k];
        for (int i = 0; i < VALUES; i++) {
            answer a = post_config_with(running, "", key, i, what, sizeof what);
            if (!key->stored[i]) {
                assert_refused(&a, key->path, what);
            } else {
                if (a.status != 200) fail_msg("%s: %d %s", what, a.status, a.body);
                json_t *now = running_config(), *want = parse(key->stored[i]);
                json_t *got = json_get_path(now, key->path);
                if (!got || !json_equal(got, want))
                    fail_msg("%s: not held as %s", what, key->stored[i]);
                json_decref(want);
                json_decref(now);
                restore(running);
            }
            hp_test_answer_free(&a);
        }
    }
    json_decref(running);
}

/* ---- a YAML `name: 5` ---- */

static void write_pool(const char *name, bool with_five)
{
    char text[512];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: 127.0.0.1:0\n"
             "%s",
             with_five ? "  - name: 5\n"
                         "    listen: 127.0.0.1:0\n"
                         "    routes: [ { respond: { body: 200 } } ]\n"
                       : "");
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), name, text, strlen(text)), 0);
}

static json_t *reload_answer(const char *method, const char *path, const char *body)
{
    answer a = call(method, path, body);
    if (a.status != 200) fail_msg("%s %s: %d %s", method, path, a.status, a.body);
    json_t *json = json_incref(a.json);
    hp_test_answer_free(&a);
    return json;
}

static void assert_list(json_t *result, const char *key, const char *want)
{
    json_t *list = json_object_get(result, key);
    assert_int_equal(json_array_size(list), want ? 1 : 0);
    if (want) assert_string_equal(json_string_value(json_array_get(list, 0)), want);
}

static bool five_is_running(void *data)
{
    json_t *server = running_server("5");
    json_decref(server);
    return server != NULL;
}

static void a_yaml_number_name_is_the_same_server_for_delete_config_and_reload(void **state)
{
    write_pool("five.yaml", true);
    char config[4200];
    snprintf(config, sizeof config, "%s/five.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
    assert_stored("5", "name", "\"5\"", "GET /config");
    assert_stored("5", "routes[0].respond.body", "\"200\"", "GET /config");
    remove_server("5");

    /* The file still has it: a reload adds it back; one without it removes it. */
    json_t *r = reload_answer("POST", "/reload", NULL);
    assert_list(r, "added", "5");
    json_decref(r);
    assert_stored("5", "name", "\"5\"", "POST /reload");
    write_pool("five.yaml", false);
    r = reload_answer("POST", "/reload", NULL);
    assert_list(r, "removed", "5");
    json_decref(r);
    assert_absent("5", "POST /reload without it");

    /* Through POST /config: a JSON 5 is added as "5", and removed by a document without it. */
    json_t *doc = running_config();
    json_t *with = json_deep_copy(doc);
    json_array_append_new(json_object_get(with, "servers"),
                          parse("{\"name\":5,\"listen\":\"127.0.0.1:0\"}"));
    char *text = json_dumps(with, JSON_COMPACT);
    r = reload_answer("POST", "/config", text);
    free(text);
    assert_list(r, "added", "5");
    json_decref(r);
    assert_stored("5", "name", "\"5\"", "POST /config");
    text = json_dumps(doc, JSON_COMPACT);
    r = reload_answer("POST", "/config", text);
    free(text);
    assert_list(r, "removed", "5");
    json_decref(r);
    assert_absent("5", "POST /config without it");
    json_decref(with);
    json_decref(doc);

    /* SIGHUP reads the file again: the server comes back as "5". */
    write_pool("five.yaml", true);
    assert_int_equal(hp_test_server_signal(&srv, SIGHUP), 0);
    assert_true(hp_test_poll_until(five_is_running, NULL, HP_TEST_DEADLINE_MS));
    assert_stored("5", "name", "\"5\"", "SIGHUP");
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(add_takes_every_key_checked_or_refuses_it_naming_the_key,
                                        start_daemon, stop_daemon),
        cmocka_unit_test_setup_teardown(
            replace_takes_every_key_checked_or_refuses_it_naming_the_key, start_daemon,
            stop_daemon),
        cmocka_unit_test_setup_teardown(config_takes_every_key_checked_or_refuses_it_naming_the_key,
                                        start_daemon, stop_daemon),
        cmocka_unit_test(a_yaml_number_name_is_the_same_server_for_delete_config_and_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
