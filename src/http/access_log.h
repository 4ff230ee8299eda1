/* The access log: one line per answered request, in the server's format (hostpool/server.h
 * hp_access_log_format; docs/CONFIG.md "Logs"):
 *   default  <client-ip> "<METHOD> <target> HTTP/1.<minor>" <status> <body-bytes> <seconds>
 *            <request-id> <server> <host> [<upstream>]
 *   combined Apache/nginx combined, then "<server>" "<host>"
 *   json     one object: time, server, host, client, method, path, query, status, bytes,
 *            duration, request_id, upstream, referer, user_agent
 * <server> is the name of the server that answered ("-" for a request answered before one was
 * chosen: a bad request line, headers too large); <host> the request's Host ("-" when it had
 * none): the server's name and the Host are in every format; <upstream>, only on the line of a
 * proxied request, is the upstream target that answered it (the last one tried). In the
 * default format new fields are added after the request id and the server, so the fields
 * before them keep their places.
 *
 * Without a path a line goes to stderr (the one hostpool started with, common/log.h) with a
 * single write, so lines from several workers never interleave; with one it is appended to the
 * worker's buffer for the file (io/log_writer.h), written once per loop iteration. The wall
 * clock's second is formatted once a second per worker (context.h). */
#ifndef HP_HTTP_ACCESS_LOG_H
#define HP_HTTP_ACCESS_LOG_H

#include "http/exchange.h"

/* An exchange end observer (context.h): logs `x` when it was answered and its server (the
 * routed one, else the head server) logs. `end_ns` is on CLOCK_MONOTONIC, as x->start_ns. */
void hp__access_log_exchange(void *data, const hp__exchange *x, bool answered, uint64_t end_ns);

#endif
