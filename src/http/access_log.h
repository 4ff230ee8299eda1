/* The access log: one line per answered request on stderr,
 *   <client-ip> "<METHOD> <target> HTTP/1.<minor>" <status> <body-bytes> <seconds> <request-id>
 *   <server> [<upstream>]
 * written with a single write so lines from several workers never interleave. <server> is the
 * name of the server that answered ("-" for a request answered before one was chosen: a bad
 * request line, headers too large); <upstream>, only on the line of a proxied request, is the
 * upstream target that answered it (the last one tried). New fields come last so that the
 * fields before them keep their places, and a line of a request that was not proxied is as
 * it always was. */
#ifndef HP_HTTP_ACCESS_LOG_H
#define HP_HTTP_ACCESS_LOG_H

#include "http/exchange.h"

/* An exchange end observer (context.h): logs `x` when it was answered and its server (the
 * routed one, else the head server) logs. `end_ns` is on CLOCK_MONOTONIC, as x->start_ns. */
void hp__access_log_exchange(void *data, const hp__exchange *x, bool answered, uint64_t end_ns);

#endif
