/* Status names and the thread-local detail message. No allocation here: the
 * message lives in a fixed per-thread buffer, so even GM_ERR_NO_MEMORY can
 * be explained. */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static _Thread_local char last_error[512];

const char *gm_strerror(gm_status status)
{
    switch (status) {
    case GM_OK: return "ok";
    case GM_ERR_INVALID_ARG: return "invalid argument";
    case GM_ERR_NO_MEMORY: return "out of memory";
    case GM_ERR_IO: return "input/output error";
    case GM_ERR_FORMAT: return "bad file format";
    case GM_ERR_VERSION: return "unsupported version";
    case GM_ERR_MISMATCH: return "model mismatch";
    case GM_ERR_STATE: return "invalid state";
    case GM_ERR_NUMERIC: return "non-finite value";
    case GM_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}

const char *gm_last_error(void)
{
    return last_error;
}

gm_status gm_fail(gm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

gm_status gm_refail(gm_status s, const char *who)
{
    char detail[sizeof last_error];
    snprintf(detail, sizeof detail, "%s", last_error);
    return who ? gm_fail(s, "%s: %s", who, detail) : s;
}
