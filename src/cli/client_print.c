/* Tables, durations and a server's fields as text (client_print.h). Text that is built from
 * several parts is written to an open_memstream, so no caller sizes a buffer. */
#include "cli/client_print.h"

#include "common/alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY "-"

/* ---- durations ---- */

void hp__format_duration(uint64_t ms, char *buf, size_t len)
{
    uint64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (d > 0)
        snprintf(buf, len, "%llud%02lluh", (unsigned long long)d, (unsigned long long)(h % 24));
    else if (h > 0)
        snprintf(buf, len, "%lluh%02llum", (unsigned long long)h, (unsigned long long)(m % 60));
    else if (m > 0)
        snprintf(buf, len, "%llum%02llus", (unsigned long long)m, (unsigned long long)(s % 60));
    else
        snprintf(buf, len, "%llus", (unsigned long long)s);
}

/* ---- tables ---- */

void hp__table_init(hp__table *t, const char *const *headers, size_t columns)
{
    *t = (hp__table){.columns = columns, .headers = headers};
}

void hp__table_add(hp__table *t, char **cells)
{
    t->cells = hp__realloc(t->cells, (t->rows + 1) * t->columns * sizeof *t->cells);
    memcpy(t->cells + t->rows * t->columns, cells, t->columns * sizeof *cells);
    t->rows++;
}

static const char *cell_text(const char *cell)
{
    return cell && cell[0] ? cell : EMPTY;
}

static void print_row(const hp__table *t, const char *const *row, const size_t *widths, FILE *out)
{
    for (size_t c = 0; c < t->columns; c++) {
        bool last = c + 1 == t->columns;
        fprintf(out, "%-*s%s", last ? 0 : (int)widths[c], cell_text(row[c]), last ? "\n" : "  ");
    }
}

void hp__table_print(const hp__table *t, FILE *out)
{
    size_t *widths = hp__calloc(t->columns, sizeof *widths);
    for (size_t c = 0; c < t->columns; c++) {
        widths[c] = strlen(t->headers[c]);
        for (size_t r = 0; r < t->rows; r++) {
            size_t w = strlen(cell_text(t->cells[r * t->columns + c]));
            if (w > widths[c]) widths[c] = w;
        }
    }
    print_row(t, t->headers, widths, out);
    for (size_t r = 0; r < t->rows; r++)
        print_row(t, (const char *const *)t->cells + r * t->columns, widths, out);
    free(widths);
}

void hp__table_close(hp__table *t)
{
    for (size_t i = 0; i < t->rows * t->columns; i++) free(t->cells[i]);
    free(t->cells);
    *t = (hp__table){0};
}

/* ---- a server's fields ---- */

/* An empty text stream; close it with `finish`. */
static FILE *text_open(char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (!f) abort(); /* out of memory, as hp__malloc would */
    return f;
}

static char *finish(FILE *f, char *const *text)
{
    fclose(f);
    return *text;
}

/* "HOST:0" as it was bound: the host part with the bound port. */
static void print_address(FILE *f, const json_t *listen)
{
    const char *address = json_string_value(json_object_get(listen, "address"));
    json_int_t port = json_integer_value(json_object_get(listen, "port"));
    if (!address) return;
    const char *colon = strrchr(address, ':');
    if (port > 0 && strncmp(address, "unix:", 5) != 0 && colon)
        fprintf(f, "%.*s:%lld", (int)(colon - address), address, (long long)port);
    else
        fputs(address, f);
}

char *hp__server_listen_text(const json_t *server)
{
    char *text;
    size_t len, i;
    FILE *f = text_open(&text, &len);
    json_t *listen;
    json_array_foreach(json_object_get(server, "listen"), i, listen)
    {
        if (i) fputs(",", f);
        print_address(f, listen);
    }
    return finish(f, &text);
}

char *hp__server_hosts_text(const json_t *server)
{
    char *text;
    size_t len, i;
    FILE *f = text_open(&text, &len);
    json_t *host;
    json_array_foreach(json_object_get(server, "hosts"), i, host)
        fprintf(f, "%s%s", i ? "," : "", json_string_value(host));
    return finish(f, &text);
}

char *hp__server_uptime_text(const json_t *server)
{
    const char *state = json_string_value(json_object_get(server, "state"));
    json_t *uptime = json_object_get(server, "uptime_ms");
    bool up = state && (strcmp(state, "running") == 0 || strcmp(state, "draining") == 0);
    if (!up || !json_is_integer(uptime)) return hp__strdup(EMPTY);
    char buf[32];
    hp__format_duration((uint64_t)json_integer_value(uptime), buf, sizeof buf);
    return hp__strdup(buf);
}

char *hp__server_count_text(const json_t *server, const char *field)
{
    json_t *count = json_object_get(server, field);
    if (!json_is_integer(count)) return hp__strdup(EMPTY);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(count));
    return hp__strdup(buf);
}

char *hp__server_string_text(const json_t *server, const char *field)
{
    const char *value = json_string_value(json_object_get(server, field));
    return hp__strdup(value && value[0] ? value : EMPTY);
}
