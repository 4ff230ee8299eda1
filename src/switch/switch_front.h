/* The front handler of a switchboard (switchboard.h): the one route of the server named as the
 * switchboard, the default of its address. On a worker it chooses the name a request asks
 * for, answers 404 when there is none or it is refused, hands the request to the server of
 * that name when the worker's table has it (hp__request_reroute), and else asks the control
 * thread (hp__switchboard_serve). It streams (stream_request_body), so no body is read before
 * the request reaches the server that answers it. */
#ifndef HP_SWITCH_SWITCH_FRONT_H
#define HP_SWITCH_SWITCH_FRONT_H

#include "hostpool/handler.h"

struct hp__switchboard;

/* Control thread: a front for `sb` (borrowed: the pool keeps it longer than its servers). */
hp_handler *hp__switch_front_create(struct hp__switchboard *sb);

/* Worker: hands `req` to the server `host` reaches on its address; false when none does. */
bool hp__switch_front_reroute(hp_request *req, const char *host);
/* Worker: answers {"error": message} with `status`. */
void hp__switch_front_refuse(hp_request *req, int status, const char *message);

#endif
