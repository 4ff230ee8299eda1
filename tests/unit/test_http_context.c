/* Per-worker HTTP context: request ids, Date line, buffer freelists (src/http/context.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/context.h"

#include <string.h>

static void generated_request_ids_are_20_hex_chars_and_unique(void **state)
{
    hp__http_context ctx;
    hp__http_context_init(&ctx, 3);
    char a[HP__REQUEST_ID_LEN], b[HP__REQUEST_ID_LEN];
    hp__http_request_id(&ctx, a);
    hp__http_request_id(&ctx, b);
    for (int i = 0; i < HP__REQUEST_ID_LEN; i++) assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_memory_not_equal(a, b, HP__REQUEST_ID_LEN);
    assert_memory_equal(a + 8, "03", 2); /* the worker index */
    hp__http_context_close(&ctx);
}

static void request_id_counter_counts_in_hex_with_carry(void **state)
{
    hp__http_context ctx;
    hp__http_context_init(&ctx, 0);
    char id[HP__REQUEST_ID_LEN];
    for (int i = 1; i <= 10; i++) hp__http_request_id(&ctx, id);
    assert_memory_equal(id + 10, "000000000a", 10);
    for (int i = 11; i <= 256; i++) hp__http_request_id(&ctx, id);
    assert_memory_equal(id + 10, "0000000100", 10);
    hp__http_context_close(&ctx);
}

static void date_line_is_an_imf_fixdate_header(void **state)
{
    hp__http_context ctx;
    hp__http_context_init(&ctx, 0);
    size_t len;
    const char *line = hp__http_date_line(&ctx, &len);
    assert_int_equal(len, strlen("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
    assert_memory_equal(line, "Date: ", 6);
    assert_memory_equal(line + len - 5, "GMT\r\n", 5);
    hp__http_context_close(&ctx);
}

static void buffers_come_back_from_the_freelist(void **state)
{
    hp__http_context ctx;
    hp__http_context_init(&ctx, 0);
    size_t cap;
    char *a = hp__http_buffer_get(&ctx, 5000, &cap);
    assert_int_equal(cap, 8192);
    hp__http_buffer_put(&ctx, a, cap);
    size_t cap2;
    char *b = hp__http_buffer_get(&ctx, 8000, &cap2);
    assert_ptr_equal(a, b);
    assert_int_equal(cap2, 8192);
    hp__http_buffer_put(&ctx, b, cap2);
    hp__http_context_close(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_request_ids_are_20_hex_chars_and_unique),
        cmocka_unit_test(request_id_counter_counts_in_hex_with_carry),
        cmocka_unit_test(date_line_is_an_imf_fixdate_header),
        cmocka_unit_test(buffers_come_back_from_the_freelist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
