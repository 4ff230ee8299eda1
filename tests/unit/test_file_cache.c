/* The per-worker open-file cache (src/handlers/file_cache.c), on a folder made by the test.
 * Time is the `now` argument, so the one-second validation window is tested without sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handlers/file_cache.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64]; /* holds outside.txt and root/ */
    int root_fd;
    hp__file_cache *cache;
} fixture;

static void write_at(const fixture *f, const char *name, const char *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void at(const fixture *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/hp-file-cache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char path[256];
    at(f, "root", path, sizeof path);
    assert_int_equal(mkdir(path, 0755), 0);
    at(f, "root/docs", path, sizeof path);
    assert_int_equal(mkdir(path, 0755), 0);
    write_at(f, "outside.txt", "secret\n", 7);
    write_at(f, "root/ten.txt", "0123456789", 10);
    at(f, "root", path, sizeof path);
    f->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->root_fd >= 0);
    f->cache = hp__file_cache_create(f->root_fd);
    *state = f;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    hp__file_cache_destroy(f->cache);
    close(f->root_fd);
    nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static hp__file_entry *get(fixture *f, const char *path, time_t now, int *status)
{
    *status = 0;
    return hp__file_cache_get(f->cache, path, strlen(path), now, status);
}

static void small_file_is_cached_with_bytes_type_and_validators(void **state)
{
    fixture *f = *state;
    int status;
    hp__file_entry *e = get(f, "ten.txt", 1, &status);
    assert_non_null(e);
    assert_false(e->is_dir);
    assert_int_equal(e->size, 10);
    assert_memory_equal(e->bytes, "0123456789", 10);
    assert_string_equal(e->type, "text/plain; charset=utf-8");
    assert_int_equal(e->etag[0], '"');
    assert_int_equal(strlen(e->last_modified), 29);
    hp__file_entry *again = get(f, "ten.txt", 1, &status);
    assert_ptr_equal(again, e);
    hp__file_cache_release(again);
    hp__file_cache_release(e);
}

static void file_over_the_small_limit_keeps_only_its_descriptor(void **state)
{
    fixture *f = *state;
    static char big[HP__FILE_SMALL + 1];
    memset(big, 'x', sizeof big);
    write_at(f, "root/big.bin", big, sizeof big);
    int status;
    hp__file_entry *e = get(f, "big.bin", 1, &status);
    assert_non_null(e);
    assert_null(e->bytes);
    assert_true(e->fd >= 0);
    assert_int_equal(e->size, sizeof big);
    hp__file_cache_release(e);
}

static void missing_file_is_404(void **state)
{
    fixture *f = *state;
    int status;
    assert_null(get(f, "nope.txt", 1, &status));
    assert_int_equal(status, 404);
    assert_null(get(f, "ten.txt/x", 1, &status)); /* a file used as a folder */
    assert_int_equal(status, 404);
}

static void folder_is_an_entry_without_descriptor(void **state)
{
    fixture *f = *state;
    int status;
    hp__file_entry *e = get(f, "docs", 1, &status);
    assert_non_null(e);
    assert_true(e->is_dir);
    assert_int_equal(e->fd, -1);
    hp__file_cache_release(e);
    e = get(f, "", 1, &status); /* the root itself */
    assert_non_null(e);
    assert_true(e->is_dir);
    hp__file_cache_release(e);
}

static void symlink_leading_outside_the_root_is_403(void **state)
{
    fixture *f = *state;
    char target[256], link[256];
    at(f, "outside.txt", target, sizeof target);
    at(f, "root/abs.txt", link, sizeof link);
    assert_int_equal(symlink(target, link), 0);
    at(f, "root/rel.txt", link, sizeof link);
    assert_int_equal(symlink("../outside.txt", link), 0);
    at(f, "root/up", link, sizeof link);
    assert_int_equal(symlink("..", link), 0);
    int status;
    assert_null(get(f, "abs.txt", 1, &status));
    assert_int_equal(status, 403);
    assert_null(get(f, "rel.txt", 1, &status));
    assert_int_equal(status, 403);
    assert_null(get(f, "up/outside.txt", 1, &status));
    assert_int_equal(status, 403);
}

static void symlink_inside_the_root_is_followed(void **state)
{
    fixture *f = *state;
    char link[256];
    at(f, "root/docs/alias.txt", link, sizeof link);
    assert_int_equal(symlink("../ten.txt", link), 0);
    int status;
    hp__file_entry *e = get(f, "docs/alias.txt", 1, &status);
    assert_non_null(e);
    assert_memory_equal(e->bytes, "0123456789", 10);
    hp__file_cache_release(e);
}

static void fifo_is_403(void **state)
{
    fixture *f = *state;
    char path[256];
    at(f, "root/pipe", path, sizeof path);
    assert_int_equal(mkfifo(path, 0644), 0);
    int status;
    /* O_RDONLY on a FIFO without writer would block: the open must not hang the worker */
    assert_null(get(f, "pipe", 1, &status));
    assert_int_equal(status, 403);
}

static void change_is_seen_from_the_next_second_not_within_the_same(void **state)
{
    fixture *f = *state;
    int status;
    hp__file_entry *e = get(f, "ten.txt", 100, &status);
    hp__file_cache_release(e);
    write_at(f, "root/ten.txt", "new", 3);
    e = get(f, "ten.txt", 100, &status); /* within the validation second: the old version */
    assert_int_equal(e->size, 10);
    hp__file_cache_release(e);
    e = get(f, "ten.txt", 101, &status);
    assert_int_equal(e->size, 3);
    assert_memory_equal(e->bytes, "new", 3);
    hp__file_cache_release(e);
}

static void rewrite_with_same_size_and_second_gets_a_new_etag(void **state)
{
    fixture *f = *state;
    char path[256];
    at(f, "root/ten.txt", path, sizeof path);
    struct timespec times[2] = {{1700000000, 1}, {1700000000, 1}};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    int status;
    hp__file_entry *e = get(f, "ten.txt", 1, &status);
    char old_tag[HP__ETAG_MAX];
    strcpy(old_tag, e->etag);
    hp__file_cache_release(e);
    write_at(f, "root/ten.txt", "abcdefghij", 10);
    times[0].tv_nsec = times[1].tv_nsec = 2;
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    e = get(f, "ten.txt", 2, &status);
    assert_memory_equal(e->bytes, "abcdefghij", 10);
    assert_string_not_equal(e->etag, old_tag);
    hp__file_cache_release(e);
}

static void deleted_file_is_404_after_revalidation(void **state)
{
    fixture *f = *state;
    int status;
    hp__file_cache_release(get(f, "ten.txt", 1, &status));
    char path[256];
    at(f, "root/ten.txt", path, sizeof path);
    assert_int_equal(unlink(path), 0);
    assert_null(get(f, "ten.txt", 2, &status));
    assert_int_equal(status, 404);
}

static void entry_held_by_a_response_outlives_its_replacement(void **state)
{
    fixture *f = *state;
    int status;
    hp__file_entry *held = get(f, "ten.txt", 1, &status);
    write_at(f, "root/ten.txt", "replaced", 8);
    hp__file_entry *e = get(f, "ten.txt", 2, &status);
    assert_ptr_not_equal(e, held);
    assert_memory_equal(held->bytes, "0123456789", 10); /* still valid: ASan checks it */
    assert_memory_equal(e->bytes, "replaced", 8);
    hp__file_cache_release(held);
    hp__file_cache_release(e);
}

static void cache_stays_bounded_and_evicted_held_entries_stay_valid(void **state)
{
    fixture *f = *state;
    int status;
    hp__file_entry *held = get(f, "ten.txt", 1, &status);
    char name[64];
    for (int i = 0; i < HP__FILE_CACHE_MAX + 50; i++) {
        snprintf(name, sizeof name, "root/f%d.txt", i);
        write_at(f, name, "x", 1);
        hp__file_entry *e = get(f, name + 5, 1, &status);
        assert_non_null(e);
        hp__file_cache_release(e);
    }
    assert_memory_equal(held->bytes, "0123456789", 10);
    assert_int_equal(held->fd >= 0, true);
    hp__file_cache_release(held);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(small_file_is_cached_with_bytes_type_and_validators),
        T(file_over_the_small_limit_keeps_only_its_descriptor),
        T(missing_file_is_404),
        T(folder_is_an_entry_without_descriptor),
        T(symlink_leading_outside_the_root_is_403),
        T(symlink_inside_the_root_is_followed),
        T(fifo_is_403),
        T(change_is_seen_from_the_next_second_not_within_the_same),
        T(rewrite_with_same_size_and_second_gets_a_new_etag),
        T(deleted_file_is_404_after_revalidation),
        T(entry_held_by_a_response_outlives_its_replacement),
        T(cache_stays_bounded_and_evicted_held_entries_stay_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
