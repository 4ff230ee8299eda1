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

/* An exchange end observer (context.h): logs `x` when it was answered and its server (the
 * routed one, else the head server) logs. `end_ns` is on CLOCK_MONOTONIC, as x->start_ns. */
void hp__access_log_exchange(void *data, const hp__exchange *x, bool answered, uint64_t end_ns);

#endif
