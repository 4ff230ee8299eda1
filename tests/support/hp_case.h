/* HTTP case files (the .case files of tests/data/http): a request as bytes and what the server must
 * answer, so that adding a protocol case needs no C. The format is described in
 * tests/data/http/README.md; this is its parser. The runner is
 * tests/integration/test_http_cases.c. */
#ifndef HP_CASE_H
#define HP_CASE_H

#include <stdbool.h>
#include <stddef.h>

#define HP_CASE_MAX_RESPONSES 64
#define HP_CASE_MAX_CHECKS 16

/* One write of the request bytes; with await_response, the runner then reads the next
 * expected response before the next step (\{await} in the file). */
typedef struct hp_case_step {
    char *bytes;
    size_t len;
    bool await_response;
} hp_case_step;

typedef enum { HP_CASE_OPEN_YES, HP_CASE_OPEN_NO, HP_CASE_OPEN_ANY } hp_case_open;

typedef enum {
    HP_CASE_HEADER_EQUALS,  /* header: Name: value */
    HP_CASE_HEADER_MATCHES, /* header-match: Name: extended-regex */
    HP_CASE_HEADER_ABSENT,  /* no-header: Name */
} hp_case_check_kind;

typedef struct hp_case_check {
    hp_case_check_kind kind;
    char *name;
    char *value; /* NULL for HP_CASE_HEADER_ABSENT */
} hp_case_check;

typedef struct hp_case {
    char *name; /* the file name, "get_simple.case" */
    int expect[HP_CASE_MAX_RESPONSES];
    size_t expect_count;
    bool to_head[HP_CASE_MAX_RESPONSES]; /* response i answers a HEAD request */
    hp_case_open open;
    char *args; /* extra command-line arguments, space separated; "" when none */
    bool has_body;
    char *body; /* the expected body of the last response */
    size_t body_len;
    hp_case_check checks[HP_CASE_MAX_CHECKS]; /* on the last response */
    size_t check_count;
    hp_case_step *steps;
    size_t step_count;
    char *error; /* why the file could not be parsed; NULL when it was */
} hp_case;

/* Parses the case file at `path`. Always fills `c` (free with hp_case_free); returns 0, or -1
 * with c->error set to a message naming the line. */
int hp_case_load(const char *path, hp_case *c);
void hp_case_free(hp_case *c);

/* Decodes the escapes of a case file (\r \n \t \0 \\ \} \xHH \{N:X}) in text[0, len),
 * ignoring literal CR and LF. Returns the bytes (owned, NUL-terminated) and their length in
 * *out_len, or NULL with *error set (owned). */
char *hp_case_decode(const char *text, size_t len, size_t *out_len, char **error);

/* The same for a request, which may also contain \{await}: the bytes are split into steps
 * at each one (*steps owned, *step_count of them, at least one). Returns 0, or -1 with *error
 * set (owned). */
int hp_case_decode_steps(const char *text, size_t len, hp_case_step **steps, size_t *step_count,
                         char **error);

#endif
