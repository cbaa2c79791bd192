/* Adam (Kingma & Ba 2014) in the form torch.optim uses: the bias
 * corrections fold into the step size and the denominator. */
#include <float.h>
#include <math.h>

#include "adam.h"
#include "error.h"

void gm_optimizer_config_default(gm_optimizer_config *cfg, float lr)
{
    cfg->kind = GM_OPTIM_ADAM;
    cfg->lr = lr;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
    cfg->weight_decay = 0.0f;
}

gm_status gm_optimizer_config_check(const gm_optimizer_config *cfg, const char *who)
{
    if (cfg->kind != GM_OPTIM_ADAM && cfg->kind != GM_OPTIM_ADAMW)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown optimizer kind %d", who, (int)cfg->kind);
    if (!(cfg->lr > 0.0f) || !isfinite(cfg->lr))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: lr must be > 0 (got %g)", who, cfg->lr);
    if (!(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f) || !(cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: betas must be in [0, 1) (got %g, %g)", who,
                       cfg->beta1, cfg->beta2);
    if (!(cfg->eps > 0.0f) || !isfinite(cfg->eps))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: eps must be > 0 (got %g)", who, cfg->eps);
    if (!(cfg->weight_decay >= 0.0f) || !isfinite(cfg->weight_decay))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: weight_decay must be >= 0 (got %g)", who,
                       cfg->weight_decay);
    return GM_OK;
}

int gm_adam_update(float *restrict param_out, float *restrict m_out, float *restrict v_out,
                   const float *restrict param, const float *restrict m, const float *restrict v,
                   const float *restrict grad, size_t n, const gm_optimizer_config *cfg, int64_t t)
{
    const float b1 = cfg->beta1, b2 = cfg->beta2, wd = cfg->weight_decay, eps = cfg->eps;
    const float step = (float)(cfg->lr / (1.0 - pow(b1, (double)t)));
    const float inv_sqrt_c2 = (float)(1.0 / sqrt(1.0 - pow(b2, (double)t)));
    const float decay = cfg->kind == GM_OPTIM_ADAMW ? 1.0f - cfg->lr * wd : 1.0f;
    const float l2 = cfg->kind == GM_OPTIM_ADAM ? wd : 0.0f;
    int finite = 1;  /* an integer reduction, so the loop still vectorises */
    for (size_t i = 0; i < n; i++) {
        finite &= fabsf(grad[i]) <= FLT_MAX;  /* false for Inf and for NaN */
        float g = grad[i] + l2 * param[i];
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        param_out[i] = param[i] * decay - step * mi / (sqrtf(vi) * inv_sqrt_c2 + eps);
        m_out[i] = mi;
        v_out[i] = vi;
    }
    return finite;
}
