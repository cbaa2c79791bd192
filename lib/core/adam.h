/* Adam and AdamW with bias correction, over a flat block of parameters. */
#ifndef GM_CORE_ADAM_H
#define GM_CORE_ADAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

/* One update at step t (1 for the first) of param, m, v (n) by grad (n),
 * in place. Matches torch.optim.Adam / AdamW. */
void gm_adam_update(float *restrict param, float *restrict m, float *restrict v, const float *restrict grad,
                    size_t n, const gm_optimizer_config *cfg, int64_t t);

/* The same update written to param_out, m_out, v_out, which overlap none
 * of the inputs: the old state survives, so that a caller can go back. */
void gm_adam_update_to(float *restrict param_out, float *restrict m_out, float *restrict v_out,
                       const float *restrict param, const float *restrict m, const float *restrict v,
                       const float *restrict grad, size_t n, const gm_optimizer_config *cfg, int64_t t);

/* Whether none of x (n) is infinite or NaN: the check before an update. */
bool gm_all_finite(const float *x, size_t n);

/* GM_OK, or GM_ERR_INVALID_ARG naming the bad field; who names the caller. */
gm_status gm_optimizer_config_check(const gm_optimizer_config *cfg, const char *who);

void gm_optimizer_config_default(gm_optimizer_config *cfg, float lr);

#endif
