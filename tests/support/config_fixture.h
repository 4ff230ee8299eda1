/* Helpers for the config tests: configs written to files in the test's private temporary
 * directory (hp_test_temp_dir(), made with mkdtemp), loaded, and their errors as text. */
#ifndef HP_TEST_CONFIG_FIXTURE_H
#define HP_TEST_CONFIG_FIXTURE_H

#include "config/config.h"

/* The path of `name` in the temporary directory. Owned by the caller (free). */
char *config_fixture_path(const char *name);

/* Writes `text` to `name` in the temporary directory and loads it with
 * hp__config_load_file(); `errs` must be initialized. Returns what the loader returned. */
int config_fixture_load(const char *name, const char *text, hp__config **out,
                        hp__config_errors *errs);

/* Every error as printed by hp__config_errors_print(), one per line, each ending in '\n'.
 * Owned by the caller (free). */
char *config_fixture_errors(const hp__config_errors *errs);

/* Loads `text` written as `name` and returns the printed errors (the load must fail). The
 * file's full path is replaced by `name` in the result, so expected text stays short.
 * Owned by the caller (free). */
char *config_fixture_load_errors(const char *name, const char *text);

#endif
