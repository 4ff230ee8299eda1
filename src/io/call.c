#include "io/call.h"

#include "io/engine_call.h"
#include "io/worker.h"

void hp__call_control(hp__call *call, hp__call_fn on_control)
{
    call->on_control = on_control;
    hp__worker_send_call(call);
}

static void returned(void *arg, bool on_worker)
{
    hp__call *call = arg;
    call->back(call, on_worker);
}

void hp__call_return(hp__call *call, hp__call_back_fn back)
{
    call->back = back;
    hp__engine_call_worker(call->engine, call->worker, returned, call);
}
