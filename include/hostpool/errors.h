/* hostpool error codes.
 *
 * Every fallible function returns 0 on success or one of these negative codes. The table is
 * the single source of truth: codes are never renumbered (append new ones at the end), and
 * hp_strerror()/hp_err_name() are generated from it. System errors from libuv (UV_E*) may
 * also be returned where a socket or file call failed; hp_strerror() understands both.
 *
 * Retired numbers, never to be given to another code: -1002 (out of memory: the library
 * aborts instead, with a message), -1009 (a bind fails with its UV_E* code), -1010 and -1011
 * (input/output error, timed out: no function returned them). */
#ifndef HOSTPOOL_ERRORS_H
#define HOSTPOOL_ERRORS_H

#define HP_ERRNO_MAP(XX)                                                                           \
    XX(INVAL, -1001, "invalid argument")                                                           \
    XX(CONFIG, -1003, "invalid configuration")                                                     \
    XX(EXISTS, -1004, "already exists")                                                            \
    XX(NOTFOUND, -1005, "not found")                                                               \
    XX(LIMIT, -1006, "limit reached")                                                              \
    XX(STATE, -1007, "operation not allowed in the current state")                                 \
    XX(ADDR, -1008, "invalid listen address")

typedef enum {
#define HP_ERR_ENUM(name, code, msg) HP_E##name = (code),
    HP_ERRNO_MAP(HP_ERR_ENUM)
#undef HP_ERR_ENUM
} hp_errno;

/* A static, human-readable message for `err` (a hostpool or libuv code). Never NULL. */
const char *hp_strerror(int err);
/* A static short name for `err` ("HP_EINVAL", "EADDRINUSE"). Never NULL. */
const char *hp_err_name(int err);

#endif
