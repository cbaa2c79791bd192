/* Adam (Kingma & Ba 2014) in the form torch.optim uses: the bias
 * corrections fold into the step size and the denominator. */
#include <float.h>
#include <math.h>

#include "adam.h"
#include "error.h"
#include "simd.h"

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

/* The scalars of one step, hoisted out of the loops. */
typedef struct adam_coeffs {
    float b1, b2, eps;
    float step;         /* lr over bias correction 1 */
    float inv_sqrt_c2;  /* 1 / sqrt(bias correction 2) */
    float decay;        /* AdamW's decoupled weight decay: 1 - lr wd */
    float l2;           /* Adam's weight decay, added to the gradient */
} adam_coeffs;

static adam_coeffs coeffs(const gm_optimizer_config *cfg, int64_t t)
{
    const float wd = cfg->weight_decay;
    return (adam_coeffs){
        .b1 = cfg->beta1,
        .b2 = cfg->beta2,
        .eps = cfg->eps,
        .step = (float)(cfg->lr / (1.0 - pow(cfg->beta1, (double)t))),
        .inv_sqrt_c2 = (float)(1.0 / sqrt(1.0 - pow(cfg->beta2, (double)t))),
        .decay = cfg->kind == GM_OPTIM_ADAMW ? 1.0f - cfg->lr * wd : 1.0f,
        .l2 = cfg->kind == GM_OPTIM_ADAM ? wd : 0.0f,
    };
}

static inline void adam_element(const adam_coeffs *k, float grad, float *p, float *m, float *v)
{
    float g = grad + k->l2 * *p;
    *m = k->b1 * *m + (1.0f - k->b1) * g;
    *v = k->b2 * *v + (1.0f - k->b2) * g * g;
    *p = *p * k->decay - k->step * *m / (sqrtf(*v) * k->inv_sqrt_c2 + k->eps);
}

/* The loops are built per vector width (simd.h); each array is reached
 * through one restrict pointer, so they vectorise. */
GM_VECTOR_CLONES static void adam_in_place(float *restrict param, float *restrict m, float *restrict v,
                                           const float *restrict grad, size_t n, const adam_coeffs *k)
{
    for (size_t i = 0; i < n; i++) {
        float pi = param[i], mi = m[i], vi = v[i];
        adam_element(k, grad[i], &pi, &mi, &vi);
        param[i] = pi, m[i] = mi, v[i] = vi;
    }
}

GM_VECTOR_CLONES static void adam_out_of_place(float *restrict param_out, float *restrict m_out,
                                               float *restrict v_out, const float *restrict param,
                                               const float *restrict m, const float *restrict v,
                                               const float *restrict grad, size_t n, const adam_coeffs *k)
{
    for (size_t i = 0; i < n; i++) {
        float pi = param[i], mi = m[i], vi = v[i];
        adam_element(k, grad[i], &pi, &mi, &vi);
        param_out[i] = pi, m_out[i] = mi, v_out[i] = vi;
    }
}

void gm_adam_update(float *restrict param, float *restrict m, float *restrict v, const float *restrict grad,
                    size_t n, const gm_optimizer_config *cfg, int64_t t)
{
    const adam_coeffs k = coeffs(cfg, t);
    adam_in_place(param, m, v, grad, n, &k);
}

void gm_adam_update_to(float *restrict param_out, float *restrict m_out, float *restrict v_out,
                       const float *restrict param, const float *restrict m, const float *restrict v,
                       const float *restrict grad, size_t n, const gm_optimizer_config *cfg, int64_t t)
{
    const adam_coeffs k = coeffs(cfg, t);
    adam_out_of_place(param_out, m_out, v_out, param, m, v, grad, n, &k);
}

GM_VECTOR_CLONES static int all_finite(const float *x, size_t n)
{
    int finite = 1;  /* an integer reduction without an early exit, so the loop vectorises */
    for (size_t i = 0; i < n; i++)
        finite &= fabsf(x[i]) <= FLT_MAX;  /* false for Inf and for NaN */
    return finite;
}

bool gm_all_finite(const float *x, size_t n)
{
    return all_finite(x, n);
}
