/* hostpool: many HTTP servers in one process. Include this one header. */
#ifndef HOSTPOOL_H
#define HOSTPOOL_H

#include "hostpool/errors.h"
#include "hostpool/request.h"
#include "hostpool/upgrade.h"
#include "hostpool/handler.h"
#include "hostpool/worker.h"
#include "hostpool/server.h"
#include "hostpool/engine.h"
#include "hostpool/events.h"
#include "hostpool/pool.h"
#include "hostpool/handler_kind.h"
#include "hostpool/config.h"
#include "hostpool/hooks.h"
#include "hostpool/websocket.h"

#endif
