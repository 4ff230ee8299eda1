/* The syntax of header fields (RFC 9110 §5, RFC 9112 §5), checked by the engine itself.
 *
 * llhttp 8 does not check all of it. Even in its strict mode (which the build selects) it takes
 * an empty field name (": foo") and folds obs-fold into the value, and it knows nothing of what
 * a Host value may be; in its lenient mode (llhttp.h's default) it also takes a space in a name
 * ("X-Probe : foo", whose name is then "X-Probe "). These checks are the one definition of a
 * valid field that every reader of an HTTP head in hostpool uses: the session for request heads,
 * and the reverse proxy for the response heads of its upstreams. So they know nothing of
 * sessions: bytes in, a verdict out, no state, no allocation.
 *
 *   field-name  = token = 1*tchar                                   RFC 9110 §5.1, §5.6.2
 *   tchar       = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
 *                 "`" / "|" / "~" / DIGIT / ALPHA
 *   field-value = *( VCHAR / obs-text / SP / HTAB )                 RFC 9110 §5.5
 *                 (any byte but the controls 0x00-0x1F and 0x7F, HTAB excepted: so no CR,
 *                 LF or NUL, and no obs-fold, which llhttp 8 folds into the value)
 *   Host        = uri-host [ ":" port ]                             RFC 9110 §7.2
 *   uri-host    = IP-literal / IPv4address / reg-name               RFC 3986 §3.2.2
 *   port        = *DIGIT                                            RFC 3986 §3.2.3
 *
 * Host is stricter than RFC 3986 in two ways the RFCs ask for elsewhere: the host may not be
 * empty (RFC 9110 §4.2.1: an http URI with an empty host is invalid; nginx rejects it too) and
 * a port is at most 65535. An empty port ("example.com:") is valid (RFC 3986 §3.2.3) and
 * means the default port. A userinfo ("user@host") is not part of a Host, so '@' is refused;
 * so are '/', '?', '#', whitespace and anything else outside the grammar. A percent-encoded
 * reg-name ("ex%61mple.com") is valid syntax; it is routed as written, not decoded. */
#ifndef HP_HTTP_FIELD_SYNTAX_H
#define HP_HTTP_FIELD_SYNTAX_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>

/* How many bytes at the start of s[0..len) are tchar. A token (a field name, a method) is
 * all of them, and at least one. */
size_t hp__token_length(const char *s, size_t len);

/* Is `name: value` a valid field line? `name` is the field name as received (everything before
 * the colon), `value` the field value, with or without its surrounding whitespace. The one
 * check for a field line of a request head, a response head or a trailer section. */
bool hp__field_valid(hp_str name, hp_str value);

/* The value half of hp__field_valid. A reader that gets a field in pieces and cannot keep them
 * (trailers, whose bytes are dropped as they are parsed) checks each piece: a piece of a name
 * with hp__token_length (and the whole name for being non-empty), a piece of a value with
 * this, since a value is valid exactly when each of its bytes is. */
bool hp__field_value_valid(hp_str value);

/* Is `p` one protocol of an Upgrade field (RFC 9110 §7.8: protocol-name ["/" protocol-version],
 * each a token)? What a 101 may switch to: hp_request_upgrade's token, an upstream's 101. */
bool hp__upgrade_protocol_valid(hp_str p);

/* Is `host` (a Host value without surrounding whitespace, or the authority of an
 * absolute-form target) a valid uri-host [":" port], as described above? */
bool hp__host_valid(hp_str host);

#endif
