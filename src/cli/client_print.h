/* How the client verbs show things to people: aligned tables, durations, and the fields of a
 * server as the admin API returns it ({"name", "state", "listen": [{"address", "port"}],
 * "hosts", "uptime_ms", ...}). An empty or missing value is shown as "-". */
#ifndef HP_CLI_CLIENT_PRINT_H
#define HP_CLI_CLIENT_PRINT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* `ms` as people read it, to the two largest units: 3s, 5m12s, 2h03m, 4d01h. */
void hp__format_duration(uint64_t ms, char *buf, size_t len);

/* A table: a header row and rows of owned cells, printed with every column as wide as its
 * widest cell, two spaces apart, without trailing blanks. */
typedef struct hp__table {
    size_t columns;
    const char *const *headers; /* borrowed */
    char **cells;               /* rows * columns, owned */
    size_t rows;
} hp__table;

void hp__table_init(hp__table *t, const char *const *headers, size_t columns);
/* Appends a row of `columns` cells; takes them (NULL or "" is printed as "-"). */
void hp__table_add(hp__table *t, char **cells);
void hp__table_print(const hp__table *t, FILE *out);
void hp__table_close(hp__table *t);

/* A server's fields as text, each new (free it). */
/* Its addresses with the bound port ("127.0.0.1:0" bound to 34567 reads 127.0.0.1:34567),
 * comma-separated. */
char *hp__server_listen_text(const json_t *server);
/* Its host names, comma-separated. */
char *hp__server_hosts_text(const json_t *server);
/* How long it has run ("-" unless running or draining). */
char *hp__server_uptime_text(const json_t *server);
/* An integer field ("requests", "errors"), "-" when the daemon does not send it. */
char *hp__server_count_text(const json_t *server, const char *field);
/* A string field, "-" when null or missing. */
char *hp__server_string_text(const json_t *server, const char *field);

#endif
