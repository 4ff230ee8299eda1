/* The Range request header (RFC 9110 section 14.2), single byte ranges only.
 *
 * A syntactically invalid header, another unit, or several ranges are ignored: the whole
 * representation is sent with 200, which RFC 9110 allows ("a server MAY ignore the Range
 * header field"); so is a range whose last position is before its first. A valid range that
 * starts at or past the end is unsatisfiable (416); one that ends past it is cut at the last
 * byte. Numbers of any length are valid: past UINT64_MAX they saturate, so they never wrap. */
#ifndef HP_HTTP_RANGE_H
#define HP_HTTP_RANGE_H

#include "hostpool/request.h"

#include <stdint.h>

typedef enum {
    HP__RANGE_NONE,          /* serve the whole representation */
    HP__RANGE_SATISFIABLE,   /* 206 with *offset and *length */
    HP__RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * / size */
} hp__range_result;

hp__range_result hp__range_parse(hp_str header, uint64_t size, uint64_t *offset, uint64_t *length);

#endif
