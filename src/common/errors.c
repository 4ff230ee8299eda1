#include "hostpool/errors.h"

#include <uv.h>

const char *hp_strerror(int err)
{
    switch (err) {
#define HP_ERR_MSG(name, code, msg)                                                                \
    case code:                                                                                     \
        return msg;
        HP_ERRNO_MAP(HP_ERR_MSG)
#undef HP_ERR_MSG
    case 0:
        return "success";
    default:
        return uv_strerror(err);
    }
}

const char *hp_err_name(int err)
{
    switch (err) {
#define HP_ERR_NAME(name, code, msg)                                                               \
    case code:                                                                                     \
        return "HP_E" #name;
        HP_ERRNO_MAP(HP_ERR_NAME)
#undef HP_ERR_NAME
    case 0:
        return "OK";
    default:
        return uv_err_name(err);
    }
}
