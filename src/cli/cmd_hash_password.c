/* `hostpool hash-password [--user NAME] [--method yescrypt|bcrypt|sha512]`: reads a password
 * from stdin (without echo when stdin is a terminal, after a prompt on stderr) and writes the
 * line a basic_auth users file takes, "NAME:HASH" (the hash alone without --user), hashed with
 * a fresh salt and libcrypt's default cost for the method (yescrypt by default: Debian's own
 * choice for /etc/shadow). The password is the first line of stdin, its newline dropped. */
#include "cli/cli.h"
#include "cli/options.h"
#include "core/password.h"
#include "core/users_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

typedef struct hash_options {
    const char *user;
    hp__password_method method;
} hash_options;

static bool apply_method(void *ctx, const char *name, const char *value)
{
    return hp__password_method_parse(value, &((hash_options *)ctx)->method);
}

static bool user_valid(const char *user)
{
    size_t len = strlen(user);
    if (len == 0 || len > HP__USER_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f || user[i] == ':') return false;
    return true;
}

/* The first line of stdin into password[size] (no newline); echo off on a terminal. */
static bool read_password(char *password, size_t size)
{
    struct termios before, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &before) == 0;
    if (tty) {
        fputs("Password: ", stderr);
        quiet = before;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(password, (int)size, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &before);
        fputs("\n", stderr);
    }
    if (!ok) return false;
    password[strcspn(password, "\r\n")] = '\0';
    return true;
}

int hp__cmd_hash_password(int argc, char **argv)
{
    hash_options o = {.method = HP__PASSWORD_YESCRYPT};
    const hp__option options[] = {
        {.name = "--user", .short_name = "-u", .value = &o.user},
        {.name = "--method", .apply = apply_method, .ctx = &o},
        {0},
    };
    const hp__usage usage = {
        .command = "hash-password",
        .synopsis = "hash-password [--user NAME] [--method yescrypt|bcrypt|sha512]",
        .help = "\n"
                "Reads a password from stdin (without echo on a terminal) and prints the line\n"
                "of a basic_auth users file: NAME:HASH, or the hash alone without --user.\n"
                "\n"
                "  --user NAME, -u NAME     the user (no ':' or control characters)\n"
                "  --method M               yescrypt (the default), bcrypt or sha512\n",
    };
    const hp__option *const tables[] = {options, NULL};
    hp__args args;
    int status;
    if (!hp__options_read(&usage, tables, argc, argv, &args, &status)) return status;
    free(args.items);
    if (o.user && !user_valid(o.user))
        return hp__usage_error(&usage, "a user name is 1 to 255 bytes without ':' or control "
                                       "characters");
    char password[CRYPT_MAX_PASSPHRASE_SIZE + 2], hash[CRYPT_OUTPUT_SIZE];
    if (!read_password(password, sizeof password) || !password[0]) {
        fprintf(stderr, "hostpool hash-password: no password on stdin\n");
        return 1;
    }
    bool ok =
        strlen(password) < CRYPT_MAX_PASSPHRASE_SIZE && hp__password_hash(password, o.method, hash);
    explicit_bzero(password, sizeof password);
    if (!ok) {
        fprintf(stderr, "hostpool hash-password: cannot hash the password (at most %d bytes)\n",
                CRYPT_MAX_PASSPHRASE_SIZE - 1);
        return 1;
    }
    printf("%s%s%s\n", o.user ? o.user : "", o.user ? ":" : "", hash);
    return 0;
}
