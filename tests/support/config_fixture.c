/* The config fixture; see config_fixture.h. */
#include "config_fixture.h"

#include "common/alloc.h"
#include "hp_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

char *config_fixture_path(const char *name)
{
    const char *dir = hp_test_temp_dir();
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = hp__malloc(len);
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

int config_fixture_load(const char *name, const char *text, hp__config **out,
                        hp__config_errors *errs)
{
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), name, text, strlen(text)), 0);
    char *path = config_fixture_path(name);
    int rc = hp__config_load_file(path, out, errs);
    free(path);
    return rc;
}

char *config_fixture_errors(const hp__config_errors *errs)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    hp__config_errors_print(errs, f);
    fclose(f);
    return buf;
}

char *config_fixture_load_errors(const char *name, const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    assert_int_not_equal(config_fixture_load(name, text, &config, &errs), 0);
    assert_null(config);
    char *printed = config_fixture_errors(&errs);
    hp__config_errors_close(&errs);
    /* "/tmp/hp_test.XXXXXX/name:3:1: ..." becomes "name:3:1: ..." */
    char *path = config_fixture_path(name);
    size_t plen = strlen(path), nlen = strlen(name);
    char *out = hp__malloc(strlen(printed) + 1), *o = out;
    for (const char *p = printed; *p;) {
        if (strncmp(p, path, plen) == 0) {
            memcpy(o, name, nlen);
            o += nlen;
            p += plen;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    free(path);
    free(printed);
    return out;
}
