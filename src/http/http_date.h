/* HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in. */
#ifndef HP_HTTP_HTTP_DATE_H
#define HP_HTTP_HTTP_DATE_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <time.h>

#define HP__HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Writes the IMF-fixdate of `t` and a NUL into `out`. */
void hp__http_date_format(time_t t, char out[HP__HTTP_DATE_LEN + 1]);
/* Parses any of the three forms; false when `s` is none of them. */
bool hp__http_date_parse(hp_str s, time_t *out);

#endif
