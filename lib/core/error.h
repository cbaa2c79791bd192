/* Error reporting inside the library: a failing function records a detail
 * message for gm_last_error() and returns its status in one expression:
 *     return gm_fail(GM_ERR_INVALID_ARG, "gm_vae_create: latent_dim is %d", d); */
#ifndef GM_CORE_ERROR_H
#define GM_CORE_ERROR_H

#include "genmodel/common.h"

#if defined(__GNUC__)
#  define GM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define GM_PRINTF(f, a)
#endif

gm_status gm_fail(gm_status status, const char *fmt, ...) GM_PRINTF(2, 3);

/* Put who (a public call) in front of the message a failed internal call
 * left, and return s: lib/io explains a failure by its detail alone. A
 * NULL who leaves the message as it is. */
gm_status gm_refail(gm_status s, const char *who);

#endif
