/* Config text into a positioned tree (node.h).
 *
 * YAML is read with libyaml's event API. A file whose name ends in ".json" is first decoded
 * by jansson with JSON_REJECT_DUPLICATES, so strict-JSON mistakes (a trailing comma, a
 * repeated key) are reported with jansson's line and column; the same text is then read by
 * libyaml (JSON is YAML flow syntax), so every node gets its position. Should libyaml refuse
 * JSON that jansson accepted (escaped surrogate pairs, which libyaml does not decode), the
 * tree is built from jansson's value instead, without positions.
 *
 * Refused with an error: syntax errors (with libyaml's line and column; a tab where libyaml
 * stopped, which it calls "found character that cannot start any token" or a tab violating
 * indentation, is said as "tabs are not allowed for indentation in YAML"), aliases (*name),
 * more than one document, mapping keys that are not scalars, nesting deeper than 64 levels,
 * and a key repeated in one mapping. A repeated key or a non-scalar key is reported and the
 * entry dropped, and the tree is still returned, so validation can report the rest;
 * anything else returns NULL. Either way the caller checks whether errors were added. */
#ifndef HP_CONFIG_PARSE_H
#define HP_CONFIG_PARSE_H

#include "config/config_errors.h"
#include "config/node.h"

/* Parses YAML (or JSON, which is YAML) text. `file` names the source in errors (may be
 * NULL). Returns a new tree, or NULL after a fatal error. An empty document is an empty
 * mapping. */
hp__cfg_node *hp__cfg_parse_yaml(const char *text, size_t len, const char *file,
                                 hp__config_errors *errs);

/* Strict JSON: checked by jansson, then parsed as above. */
hp__cfg_node *hp__cfg_parse_json(const char *text, size_t len, const char *file,
                                 hp__config_errors *errs);

/* Reads `path` and parses it as JSON when its name ends in ".json", else as YAML. A file
 * that cannot be read is one error without a position. */
hp__cfg_node *hp__cfg_parse_file(const char *path, hp__config_errors *errs);

#endif
