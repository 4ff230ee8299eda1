/* Reads a websocket route's `pubsub: {...}` (config_pubsub.c). */
#ifndef HP_CONFIG_CONFIG_PUBSUB_H
#define HP_CONFIG_CONFIG_PUBSUB_H

#include "hostpool/handler_kind.h"
#include "ws/pubsub.h"

/* The settings, checked (every problem reported through `c`); never NULL: free it with
 * hp__pubsub_options_free. */
hp__pubsub_options *hp__config_pubsub(hp_config_check *c, hp_config_node *settings);

#endif
