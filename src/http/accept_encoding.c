#include "http/accept_encoding.h"

#include "common/str.h"

#include <stdbool.h>

/* Weights are in thousandths (qvalue has at most three decimals): 0..1000; -1 not listed. */
typedef struct weights {
    int gzip, br, identity, any;
} weights;

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

static hp_str trim(const char *p, const char *end)
{
    while (p < end && ows(*p)) p++;
    while (end > p && ows(end[-1])) end--;
    return hp__str(p, (size_t)(end - p));
}

/* A qvalue into thousandths; -1 when it is not one. */
static int parse_qvalue(hp_str v)
{
    if (v.len == 0 || (v.base[0] != '0' && v.base[0] != '1')) return -1;
    int whole = v.base[0] - '0', frac = 0;
    size_t i = 1;
    if (i < v.len) {
        if (v.base[i++] != '.' || v.len - i > 3) return -1;
        for (int scale = 100; i < v.len; i++, scale /= 10) {
            if (v.base[i] < '0' || v.base[i] > '9') return -1;
            frac += (v.base[i] - '0') * scale;
        }
    }
    int q = whole * 1000 + frac;
    return q > 1000 ? -1 : q;
}

/* The weight of one entry's parameters ";q=0.5" (1000 without q); -1 when they do not parse.
 * Parameters other than q are not defined for Accept-Encoding: such an entry is skipped. */
static int entry_weight(const char *p, const char *end)
{
    if (p == end) return 1000;
    p++; /* the ';' */
    hp_str param = trim(p, end);
    if (param.len < 2 || (param.base[0] != 'q' && param.base[0] != 'Q') || param.base[1] != '=')
        return -1;
    return parse_qvalue(hp__str(param.base + 2, param.len - 2));
}

static void take_entry(weights *w, const char *p, const char *end)
{
    const char *semi = p;
    while (semi < end && *semi != ';') semi++;
    hp_str coding = trim(p, semi);
    if (coding.len == 0) return;
    int q = entry_weight(semi, end);
    if (q < 0) return;
    if (hp__str_ieq(coding, "gzip") || hp__str_ieq(coding, "x-gzip"))
        w->gzip = q;
    else if (hp__str_ieq(coding, "br"))
        w->br = q;
    else if (hp__str_ieq(coding, "identity"))
        w->identity = q;
    else if (hp__str_eq(coding, "*"))
        w->any = q;
}

static void take_line(weights *w, hp_str line)
{
    const char *p = line.base, *end = line.base + line.len;
    while (p < end) {
        const char *comma = p;
        while (comma < end && *comma != ',') comma++;
        take_entry(w, p, comma);
        p = comma + 1;
    }
}

static int weight_of(int own, int any)
{
    return own >= 0 ? own : any >= 0 ? any : 0;
}

hp__coding hp__accept_encoding_pick(const hp_str *lines, size_t count, unsigned offered)
{
    if (count == 0) return HP__CODING_IDENTITY;
    weights w = {-1, -1, -1, -1};
    for (size_t i = 0; i < count; i++) take_line(&w, lines[i]);
    int br = offered & HP__OFFER_BR ? weight_of(w.br, w.any) : 0;
    int gzip = offered & HP__OFFER_GZIP ? weight_of(w.gzip, w.any) : 0;
    hp__coding best = br >= gzip ? HP__CODING_BR : HP__CODING_GZIP;
    int best_q = br >= gzip ? br : gzip;
    if (best_q == 0) return HP__CODING_IDENTITY;
    /* identity unlisted (and no "*") is acceptable but never preferred to a listed coding */
    int identity = w.identity >= 0 ? w.identity : w.any >= 0 ? w.any : 0;
    return identity > best_q ? HP__CODING_IDENTITY : best;
}

#define MAX_LINES 8 /* more Accept-Encoding lines than this are not read */

hp__coding hp__accept_encoding_choose(const hp_request *req, unsigned offered)
{
    hp_str lines[MAX_LINES];
    size_t count = 0;
    for (size_t i = 0; i < req->header_count && count < MAX_LINES; i++)
        if (hp__str_ieq(req->headers[i].name, "accept-encoding"))
            lines[count++] = req->headers[i].value;
    return hp__accept_encoding_pick(lines, count, offered);
}

const char *hp__coding_name(hp__coding coding)
{
    return coding == HP__CODING_GZIP ? "gzip" : coding == HP__CODING_BR ? "br" : NULL;
}
