/* Named upstreams in a config: the top-level `upstreams` list, and the check that every proxy
 * route naming an upstream names one of them (config_upstreams.c). The entry's settings are
 * read by upstream/upstream_model.h; hp__config_load_upstream_node (config.h) reads one entry
 * on its own, for the admin API. */
#ifndef HP_CONFIG_CONFIG_UPSTREAMS_H
#define HP_CONFIG_CONFIG_UPSTREAMS_H

#include "config/config.h"
#include "config/config_check.h"

/* Reads `upstreams` (a list of entries, or null) into config->upstreams: each entry's name
 * ([A-Za-z0-9._-]{1,64}, unique), targets and settings. Problems are reported. */
void hp__config_check_upstreams(hp_config_check *c, hp__cfg_node *list, hp__config *config);

/* Reports every route of `s` (checked from `server_map`) whose `proxy: { upstream: NAME }`
 * names none of upstreams[0..count), at the name, with the closest name if one is near. */
void hp__config_check_upstream_refs(hp_config_check *c, hp__cfg_node *server_map,
                                    const hp__config_server *s, const hp__upstream_model *upstreams,
                                    size_t count);

#endif
