/* Content negotiation by Accept-Encoding (RFC 9110 §12.5.3), for the two codings hostpool
 * produces: gzip and br.
 *
 *   Accept-Encoding  = #( codings [ weight ] )
 *   codings          = content-coding / "identity" / "*"
 *   weight           = OWS ";" OWS "q=" qvalue       qvalue = ( "0" [ "." 0*3DIGIT ] )
 *                                                           / ( "1" [ "." 0*3("0") ] )
 *
 * A coding's weight is its own entry's, else the "*" entry's, else 0 (not listed: not
 * acceptable); "x-gzip" is gzip (RFC 9110 §8.4.1.3). The answer is the offered coding of the
 * highest weight above 0, br before gzip at equal weights (it is smaller); identity when the
 * client weighs identity higher than both (an explicit "identity" entry, or "*" when identity is
 * not listed), when nothing offered is acceptable, or when there is no Accept-Encoding at all
 * (RFC 9110 allows any coding then, but clients that send none are those that cannot decode,
 * and every common server answers them identity). An empty value means identity only. An entry
 * that does not parse (a bad qvalue) is skipped, not the whole field. Several lines of the
 * field are one list. Pure functions: no state, no allocation. */
#ifndef HP_HTTP_ACCEPT_ENCODING_H
#define HP_HTTP_ACCEPT_ENCODING_H

#include "hostpool/request.h"

#include <stddef.h>

typedef enum {
    HP__CODING_IDENTITY = 0,
    HP__CODING_GZIP = 1,
    HP__CODING_BR = 2,
} hp__coding;

/* Bits of the codings a server offers for one answer: 1 << hp__coding. */
#define HP__OFFER_GZIP (1u << HP__CODING_GZIP)
#define HP__OFFER_BR (1u << HP__CODING_BR)
#define HP__OFFER_ALL (HP__OFFER_GZIP | HP__OFFER_BR)

/* The coding to answer with, among those in `offered`, given the `count` lines of the
 * Accept-Encoding field (none: count 0). */
hp__coding hp__accept_encoding_pick(const hp_str *lines, size_t count, unsigned offered);

/* The same for a request: its Accept-Encoding lines, wherever they are among its headers. */
hp__coding hp__accept_encoding_choose(const hp_request *req, unsigned offered);

/* The coding's token ("gzip", "br"), or NULL for identity. */
const char *hp__coding_name(hp__coding coding);

#endif
