#include "http/http_date.h"

#include <string.h>

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void hp__http_date_format(time_t t, char out[HP__HTTP_DATE_LEN + 1])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, HP__HTTP_DATE_LEN + 1, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int month_index(const char *s)
{
    for (int m = 0; m < 12; m++)
        if (memcmp(s, months[m], 3) == 0) return m;
    return -1;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "08:49:37" */
static bool clock_time(const char *s, struct tm *tm)
{
    return digits(s, 2, &tm->tm_hour) && s[2] == ':' && digits(s + 3, 2, &tm->tm_min) &&
           s[5] == ':' && digits(s + 6, 2, &tm->tm_sec) && tm->tm_hour < 24 && tm->tm_min < 60 &&
           tm->tm_sec < 61;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static bool imf_fixdate(const char *s, size_t len, struct tm *tm)
{
    if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        memcmp(s + 25, " GMT", 4) != 0)
        return false;
    tm->tm_mon = month_index(s + 8);
    return tm->tm_mon >= 0 && digits(s + 5, 2, &tm->tm_mday) && digits(s + 12, 4, &tm->tm_year) &&
           clock_time(s + 17, tm) && (tm->tm_year -= 1900, true);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" */
static bool rfc850(const char *s, size_t len, struct tm *tm)
{
    const char *comma = memchr(s, ',', len);
    if (!comma) return false;
    const char *p = comma + 2;
    size_t rest = len - (size_t)(p - s);
    if (comma[1] != ' ' || rest != 22 || p[2] != '-' || p[6] != '-' || p[9] != ' ' ||
        memcmp(p + 18, " GMT", 4) != 0)
        return false;
    tm->tm_mon = month_index(p + 3);
    if (tm->tm_mon < 0 || !digits(p, 2, &tm->tm_mday) || !digits(p + 7, 2, &tm->tm_year) ||
        !clock_time(p + 10, tm))
        return false;
    if (tm->tm_year < 70) tm->tm_year += 100; /* two-digit years: 1970-2069 */
    return true;
}

/* "Sun Nov  6 08:49:37 1994" */
static bool asctime_date(const char *s, size_t len, struct tm *tm)
{
    if (len != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') return false;
    char day[2] = {s[8] == ' ' ? '0' : s[8], s[9]};
    tm->tm_mon = month_index(s + 4);
    return tm->tm_mon >= 0 && digits(day, 2, &tm->tm_mday) && clock_time(s + 11, tm) &&
           digits(s + 20, 4, &tm->tm_year) && (tm->tm_year -= 1900, true);
}

bool hp__http_date_parse(hp_str in, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!imf_fixdate(in.base, in.len, &tm) && !rfc850(in.base, in.len, &tm) &&
        !asctime_date(in.base, in.len, &tm))
        return false;
    if (tm.tm_mday < 1 || tm.tm_mday > 31) return false;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}
