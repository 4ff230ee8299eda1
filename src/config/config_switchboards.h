/* Switchboards in a config: the top-level `switchboards` list (config_switchboards.c), each
 * entry checked into a switchboard model (switch/switchboard.h) with every error at its
 * file:line:column. */
#ifndef HP_CONFIG_CONFIG_SWITCHBOARDS_H
#define HP_CONFIG_CONFIG_SWITCHBOARDS_H

#include "config/config.h"
#include "config/config_check.h"

/* Reads `switchboards` (a list, or null) into config->switchboards, after the servers: a
 * switchboard's name must be unique among the servers and the switchboards. */
void hp__config_check_switchboards(hp_config_check *c, hp__cfg_node *list, hp__config *config);

#endif
