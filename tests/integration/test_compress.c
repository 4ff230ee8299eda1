/* Compression (docs/HTTP.md "Compression", "Precompressed files"), end to end: the real binary
 * runs a config with `compress` on a server and `precompressed` on its file route, and raw
 * requests (and curl --compressed) check what goes on the wire. Bodies are decoded here with
 * zlib and libbrotlidec and compared with the originals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hp_test.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PORT_MIN 28710
#define PORT_MAX 28729
#define TEXT_LEN 3000               /* a respond body: one call */
#define PAGE_LEN (100 * 1024)       /* a file past the cache's 16 KiB: read and encoded in chunks */
#define PRE_LEN (200 * 1024)        /* a file with .br and .gz beside it */
#define NOISE_LEN (4 * 1024 * 1024) /* text that does not compress: the socket fills */
#define CLIENT_RCVBUF (16 * 1024)

static hp_test_server srv;
static int front_port, origin_port;
static char text[TEXT_LEN + 1], page[PAGE_LEN], pre[PRE_LEN], *noise;
static char *pre_br, *pre_gz;
static size_t pre_br_len, pre_gz_len;
static char root[4200];

/* Words, so the text compresses as real text does, without being one repeated byte. */
static void fill_words(char *out, size_t len, unsigned seed)
{
    static const char *const words[] = {"pool ",   "server ",   "route ",  "gzip ",
                                        "brotli ", "hostpool ", "listen ", "worker "};
    size_t n = 0;
    while (n < len) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 8];
        for (; *w && n < len; w++) out[n++] = *w;
    }
}

static char *gzip_of(const char *in, size_t len, size_t *out_len)
{
    uLongf cap = compressBound(len) + 32;
    char *out = malloc(cap);
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static char *br_of(const char *in, size_t len, size_t *out_len)
{
    *out_len = BrotliEncoderMaxCompressedSize(len);
    char *out = malloc(*out_len);
    BrotliEncoderCompress(11, 22, BROTLI_MODE_TEXT, len, (const uint8_t *)in, out_len,
                          (uint8_t *)out);
    return out;
}

static int start_pool(void **state)
{
    const char *tmp = hp_test_temp_dir();
    fill_words(text, TEXT_LEN, 1);
    fill_words(page, PAGE_LEN, 2);
    fill_words(pre, PRE_LEN, 3);
    pre_br = br_of(pre, PRE_LEN, &pre_br_len);
    pre_gz = gzip_of(pre, PRE_LEN, &pre_gz_len);
    noise = malloc(NOISE_LEN);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < NOISE_LEN; i++) { /* xorshift64: printable, no repeating pattern */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[i] = (char)(' ' + x % 94);
    }
    snprintf(root, sizeof root, "%s/www", tmp);
    if (hp_test_write_file(root, "page.txt", page, PAGE_LEN) != 0 ||
        hp_test_write_file(root, "proxied/page.txt", page, PAGE_LEN) != 0 ||
        hp_test_write_file(root, "small.txt", text, 1000) != 0 ||
        hp_test_write_file(root, "pre.txt", pre, PRE_LEN) != 0 ||
        hp_test_write_file(root, "pre.txt.br", pre_br, pre_br_len) != 0 ||
        hp_test_write_file(root, "pre.txt.gz", pre_gz, pre_gz_len) != 0 ||
        hp_test_write_file(root, "gzonly.txt", pre, PRE_LEN) != 0 ||
        hp_test_write_file(root, "gzonly.txt.gz", pre_gz, pre_gz_len) != 0 ||
        hp_test_write_file(root, "noise.txt", noise, NOISE_LEN) != 0)
        return -1;
    origin_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    static char config[TEXT_LEN * 5 + 3 * sizeof root + 4096];
    snprintf(
        config, sizeof config,
        "workers: 1\n"
        "access_log: off\n"
        "servers:\n"
        "  - name: front\n"
        "    listen: 127.0.0.1:0\n"
        "    compress: { min_bytes: 100, level: 6 }\n"
        "    routes:\n"
        "      - match: { path: /text }\n"
        "        respond: { body: \"%s\", headers: { content-type: text/plain, etag: '\"v1\"' } }\n"
        "      - match: { path: /tiny }\n"
        "        respond: { body: \"short\", headers: { content-type: text/plain } }\n"
        "      - match: { path: /png }\n"
        "        respond: { body: \"%s\", headers: { content-type: image/png } }\n"
        "      - match: { path: /encoded }\n"
        "        respond: { body: \"%s\", headers: { content-type: text/plain, "
        "content-encoding: x-custom } }\n"
        "      - match: { path: /off }\n"
        "        compress: false\n"
        "        respond: { body: \"%s\", headers: { content-type: text/plain } }\n"
        "      - match: { path: /json }\n"
        "        compress: { types: [application/json], min_bytes: 2KiB }\n"
        "        respond: { body: \"%s\", headers: { content-type: application/json } }\n"
        "      - match: { path: /proxied/ }\n"
        "        proxy: { to: [127.0.0.1:%d] }\n"
        "      - file: { root: \"%s\", precompressed: true }\n"
        "  - name: origin\n"
        "    listen: 127.0.0.1:%d\n"
        "    routes:\n"
        "      - file: { root: \"%s\" }\n",
        text, text, text, text, text, origin_port, root, origin_port, root);
    char path[4200], admin[4200];
    snprintf(path, sizeof path, "%s/pool.yaml", tmp);
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", tmp);
    if (hp_test_write_file(tmp, "pool.yaml", config, strlen(config)) != 0 ||
        hp_test_server_startl(&srv, "run", "--config", path, "--admin", admin, NULL) != 0)
        return -1;
    front_port = srv.port;
    return hp_test_server_stdout_until(&srv, "(origin)", HP_TEST_DEADLINE_MS) ? 0 : -1;
}

static int stop_pool(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    free(pre_br);
    free(pre_gz);
    free(noise);
    return 0;
}

/* `method` `target` with the extra header lines `headers` ("" for none); *r to free. */
static void request(const char *method, const char *target, const char *headers,
                    hp_test_response *r)
{
    char req[1024];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", method,
             target, headers);
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, front_port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&c, req, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_read_response(&c, r, strcmp(method, "HEAD") == 0, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    hp_test_close(&c);
}

static void get(const char *target, const char *headers, hp_test_response *r)
{
    request("GET", target, headers, r);
}

static char *gunzip(const char *in, size_t len, size_t cap, size_t *out_len)
{
    char *out = malloc(cap);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* nothing after the gzip trailer */
    *out_len = cap - z.avail_out;
    inflateEnd(&z);
    return out;
}

static char *unbrotli(const char *in, size_t len, size_t cap, size_t *out_len)
{
    *out_len = cap;
    char *out = malloc(*out_len);
    assert_int_equal(BrotliDecoderDecompress(len, (const uint8_t *)in, out_len, (uint8_t *)out),
                     BROTLI_DECODER_RESULT_SUCCESS);
    return out;
}

/* The body of `r` decoded as its Content-Encoding says equals want[0..want_len). */
static void assert_decodes_to(const hp_test_response *r, const char *want, size_t want_len)
{
    const char *coding = hp_test_response_header(r, "content-encoding");
    assert_non_null(coding);
    size_t n;
    char *plain = strcmp(coding, "br") == 0 ? unbrotli(r->body, r->body_len, want_len + 1, &n)
                                            : gunzip(r->body, r->body_len, want_len + 1, &n);
    assert_int_equal(n, want_len);
    assert_memory_equal(plain, want, want_len);
    free(plain);
}

static void gzip_body_decodes_to_the_original_with_its_encoded_length(void **state)
{
    hp_test_response r;
    get("/text", "Accept-Encoding: gzip\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "gzip");
    assert_false(r.chunked);
    char length[32];
    snprintf(length, sizeof length, "%zu", r.body_len);
    assert_string_equal(hp_test_response_header(&r, "content-length"), length);
    assert_true(hp_test_response_header_has(&r, "vary", "accept-encoding"));
    assert_true(r.body_len < TEXT_LEN / 2);
    assert_decodes_to(&r, text, TEXT_LEN);
    hp_test_response_free(&r);
}

static void br_is_chosen_over_gzip_and_decodes_to_the_original(void **state)
{
    hp_test_response r;
    get("/text", "Accept-Encoding: gzip, deflate, br\r\n", &r);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "br");
    assert_decodes_to(&r, text, TEXT_LEN);
    hp_test_response_free(&r);
}

static void curl_compressed_gets_the_original_in_fewer_bytes(void **state)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/text", front_port);
    char *out;
    size_t len;
    const char *args[] = {"-sS", "--compressed", url, NULL};
    assert_int_equal(hp_test_curl(args, &out, &len, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(len, TEXT_LEN);
    assert_memory_equal(out, text, TEXT_LEN);
    free(out);
    const char *sized[] = {"-sS", "--compressed",     "-o", "/dev/null",
                           "-w",  "%{size_download}", url,  NULL};
    assert_int_equal(hp_test_curl(sized, &out, &len, HP_TEST_DEADLINE_MS), 0);
    assert_true(atol(out) > 0 && atol(out) < TEXT_LEN / 2);
    free(out);
}

static void identity_answer_of_a_compressible_type_still_varies(void **state)
{
    hp_test_response r;
    get("/text", "", &r);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_true(hp_test_response_header_has(&r, "vary", "accept-encoding"));
    assert_string_equal(hp_test_response_header(&r, "etag"), "\"v1\"");
    assert_int_equal(r.body_len, TEXT_LEN);
    hp_test_response_free(&r);
}

static void q_zero_refuses_a_coding(void **state)
{
    hp_test_response r;
    get("/text", "Accept-Encoding: br;q=0, gzip\r\n", &r);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "gzip");
    hp_test_response_free(&r);
    get("/text", "Accept-Encoding: br;q=0, gzip;q=0\r\n", &r);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_int_equal(r.body_len, TEXT_LEN);
    hp_test_response_free(&r);
}

static void tiny_bodies_and_other_types_are_not_compressed(void **state)
{
    hp_test_response r;
    get("/tiny", "Accept-Encoding: gzip, br\r\n", &r);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_string_equal(r.body, "short");
    hp_test_response_free(&r);
    get("/png", "Accept-Encoding: gzip, br\r\n", &r);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_null(hp_test_response_header(&r, "vary")); /* it never varies */
    assert_int_equal(r.body_len, TEXT_LEN);
    hp_test_response_free(&r);
}

static void already_encoded_bodies_are_left_alone(void **state)
{
    hp_test_response r;
    get("/encoded", "Accept-Encoding: gzip, br\r\n", &r);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "x-custom");
    assert_int_equal(hp_test_response_header_count(&r, "content-encoding"), 1);
    assert_int_equal(r.body_len, TEXT_LEN);
    hp_test_response_free(&r);
}

static void a_route_turns_off_or_replaces_its_servers_policy(void **state)
{
    hp_test_response r;
    get("/off", "Accept-Encoding: gzip\r\n", &r);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_null(hp_test_response_header(&r, "vary"));
    assert_int_equal(r.body_len, TEXT_LEN);
    hp_test_response_free(&r);
    /* min_bytes 2KiB of the route's own policy: its 3000 bytes of JSON are compressed */
    get("/json", "Accept-Encoding: gzip\r\n", &r);
    assert_decodes_to(&r, text, TEXT_LEN);
    hp_test_response_free(&r);
}

static void head_answers_the_headers_of_get(void **state)
{
    hp_test_response g, h;
    get("/text", "Accept-Encoding: gzip\r\n", &g);
    request("HEAD", "/text", "Accept-Encoding: gzip\r\n", &h);
    assert_string_equal(hp_test_response_header(&h, "content-encoding"), "gzip");
    assert_string_equal(hp_test_response_header(&h, "content-length"),
                        hp_test_response_header(&g, "content-length"));
    assert_string_equal(hp_test_response_header(&h, "etag"), hp_test_response_header(&g, "etag"));
    assert_int_equal(h.body_len, 0);
    hp_test_response_free(&g);
    hp_test_response_free(&h);
    /* a large file is encoded as it goes: its GET is chunked, so is the head of its HEAD */
    request("HEAD", "/page.txt", "Accept-Encoding: gzip\r\n", &h);
    assert_int_equal(h.status, 200);
    assert_string_equal(hp_test_response_header(&h, "content-encoding"), "gzip");
    assert_string_equal(hp_test_response_header(&h, "transfer-encoding"), "chunked");
    assert_null(hp_test_response_header(&h, "content-length"));
    hp_test_response_free(&h);
}

static void a_large_file_is_encoded_as_it_goes_chunked(void **state)
{
    hp_test_response r;
    get("/page.txt", "Accept-Encoding: gzip\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_true(r.chunked);
    assert_decodes_to(&r, page, PAGE_LEN);
    hp_test_response_free(&r);
    get("/page.txt", "Accept-Encoding: br\r\n", &r);
    assert_decodes_to(&r, page, PAGE_LEN);
    hp_test_response_free(&r);
}

static void encoded_variant_has_its_own_etag_that_if_none_match_matches(void **state)
{
    hp_test_response plain, gz, br, not_modified;
    get("/small.txt", "", &plain);
    get("/small.txt", "Accept-Encoding: gzip\r\n", &gz);
    get("/small.txt", "Accept-Encoding: br\r\n", &br);
    const char *etag = hp_test_response_header(&plain, "etag");
    const char *gz_etag = hp_test_response_header(&gz, "etag");
    assert_string_not_equal(etag, gz_etag);
    assert_string_not_equal(gz_etag, hp_test_response_header(&br, "etag"));
    assert_string_not_equal(etag, hp_test_response_header(&br, "etag"));
    assert_decodes_to(&gz, text, 1000);
    char headers[256];
    snprintf(headers, sizeof headers, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", gz_etag);
    get("/small.txt", headers, &not_modified);
    assert_int_equal(not_modified.status, 304);
    assert_string_equal(hp_test_response_header(&not_modified, "etag"), gz_etag);
    assert_true(hp_test_response_header_has(&not_modified, "vary", "accept-encoding"));
    hp_test_response_free(&not_modified);
    /* the identity's tag names another representation: the gzip one is sent whole */
    snprintf(headers, sizeof headers, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", etag);
    get("/small.txt", headers, &not_modified);
    assert_int_equal(not_modified.status, 200);
    hp_test_response_free(&not_modified);
    hp_test_response_free(&plain);
    hp_test_response_free(&gz);
    hp_test_response_free(&br);
}

static void a_range_request_is_answered_from_the_identity_body(void **state)
{
    hp_test_response r;
    get("/page.txt", "Accept-Encoding: gzip, br\r\nRange: bytes=10-19\r\n", &r);
    assert_int_equal(r.status, 206);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, page + 10, 10);
    hp_test_response_free(&r);
    get("/pre.txt", "Accept-Encoding: gzip, br\r\nRange: bytes=0-9\r\n", &r);
    assert_int_equal(r.status, 206);
    assert_null(hp_test_response_header(&r, "content-encoding"));
    assert_memory_equal(r.body, pre, 10);
    hp_test_response_free(&r);
}

static void precompressed_br_is_sent_as_it_is_on_disk(void **state)
{
    hp_test_response r, plain;
    get("/pre.txt", "Accept-Encoding: gzip, br\r\n", &r);
    get("/pre.txt", "", &plain);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "br");
    assert_string_equal(hp_test_response_header(&r, "content-type"), "text/plain; charset=utf-8");
    assert_true(hp_test_response_header_has(&r, "vary", "accept-encoding"));
    assert_false(r.chunked);
    assert_int_equal(r.body_len, pre_br_len);
    assert_memory_equal(r.body, pre_br, pre_br_len); /* the file's bytes, not a new encoding */
    assert_string_not_equal(hp_test_response_header(&r, "etag"),
                            hp_test_response_header(&plain, "etag"));
    assert_true(hp_test_response_header_has(&plain, "vary", "accept-encoding"));
    assert_int_equal(plain.body_len, PRE_LEN);
    hp_test_response_free(&r);
    hp_test_response_free(&plain);
}

static void precompressed_gz_is_sent_when_br_is_refused_or_missing(void **state)
{
    hp_test_response r;
    get("/pre.txt", "Accept-Encoding: br;q=0, gzip\r\n", &r);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "gzip");
    assert_int_equal(r.body_len, pre_gz_len);
    assert_memory_equal(r.body, pre_gz, pre_gz_len);
    hp_test_response_free(&r);
    get("/gzonly.txt", "Accept-Encoding: br, gzip;q=0.5\r\n", &r);
    assert_string_equal(hp_test_response_header(&r, "content-encoding"), "gzip");
    assert_int_equal(r.body_len, pre_gz_len);
    hp_test_response_free(&r);
}

static void a_proxied_stream_is_encoded_as_it_goes(void **state)
{
    hp_test_response r;
    get("/proxied/page.txt", "Accept-Encoding: gzip\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_true(r.chunked);
    assert_decodes_to(&r, page, PAGE_LEN);
    hp_test_response_free(&r);
}

static bool bytes_arrived(void *conn)
{
    return hp_test_pending_bytes(conn) > 0;
}

/* Writes wait for the client while the file is being encoded (HP__AFTER_ENCODE): the reader
 * that pauses still gets every byte, in order. */
static void an_encoded_file_waits_for_a_slow_reader_and_arrives_whole(void **state)
{
    hp_test_conn c;
    assert_int_equal(hp_test_connect_rcvbuf(&c, front_port, CLIENT_RCVBUF, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&c,
                                      "GET /noise.txt HTTP/1.1\r\nHost: x\r\n"
                                      "Accept-Encoding: br\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     0);
    assert_true(hp_test_poll_until(bytes_arrived, &c, HP_TEST_DEADLINE_MS));
    hp_test_pause_ms(300); /* pacing: the client does not read for a while */
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&c, &r, false, 30000), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_decodes_to(&r, noise, NOISE_LEN);
    hp_test_response_free(&r);
    hp_test_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gzip_body_decodes_to_the_original_with_its_encoded_length),
        cmocka_unit_test(br_is_chosen_over_gzip_and_decodes_to_the_original),
        cmocka_unit_test(curl_compressed_gets_the_original_in_fewer_bytes),
        cmocka_unit_test(identity_answer_of_a_compressible_type_still_varies),
        cmocka_unit_test(q_zero_refuses_a_coding),
        cmocka_unit_test(tiny_bodies_and_other_types_are_not_compressed),
        cmocka_unit_test(already_encoded_bodies_are_left_alone),
        cmocka_unit_test(a_route_turns_off_or_replaces_its_servers_policy),
        cmocka_unit_test(head_answers_the_headers_of_get),
        cmocka_unit_test(a_large_file_is_encoded_as_it_goes_chunked),
        cmocka_unit_test(encoded_variant_has_its_own_etag_that_if_none_match_matches),
        cmocka_unit_test(a_range_request_is_answered_from_the_identity_body),
        cmocka_unit_test(precompressed_br_is_sent_as_it_is_on_disk),
        cmocka_unit_test(precompressed_gz_is_sent_when_br_is_refused_or_missing),
        cmocka_unit_test(a_proxied_stream_is_encoded_as_it_goes),
        cmocka_unit_test(an_encoded_file_waits_for_a_slow_reader_and_arrives_whole),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
