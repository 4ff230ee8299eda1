/* The access log: one line per answered request on stderr,
 *   <client-ip> "<METHOD> <target> HTTP/1.<minor>" <status> <body-bytes> <seconds> <request-id>
 *   <server>
 * written with a single write so lines from several workers never interleave. <server> is the
 * name of the server that answered ("-" for a request answered before one was chosen: a bad
 * request line, headers too large); it comes last so that the fields before it keep their
 * places. */
#ifndef HP_HTTP_ACCESS_LOG_H
#define HP_HTTP_ACCESS_LOG_H

#include "http/exchange.h"

/* `end_ns`: when the exchange ended, on CLOCK_MONOTONIC (as x->start_ns). */
void hp__access_log(hp__session *s, hp__exchange *x, uint64_t end_ns);

#endif
