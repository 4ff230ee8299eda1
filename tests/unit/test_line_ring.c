/* The ring of a process's output lines (src/core/line_ring.c): lines cut from pieces of any
 * size, per stream, "\n" and "\r\n", the cut of long lines, flush at EOF, both limits, sequence
 * numbers and reads after S across the wrap, the dropped and missed counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/line_ring.h"
#include "hostpool/errors.h"

#include <stdio.h>
#include <string.h>

#define OUT HP__LINE_RING_STDOUT
#define ERR HP__LINE_RING_STDERR

static void init(hp__line_ring *ring, uint32_t max_lines, uint32_t max_line_bytes, size_t max_bytes)
{
    hp__line_ring_config config = {max_lines, max_line_bytes, max_bytes};
    assert_int_equal(hp__line_ring_init(ring, &config), 0);
}

static void feed(hp__line_ring *ring, hp__line_ring_stream stream, const char *text)
{
    hp__line_ring_feed(ring, stream, text, strlen(text), 0);
}

static hp__line_ring_line line(const hp__line_ring *ring, uint64_t seq)
{
    hp__line_ring_line l;
    assert_true(hp__line_ring_read(ring, seq, &l));
    assert_int_equal(l.seq, seq);
    return l;
}

static void assert_line(const hp__line_ring *ring, uint64_t seq, hp__line_ring_stream stream,
                        const char *text, bool truncated)
{
    hp__line_ring_line l = line(ring, seq);
    assert_int_equal(l.stream, stream);
    assert_int_equal(l.len, strlen(text));
    assert_memory_equal(l.text, text, l.len);
    assert_int_equal(l.truncated, truncated);
}

/* Limit 8: short, empty, CRLF, exact, cut, "\r" held at the cut; 8 lines. */
static const char pieces_input[] = "one\n\ntwo\r\nabcdefgh\r\n"
                                   "a line far longer than eight\nend\r\nabcdefgh\rx\nlast";

/* The input fed whole and in pieces of every size gives the same lines, within max_bytes. */
static hp__line_ring feed_in_pieces_of_every_size(size_t max_bytes)
{
    size_t len = sizeof pieces_input - 1;
    hp__line_ring whole;
    init(&whole, 100, 8, max_bytes);
    hp__line_ring_feed(&whole, OUT, pieces_input, len, 0);
    hp__line_ring_flush(&whole, OUT, 0);
    assert_int_equal(hp__line_ring_next_seq(&whole), 9);

    for (size_t piece = 1; piece <= len; piece++) {
        hp__line_ring ring;
        init(&ring, 100, 8, max_bytes);
        for (size_t at = 0; at < len; at += piece)
            hp__line_ring_feed(&ring, OUT, pieces_input + at, at + piece <= len ? piece : len - at,
                               0);
        hp__line_ring_flush(&ring, OUT, 0);
        assert_int_equal(hp__line_ring_next_seq(&ring), hp__line_ring_next_seq(&whole));
        assert_int_equal(hp__line_ring_first_seq(&ring), hp__line_ring_first_seq(&whole));
        for (uint64_t seq = hp__line_ring_first_seq(&whole); seq < 9; seq++) {
            hp__line_ring_line a = line(&whole, seq), b = line(&ring, seq);
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.text, b.text, a.len);
            assert_int_equal(a.truncated, b.truncated);
        }
        hp__line_ring_close(&ring);
    }
    return whole;
}

static void pieces_of_any_size_give_the_same_lines(void **state)
{
    hp__line_ring ring = feed_in_pieces_of_every_size(256);
    assert_int_equal(hp__line_ring_first_seq(&ring), 1);
    assert_line(&ring, 1, OUT, "one", false);
    assert_line(&ring, 2, OUT, "", false);
    assert_line(&ring, 3, OUT, "two", false);
    assert_line(&ring, 4, OUT, "abcdefgh", false);
    assert_line(&ring, 5, OUT, "a line f", true);
    assert_line(&ring, 6, OUT, "end", false);
    assert_line(&ring, 7, OUT, "abcdefgh", true);
    assert_line(&ring, 8, OUT, "last", false);
    hp__line_ring_close(&ring);

    /* In a 12-byte arena, which wraps at nearly every line, the last two fit. */
    ring = feed_in_pieces_of_every_size(12);
    assert_int_equal(hp__line_ring_first_seq(&ring), 7);
    assert_line(&ring, 7, OUT, "abcdefgh", true);
    assert_line(&ring, 8, OUT, "last", false);
    hp__line_ring_close(&ring);
}

static void lf_and_crlf_end_lines_and_a_lone_cr_is_text(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 64, 256);
    feed(&ring, OUT, "unix\ndos\r\nbare\rcr\nboth\r\r\n");
    assert_int_equal(hp__line_ring_count(&ring), 4);
    assert_line(&ring, 1, OUT, "unix", false);
    assert_line(&ring, 2, OUT, "dos", false);
    assert_line(&ring, 3, OUT, "bare\rcr", false);
    assert_line(&ring, 4, OUT, "both\r", false);
    hp__line_ring_close(&ring);
}

static void nul_control_and_non_utf8_bytes_are_kept_as_they_are(void **state)
{
    static const char bytes[] = {'a', '\0', 'b', '\x1b', '[', '\xff', '\xc3', '\n'};
    hp__line_ring ring;
    init(&ring, 10, 64, 256);
    hp__line_ring_feed(&ring, ERR, bytes, sizeof bytes, 0);
    hp__line_ring_line l = line(&ring, 1);
    assert_int_equal(l.len, sizeof bytes - 1);
    assert_memory_equal(l.text, bytes, sizeof bytes - 1);
    hp__line_ring_close(&ring);
}

static void a_long_line_keeps_its_first_max_line_bytes_and_is_marked_truncated(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 4, 64);
    feed(&ring, OUT, "abcdefghij\nnext\n");
    assert_int_equal(hp__line_ring_count(&ring), 2);
    assert_line(&ring, 1, OUT, "abcd", true);
    assert_line(&ring, 2, OUT, "next", false);
    hp__line_ring_close(&ring);
}

static void a_cut_line_is_recorded_at_its_first_extra_byte_and_its_rest_dropped(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 4, 64);
    feed(&ring, OUT, "abcd");
    assert_int_equal(hp__line_ring_count(&ring), 0); /* it may still end here */
    feed(&ring, OUT, "e");
    assert_int_equal(hp__line_ring_count(&ring), 1);
    assert_line(&ring, 1, OUT, "abcd", true);
    feed(&ring, OUT, "fghijklmnop");
    feed(&ring, OUT, "qrstuvwxyz\r\n");
    feed(&ring, OUT, "xy\n");
    assert_int_equal(hp__line_ring_count(&ring), 2);
    assert_line(&ring, 2, OUT, "xy", false);
    hp__line_ring_close(&ring);
}

static void a_line_of_exactly_max_line_bytes_is_whole_with_lf_or_crlf(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 4, 64);
    feed(&ring, OUT, "abcd\nefgh\r");
    feed(&ring, OUT, "\nijkl\r\rz\nmnop\rq\n");
    assert_int_equal(hp__line_ring_count(&ring), 4);
    assert_line(&ring, 1, OUT, "abcd", false);
    assert_line(&ring, 2, OUT, "efgh", false);
    assert_line(&ring, 3, OUT, "ijkl", true);
    assert_line(&ring, 4, OUT, "mnop", true);
    hp__line_ring_close(&ring);
}

static void each_stream_keeps_its_own_partial_line(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 64, 256);
    feed(&ring, OUT, "out ");
    feed(&ring, ERR, "err ");
    feed(&ring, OUT, "one\nout ");
    feed(&ring, ERR, "one\r");
    feed(&ring, OUT, "two");
    feed(&ring, ERR, "\nerr two\n");
    feed(&ring, OUT, "\n");
    assert_int_equal(hp__line_ring_count(&ring), 4);
    assert_line(&ring, 1, OUT, "out one", false);
    assert_line(&ring, 2, ERR, "err one", false);
    assert_line(&ring, 3, ERR, "err two", false);
    assert_line(&ring, 4, OUT, "out two", false);
    hp__line_ring_close(&ring);
}

static void flush_at_eof_records_the_partial_line_of_that_stream_only(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 4, 64);
    feed(&ring, OUT, "done\nhalf\r");
    feed(&ring, ERR, "err");
    hp__line_ring_flush(&ring, OUT, 0);
    assert_int_equal(hp__line_ring_count(&ring), 2);
    assert_line(&ring, 2, OUT, "half", true); /* the "\r" was a fifth byte of text */
    hp__line_ring_flush(&ring, OUT, 0);
    assert_int_equal(hp__line_ring_count(&ring), 2); /* nothing left to flush */
    hp__line_ring_flush(&ring, ERR, 0);
    assert_line(&ring, 3, ERR, "err", false);
    feed(&ring, ERR, "ab\r");
    hp__line_ring_flush(&ring, ERR, 0);
    assert_line(&ring, 4, ERR, "ab\r", false);
    feed(&ring, OUT, "cut here");
    hp__line_ring_flush(&ring, OUT, 0); /* recorded at the cut, nothing more at EOF */
    assert_int_equal(hp__line_ring_count(&ring), 5);
    assert_line(&ring, 5, OUT, "cut ", true);
    feed(&ring, OUT, "new\n"); /* a restarted process starts a new line */
    assert_line(&ring, 6, OUT, "new", false);
    hp__line_ring_close(&ring);
}

static void a_line_carries_the_time_of_the_bytes_that_completed_it(void **state)
{
    hp__line_ring ring;
    init(&ring, 10, 4, 64);
    hp__line_ring_feed(&ring, OUT, "ab", 2, 100);
    hp__line_ring_feed(&ring, OUT, "c\nd", 3, 200);
    hp__line_ring_feed(&ring, OUT, "efgh", 4, 300);
    hp__line_ring_flush(&ring, ERR, 400);
    hp__line_ring_flush(&ring, OUT, 500);
    assert_int_equal(hp__line_ring_count(&ring), 2);
    assert_int_equal(line(&ring, 1).time, 200);
    assert_int_equal(line(&ring, 2).time, 300); /* cut when "h" came */
    hp__line_ring_close(&ring);
}

static void at_most_max_lines_are_kept_and_the_oldest_go_first(void **state)
{
    hp__line_ring ring;
    init(&ring, 3, 16, 1024);
    feed(&ring, OUT, "1\n2\n3\n4\n5\n");
    assert_int_equal(hp__line_ring_count(&ring), 3);
    assert_int_equal(hp__line_ring_first_seq(&ring), 3);
    hp__line_ring_line l;
    assert_false(hp__line_ring_read(&ring, 2, &l));
    assert_line(&ring, 3, OUT, "3", false);
    assert_line(&ring, 5, OUT, "5", false);
    assert_false(hp__line_ring_read(&ring, 6, &l));
    hp__line_ring_close(&ring);
}

/* Line `seq` of the byte-budget test: its length varies, its text says its number. */
static size_t numbered_line(uint64_t seq, char *out, uint32_t max_line_bytes)
{
    size_t len = (seq * 7919) % (max_line_bytes + 1);
    for (size_t i = 0; i < len; i++) out[i] = (char)('a' + (seq + i) % 26);
    return len;
}

static void the_text_kept_stays_within_max_bytes_and_the_newest_lines_are_intact(void **state)
{
    enum { MAX_LINE = 40, MAX_BYTES = 200, LINES = 2000 };
    hp__line_ring ring;
    init(&ring, 1000, MAX_LINE, MAX_BYTES);
    char text[MAX_LINE + 1];
    for (uint64_t seq = 1; seq <= LINES; seq++) {
        size_t len = numbered_line(seq, text, MAX_LINE);
        text[len] = '\n';
        hp__line_ring_feed(&ring, OUT, text, len + 1, seq);

        size_t kept = 0;
        for (uint64_t s = hp__line_ring_first_seq(&ring); s <= seq; s++) {
            hp__line_ring_line l = line(&ring, s);
            char expected[MAX_LINE];
            assert_int_equal(l.len, numbered_line(s, expected, MAX_LINE));
            assert_memory_equal(l.text, expected, l.len);
            assert_int_equal(l.time, s);
            /* Contiguous in the arena: a text never crosses its end. */
            assert_true(l.text >= ring.arena && l.text + l.len <= ring.arena + MAX_BYTES);
            kept += l.len;
        }
        assert_true(kept <= MAX_BYTES);
        /* The line dropped last did not fit with the newest within the guaranteed bound. */
        uint64_t first = hp__line_ring_first_seq(&ring);
        if (first > 1) {
            char dropped[MAX_LINE];
            size_t with_dropped = kept + numbered_line(first - 1, dropped, MAX_LINE);
            assert_true(with_dropped > MAX_BYTES - MAX_LINE + 1);
        }
    }
    assert_int_equal(hp__line_ring_next_seq(&ring), LINES + 1);
    hp__line_ring_close(&ring);
}

static void reads_after_s_resume_across_the_wrap_and_count_what_was_missed(void **state)
{
    hp__line_ring ring;
    init(&ring, 4, 8, 64);
    assert_int_equal(hp__line_ring_first_seq_after(&ring, 0), 1); /* nothing yet */
    assert_int_equal(hp__line_ring_next_seq(&ring), 1);
    char text[16];
    for (int i = 1; i <= 10; i++) {
        snprintf(text, sizeof text, "L%d\n", i);
        feed(&ring, i % 2 ? OUT : ERR, text);
    }
    /* Kept: 7..10, in entries that went round the circle twice. */
    assert_int_equal(hp__line_ring_first_seq(&ring), 7);
    assert_int_equal(hp__line_ring_dropped(&ring), 6);

    /* A follower that saw 8 reads 9 and 10 and missed nothing. */
    assert_int_equal(hp__line_ring_first_seq_after(&ring, 8), 9);
    assert_int_equal(hp__line_ring_missed_after(&ring, 8), 0);
    assert_line(&ring, 9, OUT, "L9", false);
    assert_line(&ring, 10, ERR, "L10", false);

    /* One that saw 3 missed 4, 5 and 6 and resumes at 7. */
    assert_int_equal(hp__line_ring_first_seq_after(&ring, 3), 7);
    assert_int_equal(hp__line_ring_missed_after(&ring, 3), 3);
    assert_int_equal(hp__line_ring_missed_after(&ring, 0), 6);
    assert_line(&ring, 7, OUT, "L7", false);

    /* One that saw everything waits for 11. */
    assert_int_equal(hp__line_ring_first_seq_after(&ring, 10), 11);
    assert_int_equal(hp__line_ring_missed_after(&ring, 10), 0);
    hp__line_ring_line l;
    assert_false(hp__line_ring_read(&ring, 11, &l));
    feed(&ring, OUT, "L11\n");
    assert_line(&ring, 11, OUT, "L11", false);
    assert_int_equal(hp__line_ring_dropped(&ring), 7);
    hp__line_ring_close(&ring);
}

static void a_config_out_of_bounds_is_refused(void **state)
{
    hp__line_ring_config config;
    hp__line_ring_config_default(&config);
    assert_int_equal(config.max_lines, 1000);
    assert_int_equal(config.max_line_bytes, 4096);
    assert_int_equal(hp__line_ring_config_check(&config), 0);
    hp__line_ring ring;
    hp__line_ring_config bad[] = {
        {0, 16, 64},
        {10, 0, 64},
        {10, 16, 15},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hp__line_ring_init(&ring, &bad[i]), HP_EINVAL);
    assert_int_equal(hp__line_ring_init(&ring, &config), 0);
    hp__line_ring_close(&ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_of_any_size_give_the_same_lines),
        cmocka_unit_test(lf_and_crlf_end_lines_and_a_lone_cr_is_text),
        cmocka_unit_test(nul_control_and_non_utf8_bytes_are_kept_as_they_are),
        cmocka_unit_test(a_long_line_keeps_its_first_max_line_bytes_and_is_marked_truncated),
        cmocka_unit_test(a_cut_line_is_recorded_at_its_first_extra_byte_and_its_rest_dropped),
        cmocka_unit_test(a_line_of_exactly_max_line_bytes_is_whole_with_lf_or_crlf),
        cmocka_unit_test(each_stream_keeps_its_own_partial_line),
        cmocka_unit_test(flush_at_eof_records_the_partial_line_of_that_stream_only),
        cmocka_unit_test(a_line_carries_the_time_of_the_bytes_that_completed_it),
        cmocka_unit_test(at_most_max_lines_are_kept_and_the_oldest_go_first),
        cmocka_unit_test(the_text_kept_stays_within_max_bytes_and_the_newest_lines_are_intact),
        cmocka_unit_test(reads_after_s_resume_across_the_wrap_and_count_what_was_missed),
        cmocka_unit_test(a_config_out_of_bounds_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
