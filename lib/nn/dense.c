#include <math.h>
#include <string.h>

#include "dense.h"
#include "core/act.h"
#include "core/blas.h"

void gm_dense_forward_share(float *y, const float *x, const float *W, const float *b,
                            int N, int D, int O, int o0, int o1, int act, float slope)
{
    const int width = o1 - o0;
    if (width < 1)
        return;
    if (N == 1)
        gm_gemv(false, width, D, 1.0f, W + (size_t)o0 * D, x, 0.0f, y + o0);
    else
        gm_gemm_ld(false, true, N, width, D, 1.0f, x, D, W + (size_t)o0 * D, D, 0.0f, y + o0, O);
    gm_act_forward_ld(y + o0, O, b ? b + o0 : NULL, N, width, act, slope);
}

void gm_dense_forward(float *y, const float *x, const float *W, const float *b,
                      int N, int D, int O, int act, float slope)
{
    gm_dense_forward_share(y, x, W, b, N, D, O, 0, O, act, slope);
}

void gm_dense_backward_share(float *dx, float *dW, float *db, bool accumulate, float *dy, const float *x,
                             const float *W, const float *y, int N, int D, int O, int o0, int o1, int act,
                             float slope)
{
    const int width = o1 - o0;
    if (width < 1) {
        if (dx)
            memset(dx, 0, (size_t)N * D * sizeof *dx);
        return;
    }
    /* written over, the gradients need no zeroing pass of their own: the
     * product with beta 0 clears dW as it goes */
    if (db && !accumulate)
        memset(db + o0, 0, (size_t)width * sizeof *db);
    gm_act_backward_ld(dy + o0, O, db ? db + o0 : NULL, y + o0, N, width, act, slope);
    if (dW)
        gm_gemm_ld(true, false, width, D, N, 1.0f, dy + o0, O, x, D, accumulate ? 1.0f : 0.0f,
                   dW + (size_t)o0 * D, D);
    if (dx)
        gm_gemm_ld(false, false, N, D, width, 1.0f, dy + o0, O, W + (size_t)o0 * D, D, 0.0f, dx, D);
}

void gm_dense_init(gm_rng *rng, float *W, float *b, int D, int O)
{
    /* kaiming_uniform(a=sqrt(5)) reduces to this bound, and so does the bias's */
    float bound = 1.0f / sqrtf((float)D);
    gm_rng_uniform(rng, W, (size_t)O * D, -bound, bound);
    gm_rng_uniform(rng, b, (size_t)O, -bound, bound);
}
