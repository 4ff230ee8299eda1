/* file-server, driven by curl as a real client: files and their bytes, 404, HEAD, ranges,
 * conditional requests, content types, folder index, and path traversal refused (HEAD is
 * checked on a raw connection).
 *
 * The root holds a few small files; secret.txt lies next to the root, outside it, and must
 * never be served whatever the spelling of "..". curl runs with --path-as-is so it sends
 * dot segments as written instead of resolving them itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hp_test.h"

#define HELLO "Hello from a file\n"
#define SECRET "top secret, outside the root\n"
#define INDEX "<!doctype html><title>index</title>\n"

static hp_test_server srv;
static char dir[4096], root[4200];

static int start_server(void **state)
{
    snprintf(dir, sizeof dir, "%s/file-server", hp_test_temp_dir());
    snprintf(root, sizeof root, "%s/www", dir);
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    if (hp_test_write_file(dir, "secret.txt", SECRET, strlen(SECRET)) != 0 ||
        hp_test_write_file(root, "hello.txt", HELLO, strlen(HELLO)) != 0 ||
        hp_test_write_file(root, "index.html", INDEX, strlen(INDEX)) != 0 ||
        hp_test_write_file(root, "style.css", "body{}\n", 7) != 0 ||
        hp_test_write_file(root, "app.js", "let a=1;\n", 9) != 0 ||
        hp_test_write_file(root, "data.json", "{}\n", 3) != 0 ||
        hp_test_write_file(root, "image.png", png, sizeof png) != 0 ||
        hp_test_write_file(root, "sub/page.html", INDEX, strlen(INDEX)) != 0)
        return -1;
    return hp_test_server_startl(&srv, "file-server", "--listen", HP_TEST_LISTEN, "--root", root,
                                 "--no-access-log", NULL);
}

static int stop_server(void **state)
{
    hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS);
    return 0;
}

typedef struct fetched {
    int status;
    char *content_type;
    char *headers; /* as curl dumped them */
    char *body;
    size_t body_len;
} fetched;

/* Runs curl on `path` with `extra` arguments (up to 4, NULL-terminated list). */
static void fetch(fetched *f, const char *path, const char *extra1, const char *extra2)
{
    char url[1024], header_file[4200], body_file[4200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
    snprintf(header_file, sizeof header_file, "%s/curl-headers", dir);
    snprintf(body_file, sizeof body_file, "%s/curl-body", dir);
    remove(header_file);
    remove(body_file);
    const char *args[16] = {
        "-sS",       "--max-time", "5",       "--path-as-is", "-D",
        header_file, "-o",         body_file, "-w",           "%{http_code} %{content_type}"};
    size_t n = 10;
    if (extra1) args[n++] = extra1;
    if (extra2) args[n++] = extra2;
    args[n++] = url;
    args[n] = NULL;
    char *out = NULL;
    assert_int_equal(hp_test_curl(args, &out, NULL, 10000), 0);
    char *space = strchr(out, ' ');
    f->status = atoi(out);
    f->content_type = strdup(space ? space + 1 : "");
    free(out);
    f->headers = hp_test_read_file(header_file, NULL);
    if (f->headers == NULL) f->headers = strdup("");
    f->body = hp_test_read_file(body_file, &f->body_len);
    if (f->body == NULL) {
        f->body = strdup("");
        f->body_len = 0;
    }
}

static void fetched_free(fetched *f)
{
    free(f->content_type);
    free(f->headers);
    free(f->body);
}

/* The value of header `name` in the dumped headers (owned), or NULL. */
static char *header(const fetched *f, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *line = f->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (*v == ' ') v++;
            return strndup(v, end ? (size_t)(end - v) : strlen(v));
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

static void file_is_served_with_200_and_its_bytes(void **state)
{
    fetched f;
    fetch(&f, "/hello.txt", NULL, NULL);
    assert_int_equal(f.status, 200);
    assert_int_equal(f.body_len, strlen(HELLO));
    assert_string_equal(f.body, HELLO);
    fetched_free(&f);
}

static void missing_file_is_404(void **state)
{
    fetched f;
    fetch(&f, "/no-such-file.txt", NULL, NULL);
    assert_int_equal(f.status, 404);
    fetched_free(&f);
}

static void head_gives_the_headers_without_the_body(void **state)
{
    /* curl cannot tell whether a body followed the headers of a HEAD answer, so this one
     * uses a raw connection: a GET right after the HEAD would be misread if it had. */
    hp_test_conn conn;
    hp_test_response resp;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn,
                                      "HEAD /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n"
                                      "GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&conn, &resp, true, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_non_null(hp_test_response_header(&resp, "Content-Length"));
    assert_int_equal(atoi(hp_test_response_header(&resp, "Content-Length")), strlen(HELLO));
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, HELLO);
    hp_test_response_free(&resp);
    hp_test_close(&conn);
}

static void range_request_gets_206_with_the_slice(void **state)
{
    fetched f;
    fetch(&f, "/hello.txt", "--range", "0-4");
    assert_int_equal(f.status, 206);
    assert_string_equal(f.body, "Hello");
    char *range = header(&f, "Content-Range");
    assert_non_null(range);
    char expected[64];
    snprintf(expected, sizeof expected, "bytes 0-4/%zu", strlen(HELLO));
    assert_string_equal(range, expected);
    free(range);
    fetched_free(&f);
}

static void if_none_match_with_the_current_etag_gets_304(void **state)
{
    fetched first, second;
    fetch(&first, "/hello.txt", NULL, NULL);
    assert_int_equal(first.status, 200);
    char *etag = header(&first, "ETag");
    assert_non_null(etag);
    char condition[512];
    snprintf(condition, sizeof condition, "If-None-Match: %s", etag);
    fetch(&second, "/hello.txt", "-H", condition);
    assert_int_equal(second.status, 304);
    assert_int_equal(second.body_len, 0);
    free(etag);
    fetched_free(&first);
    fetched_free(&second);
}

static void assert_refused(const char *path)
{
    fetched f;
    fetch(&f, path, NULL, NULL);
    print_message("%s -> %d\n", path, f.status);
    assert_true(f.status == 400 || f.status == 403 || f.status == 404);
    assert_null(strstr(f.body, "top secret"));
    fetched_free(&f);
}

static void dot_dot_segments_cannot_leave_the_root(void **state)
{
    assert_refused("/../secret.txt");
    assert_refused("/sub/../../secret.txt");
}

static void percent_encoded_dot_dot_cannot_leave_the_root(void **state)
{
    assert_refused("/%2e%2e/secret.txt");
    assert_refused("/%2E%2E/secret.txt");
    assert_refused("/..%2fsecret.txt");
    assert_refused("/sub/%2e%2e%2f%2e%2e%2fsecret.txt");
}

static void content_type_follows_the_extension(void **state)
{
    static const struct {
        const char *path, *type_pattern;
    } files[] = {
        {"/hello.txt", "^text/plain"},       {"/index.html", "^text/html"},
        {"/style.css", "^text/css"},         {"/app.js", "^(text|application)/javascript"},
        {"/data.json", "^application/json"}, {"/image.png", "^image/png$"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        fetched f;
        fetch(&f, files[i].path, NULL, NULL);
        print_message("%s -> %s\n", files[i].path, f.content_type);
        assert_int_equal(f.status, 200);
        assert_true(hp_test_matches(f.content_type, files[i].type_pattern));
        fetched_free(&f);
    }
}

static void folder_is_answered_with_its_index_html(void **state)
{
    fetched f;
    fetch(&f, "/", NULL, NULL);
    assert_int_equal(f.status, 200);
    assert_string_equal(f.body, INDEX);
    fetched_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_is_served_with_200_and_its_bytes),
        cmocka_unit_test(missing_file_is_404),
        cmocka_unit_test(head_gives_the_headers_without_the_body),
        cmocka_unit_test(range_request_gets_206_with_the_slice),
        cmocka_unit_test(if_none_match_with_the_current_etag_gets_304),
        cmocka_unit_test(dot_dot_segments_cannot_leave_the_root),
        cmocka_unit_test(percent_encoded_dot_dot_cannot_leave_the_root),
        cmocka_unit_test(content_type_follows_the_extension),
        cmocka_unit_test(folder_is_answered_with_its_index_html),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
