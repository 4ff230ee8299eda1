/* hp_test: result names, clocks, polling, the environment, temporary files and regexes. */
#include "hp_test.h"

#include <errno.h>
#include <ftw.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *hp_test_result_name(int result)
{
    switch (result) {
    case HP_TEST_OK:
        return "ok";
    case HP_TEST_TIMEOUT:
        return "timeout";
    case HP_TEST_CLOSED:
        return "closed by the server";
    case HP_TEST_TRUNCATED:
        return "closed in the middle of a response";
    case HP_TEST_MALFORMED:
        return "malformed response";
    case HP_TEST_EXTRA_BYTES:
        return "unexpected bytes";
    case HP_TEST_ERROR:
        return "error";
    default:
        return "unknown result";
    }
}

int64_t hp_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long hp_test_resident_bytes(void)
{
    FILE *in = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (in && fgets(line, sizeof line, in))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (in) fclose(in);
    return kib * 1024;
}

void hp_test_pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool hp_test_poll_until(hp_test_condition cond, void *data, int timeout_ms)
{
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    for (;;) {
        if (cond(data)) return true;
        if (hp_test_now_ms() >= deadline) return false;
        hp_test_pause_ms(5); /* the polling interval, not a wait for the condition */
    }
}

static const char *required_env(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "hp_test: %s is not set (run the test through ctest)\n", name);
        abort();
    }
    return value;
}

const char *hp_test_bin(void)
{
    return required_env("HOSTPOOL_BIN");
}

const char *hp_test_data_dir(void)
{
    return required_env("HP_TEST_DATA");
}

const char *hp_test_source_dir(void)
{
    return required_env("HP_SOURCE_DIR");
}

static char temp_dir[4096];

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void remove_temp_dir(void)
{
    if (temp_dir[0] != '\0') nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *hp_test_temp_dir(void)
{
    if (temp_dir[0] != '\0') return temp_dir;
    const char *base = getenv("TMPDIR");
    snprintf(temp_dir, sizeof temp_dir, "%s/hp_test.XXXXXX", base ? base : "/tmp");
    if (mkdtemp(temp_dir) == NULL) {
        fprintf(stderr, "hp_test: mkdtemp %s: %s\n", temp_dir, strerror(errno));
        abort();
    }
    atexit(remove_temp_dir);
    return temp_dir;
}

static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

int hp_test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (make_parents(path) != 0) return -1;
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -1;
    size_t written = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return written == len && rc == 0 ? 0 : -1;
}

char *hp_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

bool hp_test_matches(const char *text, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "hp_test: bad regular expression: %s\n", pattern);
        return false;
    }
    bool matched = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return matched;
}
