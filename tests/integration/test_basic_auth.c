/* `basic_auth: { realm, users }` on a route: 401 with the RFC 7617 challenge without
 * credentials, with a wrong password and for an unknown user; 200 for each hash format of the
 * users file (yescrypt, bcrypt, sha512-crypt, each made here with crypt_gensalt), again from
 * the worker's cache; the route's headers on its 401; a reload reads the users file again; a
 * hash in another format is refused by `validate` at the users file's line; the line
 * `hostpool hash-password` writes verifies with libcrypt. `hostpool run` on a config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/base64.h"
#include "hp_test_admin.h"

#define CHALLENGE "Basic realm=\"Private area\", charset=\"UTF-8\""

static hp_test_server srv;
static char users_path[4200];

/* "NAME:HASH\n" of `password` hashed with the method of `prefix` (cost: libcrypt's low end,
 * for speed) into line[size]. */
static void user_line(char *line, size_t size, const char *name, const char *prefix,
                      const char *password)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    unsigned long cost = strcmp(prefix, "$2b$") == 0 ? 4 : strcmp(prefix, "$6$") == 0 ? 1000 : 0;
    assert_non_null(crypt_gensalt_rn(prefix, cost, NULL, 0, setting, sizeof setting));
    struct crypt_data *data = calloc(1, sizeof *data);
    const char *hash = crypt_rn(password, setting, data, (int)sizeof *data);
    assert_non_null(hash);
    assert_int_equal(strncmp(hash, prefix, strlen(prefix)), 0);
    snprintf(line, size, "%s:%s\n", name, hash);
    free(data);
}

static void write_users(bool with_dave)
{
    char text[4096], a[512], b[512], c[512], d[512] = "";
    user_line(a, sizeof a, "alice", "$y$", "yes-pass");
    user_line(b, sizeof b, "bob", "$2b$", "b-pass");
    user_line(c, sizeof c, "carol", "$6$", "sha-pass");
    if (with_dave) user_line(d, sizeof d, "dave", "$y$", "new-pass");
    snprintf(text, sizeof text, "# the users of /priv/\n\n%s%s# sha512\n%s%s", a, b, c, d);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "users", text, strlen(text)), 0);
}

static int start_pool(void **state)
{
    char text[10000];
    const char *tmp = hp_test_temp_dir();
    write_users(false);
    snprintf(users_path, sizeof users_path, "%s/users", tmp);
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: site\n"
             "    listen: 127.0.0.1:0\n"
             "    routes:\n"
             "      - match: { path: /priv/ }\n"
             "        basic_auth: { realm: Private area, users: \"%s\" }\n"
             "        headers: { set: { X-Area: private } }\n"
             "        respond: { body: secret }\n"
             "      - respond: { body: public }\n",
             users_path);
    hp_test_admin admin; /* on a socket of the test's own */
    return hp_test_admin_start_text(&srv, text, &admin);
}

static int stop_pool(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

/* GET /priv/ as `user`:`password` (user NULL: no credentials); the status. */
static int get_as(const char *user, const char *password, hp_test_response *out)
{
    char cred[400] = "", request[1024];
    if (user) {
        char plain[200], encoded[HP__BASE64_LEN(sizeof plain) + 1];
        int n = snprintf(plain, sizeof plain, "%s:%s", user, password);
        hp__base64_encode(plain, (size_t)n, encoded);
        snprintf(cred, sizeof cred, "Authorization: Basic %s\r\n", encoded);
    }
    snprintf(request, sizeof request, "GET /priv/ HTTP/1.1\r\nHost: t\r\n%s\r\n", cred);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(srv.port, request, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    int status = r.status;
    if (out)
        *out = r;
    else
        hp_test_response_free(&r);
    return status;
}

static void without_credentials_401_with_the_challenge(void **state)
{
    hp_test_response r;
    assert_int_equal(get_as(NULL, NULL, &r), 401);
    assert_string_equal(hp_test_response_header(&r, "WWW-Authenticate"), CHALLENGE);
    assert_string_equal(hp_test_response_header(&r, "X-Area"), "private");
    assert_null(strstr(r.body, "secret"));
    hp_test_response_free(&r);
}

static void each_hash_format_lets_its_user_in(void **state)
{
    hp_test_response r;
    assert_int_equal(get_as("alice", "yes-pass", &r), 200);
    assert_string_equal(r.body, "secret");
    hp_test_response_free(&r);
    assert_int_equal(get_as("bob", "b-pass", NULL), 200);
    assert_int_equal(get_as("carol", "sha-pass", NULL), 200);
    for (int i = 0; i < 4; i++) /* again: a credential verified before, on either worker */
        assert_int_equal(get_as("alice", "yes-pass", NULL), 200);
}

static void a_wrong_password_is_401(void **state)
{
    hp_test_response r;
    assert_int_equal(get_as("alice", "yes-pass!", &r), 401);
    assert_string_equal(hp_test_response_header(&r, "WWW-Authenticate"), CHALLENGE);
    hp_test_response_free(&r);
    assert_int_equal(get_as("bob", "", NULL), 401);
    assert_int_equal(get_as("carol", "yes-pass", NULL), 401);
}

static void an_unknown_user_is_401(void **state)
{
    assert_int_equal(get_as("mallory", "yes-pass", NULL), 401);
    assert_int_equal(get_as("", "yes-pass", NULL), 401);
}

/* Clients that send credentials to verify and reset the connection at once (SO_LINGER 0: the
 * server hears it while the verification is on the threadpool): each verification comes back
 * to an exchange that ended, and must touch neither it nor anything freed with it (ASan). */
static void clients_that_leave_during_verification_leave_the_server_serving(void **state)
{
    enum { CLIENTS = 16 };
    hp_test_conn conns[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        char request[256];
        /* alice:wrong-N, so each is a new verification (none cached) */
        static const char *const tokens[] = {"YWxpY2U6d3JvbmctMQ==", "YWxpY2U6d3JvbmctMg=="};
        snprintf(request, sizeof request,
                 "GET /priv/ HTTP/1.1\r\nHost: t\r\nAuthorization: Basic %s\r\n\r\n",
                 tokens[i % 2]);
        assert_int_equal(hp_test_connect(&conns[i], srv.port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
        assert_int_equal(hp_test_send_str(&conns[i], request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    }
    for (int i = 0; i < CLIENTS; i++) {
        struct linger reset = {.l_onoff = 1, .l_linger = 0};
        assert_int_equal(setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
        hp_test_close(&conns[i]);
    }
    assert_int_equal(get_as("bob", "b-pass", NULL), 200);
    assert_int_equal(get_as("carol", "wrong", NULL), 401);
    assert_true(hp_test_server_running(&srv));
}

static bool dave_gets_in(void *data)
{
    return get_as("dave", "new-pass", NULL) == 200;
}

static void a_reload_reads_the_users_file_again(void **state)
{
    assert_int_equal(get_as("dave", "new-pass", NULL), 401);
    write_users(true);
    assert_int_equal(hp_test_server_signal(&srv, SIGHUP), 0);
    assert_true(hp_test_poll_until(dave_gets_in, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(get_as("alice", "yes-pass", NULL), 200);
}

static void validate_refuses_another_hash_format_at_its_line(void **state)
{
    char config[4200], text[8000];
    const char *tmp = hp_test_temp_dir();
    static const char users[] = "ok:$6$saltsalt$abc\n# md5 below\nold:$1$abc$0123456789\n";
    assert_int_equal(hp_test_write_file(tmp, "md5-users", users, strlen(users)), 0);
    snprintf(text, sizeof text,
             "servers:\n"
             "  - name: s\n"
             "    listen: 127.0.0.1:0\n"
             "    routes:\n"
             "      - basic_auth: { users: \"%s/md5-users\" }\n"
             "        respond: { body: ok }\n",
             tmp);
    snprintf(config, sizeof config, "%s/md5.yaml", tmp);
    assert_int_equal(hp_test_write_file(tmp, "md5.yaml", text, strlen(text)), 0);
    const char *argv[] = {hp_test_bin(), "validate", "--config", config, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 1);
    char where[4300];
    snprintf(where, sizeof where, "%s/md5-users:3:", tmp);
    if (!strstr(r.err, where) && !strstr(r.out, where))
        print_message("stdout: %s\nstderr: %s\n", r.out, r.err);
    assert_true(strstr(r.err, where) || strstr(r.out, where));
    hp_test_run_free(&r);
}

/* `hostpool hash-password --user erin [--method M]` with the password on stdin: its line. */
static void hash_password_line(const char *method, char *line, size_t size)
{
    const char *tmp = hp_test_temp_dir();
    char input[4300];
    snprintf(input, sizeof input, "%s/password", tmp);
    assert_int_equal(hp_test_write_file(tmp, "password", "erin's pass\n", 12), 0);
    const char *argv[] = {hp_test_bin(), "hash-password", "--user", "erin",
                          "--method",    method,          NULL};
    hp_test_run_result r = hp_test_run(argv, input, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    snprintf(line, size, "%s", r.out);
    hp_test_run_free(&r);
}

static void hash_password_writes_a_line_that_verifies(void **state)
{
    static const char *const methods[][2] = {
        {"yescrypt", "$y$"}, {"bcrypt", "$2b$"}, {"sha512", "$6$"}};
    for (size_t i = 0; i < 3; i++) {
        char line[512];
        hash_password_line(methods[i][0], line, sizeof line);
        assert_int_equal(strncmp(line, "erin:", 5), 0);
        char *hash = line + 5;
        hash[strcspn(hash, "\n")] = '\0';
        assert_int_equal(strncmp(hash, methods[i][1], strlen(methods[i][1])), 0);
        struct crypt_data *data = calloc(1, sizeof *data);
        assert_string_equal(crypt_rn("erin's pass", hash, data, (int)sizeof *data), hash);
        memset(data, 0, sizeof *data);
        assert_string_not_equal(crypt_rn("erin's pasS", hash, data, (int)sizeof *data), hash);
        free(data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_credentials_401_with_the_challenge),
        cmocka_unit_test(each_hash_format_lets_its_user_in),
        cmocka_unit_test(a_wrong_password_is_401),
        cmocka_unit_test(an_unknown_user_is_401),
        cmocka_unit_test(clients_that_leave_during_verification_leave_the_server_serving),
        cmocka_unit_test(a_reload_reads_the_users_file_again),
        cmocka_unit_test(validate_refuses_another_hash_format_at_its_line),
        cmocka_unit_test(hash_password_writes_a_line_that_verifies),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
